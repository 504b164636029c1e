/** A file a diff names. Renames are reported as a deletion and an addition. */
export interface FileChange {
  status: "added" | "modified" | "deleted";
  /** Relative to the repository's top, with forward slashes. */
  path: string;
}

export interface CommitInfo {
  hash: string;
  parents: string[];
  subject: string;
  author: string;
  date: Date;
  /** The message's trailers (e.g. "Redgreen-Agent" → "developer"); the last value of a key wins. */
  trailers: Record<string, string>;
}

/** What the core asks of git; the simple-git adapter implements it. Paths are absolute. */
export interface GitPort {
  /** True when `dir` is the top of a git work tree (not merely inside one). */
  isRepositoryRoot(dir: string): Promise<boolean>;
  init(dir: string): Promise<void>;
  /**
   * Commits exactly `file` (relative to `dir`) with `message` and returns the commit's hash;
   * when the file has no change to commit, returns HEAD's hash instead.
   */
  commitFile(dir: string, file: string, message: string): Promise<string>;
  branches(dir: string): Promise<string[]>;
  currentBranch(dir: string): Promise<string | undefined>;
  createBranch(dir: string, name: string, from: string): Promise<void>;
  deleteBranch(dir: string, name: string): Promise<void>;
  /** Checks `branch` out in a new worktree at `path`; the repository's own work tree is not touched. */
  addWorktree(dir: string, path: string, branch: string): Promise<void>;
  /** Without `force`, git refuses to remove a worktree with uncommitted or untracked changes. */
  removeWorktree(dir: string, path: string, options?: { force?: boolean }): Promise<void>;
  worktrees(dir: string): Promise<{ path: string; branch?: string }[]>;
  /**
   * Stages everything in `worktree` and commits it; returns the hash, or undefined if nothing
   * changed (with `allowEmpty`, an empty commit is made instead).
   */
  commitAll(worktree: string, message: string, options?: { allowEmpty?: boolean }): Promise<string | undefined>;
  /**
   * Merges `from` into the branch checked out in `worktree` (never fast-forward, never forced).
   * On a conflict the merge is aborted, leaving both branches as they were.
   */
  merge(worktree: string, from: string, message: string): Promise<{ merged: true; commit: string } | { merged: false; conflicts: string[] }>;
  remotes(dir: string): Promise<string[]>;
  push(dir: string, remote: string, branch: string): Promise<void>;
  /** Adds `pattern` to the repository's own exclude file (not the user's .gitignore). */
  exclude(dir: string, pattern: string): Promise<void>;
  /** The commit `ref` names, or undefined when it names none. */
  resolve(dir: string, ref: string): Promise<string | undefined>;
  /** The best common ancestor of two commits, or undefined when they share no history. */
  mergeBase(dir: string, a: string, b: string): Promise<string | undefined>;
  /**
   * The files whose content differs between the trees of commits `from` and `to`; with `from`
   * undefined, every file of `to` (as if it were a root commit).
   */
  diffNameStatus(dir: string, from: string | undefined, to: string): Promise<FileChange[]>;
  /** The content of `file` (relative to the repository's top) at `ref`, or undefined where no such file is. */
  showFile(dir: string, ref: string, file: string): Promise<string | undefined>;
  /** The commits reachable from `to` and not from `from`, newest first. */
  log(dir: string, from: string, to: string): Promise<CommitInfo[]>;
  /** Which of `files` (relative to `dir`) git ignores: a write there would never reach a commit or a review. */
  ignored(dir: string, files: string[]): Promise<string[]>;
  /** The repository's configured hooks folder (`core.hooksPath`), relative to `dir` when inside it. */
  hooksPath(dir: string): Promise<string | undefined>;
  /**
   * The hook `name` git would run for a commit in `worktree` of the repository at `root` (its
   * hooks folder or `core.hooksPath`), when there is one it could run; read from `root`, which no
   * agent or test run can change.
   */
  hookFile(root: string, worktree: string, name: string): Promise<string | undefined>;
  /** The repository's git folder (shared by its worktrees), absolute. */
  commonDir(root: string): Promise<string>;
  /** Files of `worktree` that differ from commit `since`, untracked ones included (not ignored ones). */
  changedSince(worktree: string, since: string): Promise<string[]>;
  /** Stages every change in `worktree` (what a commit would take), as a pre-commit hook expects. */
  stageAll(worktree: string): Promise<void>;
  /** Moves the branch of `worktree` back to `commit`, and its files with it: tracked and untracked (not ignored ones). */
  resetHard(worktree: string, commit: string): Promise<void>;
  /** Checks `ref` out, detached, in a new worktree at `path`: a branch checked out elsewhere can be read this way. */
  addDetachedWorktree(dir: string, path: string, ref: string): Promise<void>;
}
