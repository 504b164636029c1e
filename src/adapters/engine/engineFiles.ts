// Where a data folder's engine can be reached, and the secret that proves a client is its user:
// `<data>/engine/` (mode 0700) holds the socket, the token (mode 0600) and the engine's log. A
// folder or token that others could read or write is refused, naming it: anyone who can replace
// the socket can impersonate the engine, and anyone who can read the token can drive it.
import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";

const PRIVATE_FOLDER = 0o700;
const PRIVATE_FILE = 0o600;
/** Unix socket paths longer than this do not fit in sockaddr_un (108 bytes with the final NUL). */
const MAX_SOCKET_PATH = 100;

export class EngineFolderError extends Error {}

export interface EngineFiles {
  folder: string;
  socket: string;
  token: string;
  log: string;
}

export function engineFiles(dataDir: string): EngineFiles {
  const folder = path.join(dataDir, "engine");
  return { folder, socket: socketPath(dataDir, folder), token: path.join(folder, "token"), log: path.join(folder, "engine.log") };
}

/** The socket in the engine folder, or (a deep data folder) in a private folder of the user's under the temp folder. */
function socketPath(dataDir: string, folder: string): string {
  const digest = createHash("sha256").update(path.resolve(dataDir)).digest("hex").slice(0, 16);
  if (process.platform === "win32") return `\\\\.\\pipe\\redgreen-engine-${digest}`;
  const inFolder = path.join(folder, "engine.sock");
  if (Buffer.byteLength(inFolder) <= MAX_SOCKET_PATH) return inFolder;
  return path.join(os.tmpdir(), `redgreen-${os.userInfo().uid}`, `${digest}.sock`);
}

/** Creates the folders the engine's files live in (0700), or refuses one that others can reach. */
export async function preparePrivateFolders(files: EngineFiles): Promise<void> {
  for (const folder of new Set([files.folder, path.dirname(files.socket)])) {
    if (process.platform === "win32" && folder.startsWith("\\\\.\\pipe")) continue;
    await fs.mkdir(folder, { recursive: true, mode: PRIVATE_FOLDER });
    await checkPrivate(folder, "folder");
  }
}

/** Refuses a folder or file not owned by this user or open to others (group or world bits). */
export async function checkPrivate(target: string, kind: "folder" | "file"): Promise<void> {
  if (process.platform === "win32") return;
  const stat = await fs.lstat(target);
  if (kind === "folder" ? !stat.isDirectory() : !stat.isFile()) throw new EngineFolderError(`${target} is not a ${kind}: Redgreen's engine will not use it`);
  if (stat.uid !== os.userInfo().uid) throw new EngineFolderError(`${target} belongs to another user (uid ${stat.uid}): Redgreen's engine will not use it`);
  if ((stat.mode & 0o077) !== 0) {
    throw new EngineFolderError(`${target} can be reached by other users (mode ${(stat.mode & 0o777).toString(8)}): Redgreen's engine needs it private (chmod ${kind === "folder" ? "700" : "600"} it)`);
  }
}

/** The user's token: read, or created once (0600, exclusively, so two engines starting agree on one). */
export async function engineToken(files: EngineFiles): Promise<string> {
  await preparePrivateFolders(files);
  // Written whole under another name, then linked into place: a client starting at the same
  // moment sees no token or the whole one, never a half-written file.
  const draft = `${files.token}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await fs.writeFile(draft, randomBytes(32).toString("hex"), { flag: "wx", mode: PRIVATE_FILE });
  try {
    await fs.link(draft, files.token);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await fs.rm(draft, { force: true });
  }
  await checkPrivate(files.token, "file");
  const token = (await fs.readFile(files.token, "utf8")).trim();
  if (token.length < 32) throw new EngineFolderError(`${files.token} is not a Redgreen token: delete it and Redgreen makes a new one`);
  return token;
}

/** Compares tokens in constant time. */
export function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
