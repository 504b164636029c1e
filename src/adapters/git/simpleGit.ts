import path from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import type { GitPort } from "../../core/gitops/git";

// Git through simple-git (the git binary on PATH). Commits made for the user carry the user's
// own identity; only where git has none configured (a fresh machine) does Redgreen name itself,
// rather than fail the approval.
const FALLBACK_IDENTITY = ["-c", "user.name=Redgreen", "-c", "user.email=redgreen@localhost"];

function git(dir: string): SimpleGit {
  return simpleGit({ baseDir: dir, maxConcurrentProcesses: 2 });
}

export const simpleGitPort: GitPort = {
  async isRepositoryRoot(dir) {
    try {
      const top = await git(dir).revparse(["--show-toplevel"]);
      return path.resolve(top.trim()) === path.resolve(dir);
    } catch {
      return false;
    }
  },

  async init(dir) {
    await git(dir).init();
  },

  async commitFile(dir, file, message) {
    const repo = git(dir);
    if ((await repo.raw(["status", "--porcelain", "--", file])).trim() === "") return (await repo.revparse(["HEAD"])).trim();
    await repo.add(["--", file]);
    const email = await repo.raw(["config", "--get", "user.email"]).catch(() => "");
    const identity = email.trim() ? [] : FALLBACK_IDENTITY;
    // --only with a pathspec: other staged changes of the user are left out of this commit.
    await repo.raw([...identity, "commit", "--only", "-m", message, "--", file]);
    return (await repo.revparse(["HEAD"])).trim();
  },
};
