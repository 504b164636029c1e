import { promises as fs } from "node:fs";
import path from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import type { CommitInfo, FileChange, GitPort } from "../../core/gitops/git";

// Git through simple-git (the git binary on PATH). Commits made for the user carry the user's
// own identity; only where git has none configured (a fresh machine) does Redgreen name itself,
// rather than fail.
const FALLBACK_IDENTITY = ["-c", "user.name=Redgreen", "-c", "user.email=redgreen@localhost"];

// Git runs with a clean environment (no editor or secret variables, no SSH agent: agents' git never
// needs credentials; only a push, which the Architect makes, gets the user's) and without the
// file-system monitor, which a repository's config could point at a program of its choosing.
const GIT_ENV = ["PATH", "HOME", "USER", "LANG", "TMPDIR", "SystemRoot", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "ComSpec", "PATHEXT", "XDG_CONFIG_HOME"];

function gitEnv(withCredentials: boolean): Record<string, string> {
  const env: Record<string, string> = { LC_ALL: "C" };
  for (const name of GIT_ENV) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  if (withCredentials && process.env.SSH_AUTH_SOCK) env.SSH_AUTH_SOCK = process.env.SSH_AUTH_SOCK;
  return env;
}

/** Files git reads as instructions wherever they lie in a work tree. */
const GIT_CONTROL_FILES = new Set([".gitignore", ".gitattributes"]);

function git(dir: string, options: { credentials?: boolean; hooksOff?: string } = {}): SimpleGit {
  const config = ["core.fsmonitor=false", ...(options.hooksOff ? [`core.hooksPath=${options.hooksOff}`] : [])];
  return simpleGit({ baseDir: dir, maxConcurrentProcesses: 2, config, unsafe: { allowUnsafeFsMonitor: true, allowUnsafeHooksPath: true } }).env(gitEnv(options.credentials ?? false));
}

/** A folder's git folder does not move while Redgreen runs: asked once per folder (a git process per commit saved). */
const commonDirs = new Map<string, Promise<string>>();

function commonDir(dir: string): Promise<string> {
  const key = path.resolve(dir);
  let found = commonDirs.get(key);
  if (!found) {
    found = git(dir).raw(["rev-parse", "--git-common-dir"]).then((out) => path.resolve(dir, out.trim()));
    found.catch(() => commonDirs.delete(key));
    commonDirs.set(key, found);
  }
  return found;
}

/** Ignored files of the work tree that git itself obeys (an ignored .gitignore or .gitattributes). */
async function ignoredControlFiles(repo: SimpleGit): Promise<string[]> {
  const ignored = (await repo.raw(["ls-files", "-z", "--others", "--ignored", "--exclude-standard"])).split("\0");
  return ignored.filter((file) => GIT_CONTROL_FILES.has(path.posix.basename(file)));
}

/**
 * Git for what agents' work goes through (commits, merges, pushes): no hook runs, since a hook
 * would run the agents' code outside the sandbox. The engine runs the pre-commit hook itself,
 * sandboxed. The folder named is inside the git folder and never created: no hook is found there.
 */
async function withoutHooks(dir: string, options: { credentials?: boolean } = {}): Promise<SimpleGit> {
  return git(dir, { ...options, hooksOff: path.join(await commonDir(dir), "redgreen-no-hooks") });
}

async function identity(repo: SimpleGit): Promise<string[]> {
  const email = await repo.raw(["config", "--get", "user.email"]).catch(() => "");
  return email.trim() ? [] : FALLBACK_IDENTITY;
}

async function head(repo: SimpleGit): Promise<string> {
  return (await repo.revparse(["HEAD"])).trim();
}

// Unit and record separators: they cannot occur in the fields git prints for a commit.
const FIELD = "\x1f";
const RECORD = "\x1e";
const LOG_FORMAT = ["%H", "%P", "%an", "%aI", "%s", "%(trailers:only,unfold)"].join("%x1f") + "%x1e";

const STATUS: Record<string, FileChange["status"]> = { A: "added", M: "modified", T: "modified", D: "deleted" };

/** `git diff --name-status -z` output: status and path, NUL-separated, in pairs. */
function parseNameStatus(text: string): FileChange[] {
  const fields = text.split("\0");
  const changes: FileChange[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const status = STATUS[fields[i]!.charAt(0)];
    if (status && fields[i + 1]) changes.push({ status, path: fields[i + 1]! });
  }
  return changes;
}

