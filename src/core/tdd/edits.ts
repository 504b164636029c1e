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

// Spellings Windows reads as another file: a trailing dot or space ("package.json."), an 8.3
// short name ("PACKAG~1.JSO", "GIT~1"), an alternate data stream ("a.js:x") and device names.
const WINDOWS_ALIAS = /[. ]$|~\d|:/;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com\d|lpt\d|conin\$|conout\$)(\..*)?$/i;

/** The path normalized inside the worktree, or why it is refused. Every later rule sees only this form. */
export function normalizeEditPath(raw: string): { path: string } | { refused: string } {
  const posix = raw.replace(/\\/g, "/");
  if (path.posix.isAbsolute(posix) || /^[A-Za-z]:/.test(posix)) return { refused: `${raw} is an absolute path; edits are relative to the worktree` };
  if (posix.endsWith("/") || posix.includes("\0")) return { refused: `${raw} is not a file path` };
  const normalized = path.posix.normalize(posix);
  if (normalized === "." || normalized.startsWith("../") || normalized === "..") return { refused: `${raw} is outside the worktree` };
  const parts = normalized.split("/");
  if (parts.some((part) => part.toLowerCase() === ".git")) return { refused: `${raw} is inside .git` };
  if (parts.some((part) => WINDOWS_ALIAS.test(part) || WINDOWS_DEVICE.test(part))) return { refused: `${raw} is a spelling that Windows reads as another file (a trailing dot or space, a short name, a stream or a device)` };
  return { path: normalized };
}

export type EditRole = "tester" | "developer";

/**
 * What decides how tests run, in one place: runner, build and package-manager configuration the
 * test command reads. The Developer may not change any of it (a narrower run is a fake green).
 */
export const RUNNER_CONFIG_PATHS = [
  "**/jest.config.*", "**/vitest.config.*", "**/vitest.workspace.*", "**/vite.config.*", "**/.mocharc*", "**/karma.conf.*", "**/.nycrc*", "**/.c8rc*",
  "**/babel.config.*", "**/.babelrc*", "**/.swcrc", "**/tsconfig*.json", "**/jsconfig*.json", "**/.npmrc", "**/.yarnrc*", "**/.pnpmfile.cjs", "**/bunfig.toml",
  "**/pytest.ini", "**/conftest.py", "**/tox.ini", "**/pyproject.toml", "**/setup.cfg", "**/noxfile.py", "**/.coveragerc", "**/go.work",
];

/** Files git itself would act on (hooks, filters, submodules): no agent writes them. */
export const GIT_EXECUTED_PATHS = ["**/.gitattributes", ".gitmodules", ".lfsconfig", ".husky/**", ".githooks/**"];

/** Files that act later, outside the test run (the editor's and Redgreen's own settings): no agent writes them. */
export const ACTS_LATER_PATHS = [".vscode/**", ".redgreen/**", ".devcontainer/**"];

/**
 * Files that act later, outside Redgreen and its sandbox: CI definitions, which a CI server runs
 * with its secrets. A Developer may write them (a ticket may be about CI), but the review says so
 * and Approve and Merge asks for an explicit yes.
 */
export const FLAGGED_PATHS = [
  ".github/workflows/**", ".github/actions/**", ".gitlab-ci.yml", ".gitlab/ci/**", ".circleci/**", "azure-pipelines.yml", ".azure-pipelines/**",
  "Jenkinsfile", "bitbucket-pipelines.yml", ".travis.yml", ".drone.yml", ".woodpecker.yml", ".woodpecker/**", ".buildkite/**", "appveyor.yml", ".appveyor.yml",
];

/** Which of `files` act later (FLAGGED_PATHS): what the review must point out. */
export function flaggedFiles(files: readonly string[]): string[] {
  return files.filter((file) => isTestPath(file, FLAGGED_PATHS));
}

/** The parts of package.json that decide how tests run: every script, module resolution, runner settings. */
function testSettings(packageJson: string | undefined): string {
  try {
    const parsed = JSON.parse(packageJson ?? "{}") as Record<string, unknown>;
    return JSON.stringify(["scripts", "type", "imports", "exports", "main", "jest", "mocha", "c8", "nyc", "ava", "vitest"].map((key) => parsed[key]));
  } catch {
    return "unreadable";
  }
}

/** Whether a Developer's new package.json changes how tests run (its other parts are the Developer's). */
export function changesTestSettings(before: string | undefined, after: string | undefined): boolean {
  return testSettings(before) !== testSettings(after);
}

/**
 * The worktree's files that the test command or a package.json script names (a `run-tests.sh`,
 * a `scripts/test.js`): changing one changes how tests run.
 */
export function filesTestsRun(testCommand: string, packageJson: string | undefined, tree: readonly string[]): string[] {
  let scripts: string[] = [];
  try {
    scripts = Object.values((JSON.parse(packageJson ?? "{}") as { scripts?: Record<string, unknown> }).scripts ?? {}).filter((v): v is string => typeof v === "string");
  } catch {
    // unreadable: only the command itself
  }
  const files = new Set(tree);
  const named = [testCommand, ...scripts].flatMap((line) => line.split(/[\s;&|<>()=]+/)).map((word) => word.replace(/^["']|["']$/g, "").replace(/^\.\//, ""));
  return [...new Set(named.filter((word) => files.has(word)))];
}

export type EditRules = {
  testPaths: readonly string[];
  /** Files the test command runs (filesTestsRun) and the repository's configured hooks path, if any. */
  protectedFiles?: readonly string[];
};

/** Why `role` may not write `file` (normalized), or undefined. */
function refusal(file: string, role: EditRole, rules: EditRules): string | undefined {
  if (isTestPath(file, GIT_EXECUTED_PATHS)) return `no agent may change ${file}: git runs or applies it (hooks, filters, submodules)`;
  if (isTestPath(file, ACTS_LATER_PATHS)) return `no agent may change ${file}: it acts later, in the editor or in Redgreen`;
  if (role === "tester") return isTestPath(file, rules.testPaths) && !isTestPath(file, FLAGGED_PATHS) ? undefined : `the Tester writes only test files; ${file} is not one (test paths: ${rules.testPaths.join(", ")})`;
  if (isTestPath(file, rules.testPaths)) return `the Developer may not change the test file ${file}`;
  if (isTestPath(file, RUNNER_CONFIG_PATHS) || (rules.protectedFiles ?? []).some((p) => file === p || file.startsWith(`${p}/`))) return `the Developer may not change how tests run (${file})`;
  return undefined;
}

/** The batch with normalized paths, and why it may not be applied by `role` (empty: it may). */
export function checkEdits(edits: readonly FileEdit[], role: EditRole, rules: EditRules): { edits: FileEdit[]; refused: string[] } {
  const checked: FileEdit[] = [];
  const refused: string[] = [];
  for (const edit of edits) {
    const normalized = normalizeEditPath(edit.path);
    const why = "refused" in normalized ? normalized.refused : refusal(normalized.path, role, rules);
    if (why) refused.push(why);
    else checked.push({ ...edit, path: (normalized as { path: string }).path });
  }
  return { edits: checked, refused };
}

/** Why this batch of edits may not be applied by `role`, or an empty list. */
export function refuseEdits(edits: readonly FileEdit[], role: EditRole, testPaths: readonly string[]): string[] {
  return checkEdits(edits, role, { testPaths }).refused;
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
      const normalized = normalizeEditPath(edit.path);
      if ("refused" in normalized) throw new Error(normalized.refused);
      const file = normalized.path;
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
