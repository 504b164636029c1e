// One process at a time, decided by the kernel: on Linux, the holder listens on an abstract socket
// with the given name, which only one process can bind and which is freed the moment that process
// dies, so two processes starting together (or both taking over from a dead one) never both win.
// Other systems have no abstract sockets: there the callers' own files decide (see each caller),
// with isAlive to tell a holder that is gone.
import { createHash } from "node:crypto";
import net from "node:net";

export type Exclusive = { release(): void } | "taken" | "unsupported";

/** Holds `name` (any string; hashed into the socket's name) until release or exit. */
export async function holdExclusive(name: string): Promise<Exclusive> {
  if (process.platform !== "linux") return "unsupported";
  const server = net.createServer((socket) => socket.destroy());
  const address = `\0redgreen-${createHash("sha256").update(name).digest("hex")}`;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ path: address }, () => resolve());
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") return "taken";
    throw error;
  }
  server.unref();
  return { release: () => server.close() };
}

/** Whether a process with this id exists (one of another user's counts too). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
