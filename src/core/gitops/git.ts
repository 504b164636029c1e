/** What the core asks of git; the simple-git adapter implements it. */
export interface GitPort {
  /** True when `dir` is the top of a git work tree (not merely inside one). */
  isRepositoryRoot(dir: string): Promise<boolean>;
  init(dir: string): Promise<void>;
  /**
   * Commits exactly `file` (relative to `dir`) with `message` and returns the commit's hash;
   * when the file has no change to commit, returns HEAD's hash instead.
   */
  commitFile(dir: string, file: string, message: string): Promise<string>;
}