function parseLog(text: string): CommitInfo[] {
  return text
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ""))
    .filter((record) => record.trim())
    .map((record) => {
      const [hash = "", parents = "", author = "", date = "", subject = "", trailerText = ""] = record.split(FIELD);
      const trailers: Record<string, string> = {};
      for (const line of trailerText.split("\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) trailers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
      return { hash, parents: parents.split(" ").filter(Boolean), author, date: new Date(date), subject, trailers };
    });
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

  async removeWorktree(dir, worktree, options = {}) {
    await git(dir).raw(["worktree", "remove", ...(options.force ? ["--force"] : []), worktree]);
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

  async commitAll(worktree, message, options = {}) {
    const repo = await withoutHooks(worktree);
    await repo.add(["-A"]);
    const empty = (await repo.raw(["diff", "--cached", "--name-only"])).trim() === "";
    if (empty && !options.allowEmpty) return undefined;
    await repo.raw([...(await identity(repo)), "commit", ...(empty ? ["--allow-empty"] : []), "-m", message]);
    return head(repo);
  },

  async merge(worktree, from, message) {
    const repo = await withoutHooks(worktree);
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
    await (await withoutHooks(dir, { credentials: true })).push(remote, `refs/heads/${branch}:refs/heads/${branch}`);
  },

  async exclude(dir, pattern) {
    const file = path.join((await git(dir).revparse(["--absolute-git-dir"])).trim(), "info", "exclude");
    const current = await fs.readFile(file, "utf8").catch(() => "");
    if (current.split("\n").includes(pattern)) return;
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.appendFile(file, `${current && !current.endsWith("\n") ? "\n" : ""}${pattern}\n`);
  },

  // Where git exits non-zero without a word on stderr (a name that resolves to nothing, histories
  // with no common ancestor), simple-git resolves with empty output: empty means "none" below.
  async resolve(dir, ref) {
    const hash = (await git(dir).raw(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`])).trim();
    return hash || undefined;
  },

  async mergeBase(dir, a, b) {
    const base = (await git(dir).raw(["merge-base", "--end-of-options", a, b])).trim();
    return base || undefined;
  },

  async diffNameStatus(dir, from, to) {
    if (from === undefined) {
      const files = (await git(dir).raw(["ls-tree", "-r", "-z", "--name-only", "--full-tree", "--end-of-options", to])).split("\0").filter(Boolean);
      return files.map((file) => ({ status: "added" as const, path: file }));
    }
    return parseNameStatus(await git(dir).raw(["diff", "--name-status", "--no-renames", "-z", "--end-of-options", from, to, "--"]));
  },

  async showFile(dir, ref, file) {
    const repo = git(dir);
    // ls-tree says whether the path is a file (blob) there; cat-file would fail with a message
    // that differs between a missing path and a broken repository.
    const entry = await repo.raw(["ls-tree", "-z", "--full-tree", "--end-of-options", ref, "--", file]);
    if (!/^\d+ blob /.test(entry)) return undefined;
    return repo.raw(["cat-file", "blob", `${ref}:${file}`]);
  },

  async log(dir, from, to) {
    return parseLog(await git(dir).raw(["log", `--format=${LOG_FORMAT}`, "--end-of-options", `${from}..${to}`, "--"]));
  },

  async ignored(dir, files) {
    if (files.length === 0) return [];
    // Exit code 1 means "none ignored": not an error here.
    const out = await git(dir).raw(["check-ignore", "--", ...files]).catch((error: Error) => (/exit code: 1\b|^$/.test(error.message) ? "" : Promise.reject(error)));
    return out.split("\n").filter(Boolean);
  },

  async hooksPath(dir) {
    const value = (await git(dir).raw(["config", "--get", "core.hooksPath"]).catch(() => "")).trim();
    if (!value) return undefined;
    const relative = path.relative(dir, path.resolve(dir, value)).split(path.sep).join("/");
    return relative.startsWith("..") ? undefined : relative;
  },

  async hookFile(root, worktree, name) {
    const configured = (await git(root).raw(["config", "--get", "core.hooksPath"]).catch(() => "")).trim();
    // A relative hooks path is relative to where hooks run: the top of the worktree.
    const file = configured ? path.resolve(worktree, configured, name) : path.join(await commonDir(root), "hooks", name);
    const stat = await fs.stat(file).catch(() => undefined);
    return stat?.isFile() && (process.platform === "win32" || (stat.mode & 0o111) !== 0) ? file : undefined;
  },

  commonDir,

  async changedSince(worktree, since) {
    const repo = git(worktree);
    const tracked = await repo.raw(["diff", "--name-only", "--no-renames", "-z", "--end-of-options", since, "--"]);
    const untracked = await repo.raw(["ls-files", "-z", "--others", "--exclude-standard"]);
    // Files git itself obeys count even where they ignore themselves: a run that plants an ignored
    // .gitignore or .gitattributes would steer every later `git add` outside the sandbox.
    return [...new Set([...`${tracked}\0${untracked}`.split("\0"), ...(await ignoredControlFiles(repo))].filter(Boolean))];
  },

  async stageAll(worktree) {
    await git(worktree).add(["-A"]);
  },

  async resetHard(worktree, commit) {
    const repo = git(worktree);
    // commit passed checkRef: it cannot read as an option.
    await repo.raw(["reset", "-q", "--hard", commit]);
    await repo.raw(["clean", "-q", "-f", "-d"]);
    for (const file of await ignoredControlFiles(repo)) await fs.rm(path.join(worktree, file), { force: true });
  },

  async addDetachedWorktree(dir, worktree, ref) {
    await fs.mkdir(path.dirname(worktree), { recursive: true });
    await git(dir).raw(["worktree", "add", "--detach", worktree, ref]);
  },
};
