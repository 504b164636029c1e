import { promises as fs } from "node:fs";
import path from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import type { GitPort } from "../../core/gitops/git";

// Git through simple-git (the git binary on PATH). Commits made for the user carry the user's
// own identity; only where git has none configured (a fresh machine) does Redgreen name itself,
// rather than fail.
const FALLBACK_IDENTITY = ["-c", "user.name=Redgreen", "-c", "user.email=redgreen@localhost"];

function git(dir: string): SimpleGit {
  return simpleGit({ baseDir: dir, maxConcurrentProcesses: 2 });
}

async function identity(repo: SimpleGit): Promise<string[]> {
  const email = await repo.raw(["config", "--get", "user.email"]).catch(() => "");
  return email.trim() ? [] : FALLBACK_IDENTITY;
}

async function head(repo: SimpleGit): Promise<string> {
  return (await repo.revparse(["HEAD"])).trim();
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
    if ((await repo.raw(["status", "--porcelain", "--", file])).trim() === "") return head(repo);
    await repo.add(["--", file]);
    // --only with a pathspec: other staged changes of the user are left out of this commit.
    await repo.raw([...(await identity(repo)), "commit", "--only", "-m", message, "--", file]);
    return head(repo);
  },

  async branches(dir) {
    return (await git(dir).branchLocal()).all;
  },

  async currentBranch(dir) {
    const name = (await git(dir).raw(["branch", "--show-current"])).trim();
    return name || undefined;
  },

  async createBranch(dir, name, from) {
    await git(dir).raw(["branch", name, from]);
  },

  async deleteBranch(dir, name) {
    await git(dir).raw(["branch", "-D", name]);
  },

  async addWorktree(dir, worktree, branch) {
    await fs.mkdir(path.dirname(worktree), { recursive: true });
    await git(dir).raw(["worktree", "add", worktree, branch]);
  },

  async removeWorktree(dir, worktree) {
    await git(dir).raw(["worktree", "remove", "--force", worktree]);
  },

  async worktrees(dir) {
    const text = await git(dir).raw(["worktree", "list", "--porcelain"]);
    return text
      .split("\n\n")
      .filter((block) => block.trim())
      .map((block) => {
        const lines = block.split("\n");
        const worktree = lines.find((l) => l.startsWith("worktree "))!.slice(9);
        const branch = lines.find((l) => l.startsWith("branch "))?.slice(7).replace(/^refs\/heads\//, "");
        return { path: worktree, branch };
      });
  },

  async commitAll(worktree, message) {
    const repo = git(worktree);
    await repo.add(["-A"]);
    if ((await repo.raw(["diff", "--cached", "--name-only"])).trim() === "") return undefined;
    await repo.raw([...(await identity(repo)), "commit", "-m", message]);
    return head(repo);
  },

  async merge(worktree, from, message) {
    const repo = git(worktree);
    const before = await head(repo);
    // Already merged (`from` is an ancestor of HEAD): nothing to do. simple-git hides exit codes,
    // so this compares the merge base with `from` instead of asking --is-ancestor.
    const base = (await repo.raw(["merge-base", from, "HEAD"])).trim();
    if (base === (await repo.revparse([from])).trim()) return { merged: true, commit: before };
    // simple-git does not reject every failed merge (a conflict is reported on stdout), so the
    // outcome is read from the repository itself: unmerged paths, or a new HEAD.
    const failure = await repo.raw([...(await identity(repo)), "merge", "--no-ff", "-m", message, from]).then(() => undefined, (error: Error) => error);
    const conflicts = (await repo.raw(["diff", "--name-only", "--diff-filter=U"])).split("\n").filter(Boolean);
    if (conflicts.length > 0) {
      await repo.raw(["merge", "--abort"]);
      return { merged: false, conflicts };
    }
    const after = await head(repo);
    if (failure || after === before) throw failure ?? new Error(`git merge of ${from} made no commit`);
    return { merged: true, commit: after };
  },

  async remotes(dir) {
    return (await git(dir).getRemotes()).map((remote) => remote.name);
  },

  async push(dir, remote, branch) {
    await git(dir).push(remote, `refs/heads/${branch}:refs/heads/${branch}`);
  },

  async exclude(dir, pattern) {
    const file = path.join((await git(dir).revparse(["--absolute-git-dir"])).trim(), "info", "exclude");
    const current = await fs.readFile(file, "utf8").catch(() => "");
    if (current.split("\n").includes(pattern)) return;
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.appendFile(file, `${current && !current.endsWith("\n") ? "\n" : ""}${pattern}\n`);
  },
};
