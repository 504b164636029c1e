import path from "node:path";
import * as z from "zod";

// Agents change files only through edits the engine applies inside the ticket's worktree. Each
// role has its side of the line: the Tester writes test files only, the Developer never touches
// them. A refused edit says which path and why; nothing of a refused batch is written.

export const fileEditSchema = z.object({
  /** Relative to the worktree, with forward slashes. */
  path: z.string().trim().min(1).max(300),
  /** The whole new content of the file; absent to delete it. */
  content: z.string().max(60_000).optional(),
});
export type FileEdit = z.infer<typeof fileEditSchema>;

/** The files of one worktree, as the engine may touch them (the adapter keeps them inside it). */
export interface WorktreeFiles {
  read(relativePath: string): Promise<string | undefined>;
  write(relativePath: string, content: string): Promise<void>;
  remove(relativePath: string): Promise<void>;
  /** Relative paths of the files (not .git, not dependency folders), for the agents' view. */
  list(): Promise<string[]>;
}

export { DEFAULT_TEST_PATHS } from "../settings";

/** macOS and Windows file systems ignore case: there `Test/x.js` is `test/x.js`, and `.GIT` is `.git`. */
const CASE_INSENSITIVE = process.platform === "darwin" || process.platform === "win32";

export function globToRegExp(glob: string, ignoreCase = CASE_INSENSITIVE): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      // "**/" matches any number of folders, including none; a trailing "**" matches the rest.
      source += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += glob[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else source += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, ignoreCase ? "i" : "");
}

export function isTestPath(relativePath: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => globToRegExp(pattern).test(relativePath));
}

/** The path normalized inside the worktree, or why it is refused. */
export function normalizeEditPath(raw: string): { path: string } | { refused: string } {
  const posix = raw.replace(/\\/g, "/");
  if (path.posix.isAbsolute(posix) || /^[A-Za-z]:/.test(posix)) return { refused: `${raw} is an absolute path; edits are relative to the worktree` };
  const normalized = path.posix.normalize(posix);
  if (normalized === "." || normalized.startsWith("../") || normalized === "..") return { refused: `${raw} is outside the worktree` };
  if (normalized.split("/").some((part) => part.toLowerCase() === ".git")) return { refused: `${raw} is inside .git` };
  return { path: normalized };
}

export type EditRole = "tester" | "developer";

/** How the tests run: the Developer may not change these either (a narrower run is a fake green). */
export const RUNNER_CONFIG_PATHS = ["**/jest.config.*", "**/vitest.config.*", "**/vitest.workspace.*", "**/.mocharc*", "**/pytest.ini", "**/conftest.py", "**/tox.ini", "**/.nycrc*", "**/.c8rc*", "**/karma.conf.*"];

/** The parts of package.json that decide how tests run. */
function testSettings(packageJson: string | undefined): string {
  try {
    const parsed = JSON.parse(packageJson ?? "{}") as { scripts?: Record<string, unknown>; jest?: unknown; mocha?: unknown; c8?: unknown; nyc?: unknown };
    const scripts = Object.entries(parsed.scripts ?? {}).filter(([name]) => /^(pre|post)?test|coverage/.test(name));
    return JSON.stringify([scripts, parsed.jest, parsed.mocha, parsed.c8, parsed.nyc]);
  } catch {
    return "unreadable";
  }
}

/** Whether a Developer's new package.json changes how tests run (its other parts are the Developer's). */
export function changesTestSettings(before: string | undefined, after: string | undefined): boolean {
  return testSettings(before) !== testSettings(after);
}

/** Why this batch of edits may not be applied by `role`, or an empty list. */
export function refuseEdits(edits: readonly FileEdit[], role: EditRole, testPaths: readonly string[]): string[] {
  const problems: string[] = [];
  for (const edit of edits) {
    const normalized = normalizeEditPath(edit.path);
    if ("refused" in normalized) problems.push(normalized.refused);
    else if (role === "developer" && isTestPath(normalized.path, testPaths)) problems.push(`the Developer may not change the test file ${normalized.path}`);
    else if (role === "developer" && isTestPath(normalized.path, RUNNER_CONFIG_PATHS)) problems.push(`the Developer may not change how tests run (${normalized.path})`);
    else if (role === "tester" && !isTestPath(normalized.path, testPaths)) problems.push(`the Tester writes only test files; ${normalized.path} is not one (test paths: ${testPaths.join(", ")})`);
  }
  return problems;
}

/** Applies checked edits and returns how to put every touched file back as it was. */
export async function applyEdits(files: WorktreeFiles, edits: readonly FileEdit[]): Promise<{ changed: string[]; undo(): Promise<void> }> {
  const before = new Map<string, string | undefined>();
  const undo = async () => {
    for (const [file, content] of before) {
      if (content === undefined) await files.remove(file);
      else await files.write(file, content);
    }
  };
  try {
    for (const edit of edits) {
      const file = (normalizeEditPath(edit.path) as { path: string }).path;
      if (!before.has(file)) before.set(file, await files.read(file));
      if (edit.content === undefined) await files.remove(file);
      else await files.write(file, edit.content);
    }
  } catch (error) {
    await undo();
    throw error;
  }
  return { changed: [...before.keys()], undo };
}
