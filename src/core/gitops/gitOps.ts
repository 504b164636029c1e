import path from "node:path";
import { describeError, type Logger } from "../logger";
import type { Role } from "../models/registry";
import { isBranchName, isRedgreenBranch } from "./branchName";
import type { CommitInfo, FileChange, GitPort } from "./git";

// Redgreen's git policy, the only way agents touch git (SPEC-001):
// - DEV comes from the primary branch; a feature/<func> branch per functional area comes from DEV;
//   a ticket/<id> branch per ticket comes from its feature branch, checked out in its own worktree
//   under .redgreen/worktrees/ (excluded from git), never in the user's working tree;
// - the primary branch (main, or master) is protected: no agent commits to, merges into or pushes
//   it; an attempt is refused and logged;
// - merges never force: a conflict aborts the merge and is escalated, both branches intact;
// - only the Architect pushes, and only where a remote is configured;
// - every agent commit carries trailers naming the ticket, the functionality and the role.

export const DEV = "DEV";
/** Branches agents never write to, whatever the project's protected branch is. */
const ALWAYS_PROTECTED = ["main", "master"];
/** Where a repository's protected branch is looked for when the human names none, in this order. */
const PROTECTED_CANDIDATES = ["main", "master", "trunk", "develop"];
export const WORKTREES_DIR = path.join(".redgreen", "worktrees");

export type Actor = { role: Role | "human"; ticketId?: string; functionalityId?: string };

export class ProtectedBranchError extends Error {}

/** The repository does not say which branch is protected (a detached HEAD and none of the usual names). */
export class UnknownProtectedBranchError extends Error {}

/**
 * The branch to record as protected when the human names none: main, master, trunk or develop
 * where one exists, else the branch HEAD names (also an unborn one, in a repository with no commit
 * yet). Called once, when a project is created or first planned; never again after that.
 */
export async function protectedBranchIn(git: GitPort, root: string): Promise<string> {
  const branches = await git.branches(root);
  const found = PROTECTED_CANDIDATES.find((name) => branches.includes(name));
  if (found) return found;
  const current = await git.currentBranch(root);
  if (current && !isRedgreenBranch(current)) return current;
  const where = current ? `is on ${current}, a branch of Redgreen's own,` : "is on a detached HEAD";
  throw new UnknownProtectedBranchError(`${root} ${where} and has no main, master, trunk or develop branch: say which branch is protected (redgreen init --protected-branch NAME)`);
}



export class MergeConflictError extends Error {
  constructor(readonly into: string, readonly from: string, readonly conflicts: string[]) {
    super(`Merging ${from} into ${into} conflicts in ${conflicts.join(", ")}; the merge was stopped and both branches are unchanged. A human decides.`);
  }
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "x";
}

/** What a branch changes since it forked from the branch it merges into: the diff a review shows. */
export interface BranchChanges {
  /** Where the branch forked (the merge base): the left side of each file's diff. */
  base: string;
  /** The branch's head: the right side. */
  head: string;
  files: FileChange[];
}

// Refs and paths reach git as arguments: only the names Redgreen makes (branches, hashes) and
// plain relative paths pass, so nothing can read as an option or a revision range.
function checkRef(ref: string): string {
  if (typeof ref !== "string" || !isBranchName(ref)) throw new Error(`"${String(ref)}" is not a branch or commit name Redgreen works with`);
  return ref;
}

function checkPath(file: string): string {
  if (typeof file !== "string" || !file || file.includes("\0") || file.startsWith("/") || /^[A-Za-z]:/.test(file) || file.split(/[\\/]/).some((part) => part === ".." || part === "")) {
    throw new Error(`"${String(file)}" is not a path inside the repository`);
  }
  return file;
}

export const featureBranch = (functionalityId: string) => `feature/${slug(functionalityId)}`;
export const ticketBranch = (ticketId: string) => `ticket/${slug(ticketId)}`;

/** Git trailers that trace a commit to its ticket, functionality and agent. */
export function trailers(actor: Actor): string {
  const lines = [
    actor.ticketId && `Redgreen-Ticket: ${actor.ticketId}`,
    actor.functionalityId && `Redgreen-Functionality: ${actor.functionalityId}`,
    `Redgreen-Agent: ${actor.role}`,
  ].filter(Boolean);
  return `\n\n${lines.join("\n")}`;
}

export class GitOps {
  /** `protectedBranch`: the project's recorded one; without it (a project from before it was recorded) the repository is asked. */
  constructor(private readonly git: GitPort, readonly root: string, private readonly log: Logger, private readonly protectedBranch?: string) {}

  /** The protected branch, as recorded for the project. */
  async primary(): Promise<string> {
    return this.protectedBranch ?? (await protectedBranchIn(this.git, this.root));
  }

  async hasDev(): Promise<boolean> {
    return (await this.git.branches(this.root)).includes(DEV);
  }

  /** Creates DEV from the primary branch; with `recreate`, an existing DEV is replaced. */
  async createDev(recreate = false): Promise<void> {
    const exists = await this.hasDev();
    if (exists && !recreate) return;
    // Checked before an existing DEV goes: a protected branch that is missing must not cost DEV.
    const primary = await this.primary();
    if (!(await this.git.resolve(this.root, checkRef(primary)))) {
      throw new Error(`${this.root} has no commit on ${primary}, its protected branch, yet: commit something on ${primary} before planning`);
    }
    if (exists) await this.git.deleteBranch(this.root, DEV);
    await this.git.createBranch(this.root, DEV, primary);
  }

  async ensureFeature(functionalityId: string): Promise<string> {
    const branch = featureBranch(functionalityId);
    if (!(await this.git.branches(this.root)).includes(branch)) await this.git.createBranch(this.root, branch, DEV);
    return branch;
  }

  /** Creates the ticket's branch from its feature branch (if missing); returns its name. */
  async createTicketBranch(ticketId: string, functionalityId: string): Promise<string> {
    const branch = ticketBranch(ticketId);
    if (!(await this.git.branches(this.root)).includes(branch)) await this.git.createBranch(this.root, branch, await this.ensureFeature(functionalityId));
    return branch;
  }

  /** The ticket's branch, checked out in its own worktree (created on first use); returns its path. */
  async openTicket(ticketId: string, functionalityId: string): Promise<string> {
    const branch = ticketBranch(ticketId);
    const worktree = this.worktreePath(ticketId);
    if ((await this.hasWorktree(worktree))) return worktree;
    await this.git.exclude(this.root, "/.redgreen/");
    await this.createTicketBranch(ticketId, functionalityId);
    await this.git.addWorktree(this.root, worktree, branch);
    return worktree;
  }

  /** Removes a closed ticket's worktree (its branch stays, merged or not). */
  async closeTicket(ticketId: string): Promise<void> {
    const worktree = this.worktreePath(ticketId);
    // Not forced: a worktree with uncommitted work stays (git refuses), and the caller says so.
    if ((await this.hasWorktree(worktree))) await this.git.removeWorktree(this.root, worktree);
  }

  worktreePath(ticketId: string): string {
    return path.resolve(this.root, WORKTREES_DIR, slug(ticketId));
  }

  /** Which of `files` (relative to `worktree`) git ignores. */
  ignored(worktree: string, files: string[]): Promise<string[]> {
    return this.git.ignored(worktree, files.map(checkPath));
  }

  /** The configured hooks folder, where it lies inside `worktree`. */
  hooksPath(worktree: string): Promise<string | undefined> {
    return this.git.hooksPath(worktree);
  }

  /** The hook `name` git would run for a commit in `worktree`, read from the repository (not the worktree). */
  hookFile(worktree: string, name: string): Promise<string | undefined> {
    return this.git.hookFile(this.root, worktree, name);
  }

  /** The repository's git folder: what a run in one of its worktrees needs to read to use git. */
  gitFolder(): Promise<string> {
    return this.git.commonDir(this.root);
  }

  /** The files of `worktree` that differ from `since`, untracked ones included. */
  changedSince(worktree: string, since: string): Promise<string[]> {
    return this.git.changedSince(worktree, checkRef(since));
  }

  /** The commit checked out in `worktree`. */
  async head(worktree: string): Promise<string> {
    const hash = await this.git.resolve(worktree, "HEAD");
    if (!hash) throw new Error(`${worktree} has no commit checked out`);
    return hash;
  }

  /** Stages everything in an agent's worktree, for its pre-commit hook. */
  async stageAll(worktree: string, actor: Actor): Promise<void> {
    await this.refuseOutsideWorktree(worktree, actor, "stage files");
    await this.git.stageAll(worktree);
  }

  /** Puts an agent's worktree (branch, files, untracked files) back at `commit`: an attempt that was refused leaves nothing. */
  async resetWorktree(worktree: string, commit: string, actor: Actor): Promise<void> {
    await this.refuseOutsideWorktree(worktree, actor, "reset");
    const branch = await this.git.currentBranch(worktree);
    await this.refuseProtected(branch, `reset ${branch}`, actor);
    await this.git.resetHard(worktree, checkRef(commit));
  }

  /** Commits everything in an agent's worktree, with trailers; never on the protected branch. */
  async commit(worktree: string, message: string, actor: Actor, options: { allowEmpty?: boolean } = {}): Promise<string | undefined> {
    const branch = await this.git.currentBranch(worktree);
    await this.refuseProtected(branch, `commit to ${branch}`, actor);
    await this.refuseOutsideWorktree(worktree, actor, "commit");
    return this.git.commitAll(worktree, `${message}${trailers(actor)}`, options);
  }

  private async refuseOutsideWorktree(worktree: string, actor: Actor, what: string): Promise<void> {
    if (actor.role !== "human" && (path.resolve(worktree) === path.resolve(this.root) || !(await this.git.isRepositoryRoot(worktree)))) {
      // Also a folder that is no longer a worktree of its own (removed under the agent): git would
      // find the user's repository above it.
      throw this.refused(`an agent (${actor.role}) tried to ${what} outside its own worktree (${worktree}); agents work only in their worktrees`);
    }
  }

  /** Merges `from` into `into` (never the protected branch), in a temporary worktree of `into`. */
  async merge(into: string, from: string, actor: Actor): Promise<string> {
    await this.refuseProtected(into, `merge ${from} into ${into}`, actor);
    const worktree = path.resolve(this.root, WORKTREES_DIR, `_merge-${slug(into)}`);
    await this.git.exclude(this.root, "/.redgreen/");
    // A temporary merge worktree left by a crash would block every later merge into `into`.
    if ((await this.hasWorktree(worktree))) await this.git.removeWorktree(this.root, worktree, { force: true });
    await this.git.addWorktree(this.root, worktree, into);
    try {
      const result = await this.git.merge(worktree, from, `Merge ${from} into ${into}${trailers(actor)}`);
      if (!result.merged) {
        const conflict = new MergeConflictError(into, from, result.conflicts);
        this.log.warn(conflict.message);
        throw conflict;
      }
      return result.commit;
    } finally {
      await this.git.removeWorktree(this.root, worktree, { force: true });
    }
  }

  /**
   * Merges `from` into the branch checked out in an agent's worktree (a ticket bringing its
   * feature branch in). A conflict is aborted and reported, never forced.
   */
  async mergeInto(worktree: string, from: string, actor: Actor): Promise<{ merged: true; commit: string } | { merged: false; conflicts: string[] }> {
    const into = await this.git.currentBranch(worktree);
    await this.refuseProtected(into, `merge ${from} into ${into}`, actor);
    const result = await this.git.merge(worktree, from, `Merge ${from} into ${into}${trailers(actor)}`);
    if (!result.merged) this.log.warn(new MergeConflictError(into ?? worktree, from, result.conflicts).message);
    return result;
  }

  /** Pushes a branch, as the Architect only, and only where a remote is configured. */
  async push(branch: string, actor: Actor): Promise<boolean> {
    await this.refuseProtected(branch, `push ${branch}`, actor);
    if (actor.role !== "architect") throw this.refused(`only the Architect pushes; ${actor.role} tried to push ${branch}`);
    const [remote] = await this.git.remotes(this.root);
    if (!remote) {
      this.log.info(`No remote configured: ${branch} is not pushed`);
      return false;
    }
    await this.git.push(this.root, remote, branch);
    return true;
  }

  async hasBranch(name: string): Promise<boolean> {
    return (await this.git.branches(this.root)).includes(checkRef(name));
  }

  /** The files `branch` changes since it forked from `target` (as `git diff target...branch`). */
  async branchChanges(target: string, branch: string): Promise<BranchChanges> {
    const head = await this.resolve(branch);
    const targetHead = await this.resolve(target);
    const base = await this.git.mergeBase(this.root, targetHead, head);
    if (!base) throw new Error(`${branch} and ${target} share no history, so there is nothing to compare`);
    return { base, head, files: await this.git.diffNameStatus(this.root, base, head) };
  }

  /** Commits on `to` that `from` does not have, newest first (as `git log from..to`). */
  async commits(from: string, to: string): Promise<CommitInfo[]> {
    return this.git.log(this.root, checkRef(from), checkRef(to));
  }

  /** What one commit changed, against its first parent (a root commit adds all its files). */
  async commitChanges(commit: string): Promise<{ parent: string | undefined; head: string; files: FileChange[] }> {
    const head = await this.resolve(commit);
    const parent = await this.git.resolve(this.root, `${head}^1`);
    return { parent, head, files: await this.git.diffNameStatus(this.root, parent, head) };
  }

  /** A file's content at a branch or commit, or undefined where it does not exist. */
  async fileAt(ref: string, file: string): Promise<string | undefined> {
    return this.git.showFile(this.root, checkRef(ref), checkPath(file));
  }

  /**
   * Runs `use` in a temporary, detached checkout of `ref` (which may be checked out elsewhere),
   * removed afterwards whatever happens. Nothing is committed there.
   */
  async withCheckout<T>(ref: string, use: (worktree: string) => Promise<T>): Promise<T> {
    const worktree = path.resolve(this.root, WORKTREES_DIR, `_check-${slug(checkRef(ref))}`);
    await this.git.exclude(this.root, "/.redgreen/");
    // A checkout left behind by a run that died would make `worktree add` fail.
    if ((await this.hasWorktree(worktree))) await this.git.removeWorktree(this.root, worktree, { force: true });
    await this.git.addDetachedWorktree(this.root, worktree, ref);
    try {
      return await use(worktree);
    } finally {
      await this.git.removeWorktree(this.root, worktree, { force: true }).catch((error: unknown) => this.log.warn(`The checkout ${worktree} was not removed: ${describeError(error)}`));
    }
  }

  private async resolve(ref: string): Promise<string> {
    const hash = await this.git.resolve(this.root, checkRef(ref));
    if (!hash) throw new Error(`${ref} does not exist in ${this.root}`);
    return hash;
  }

  private async refuseProtected(branch: string | undefined, what: string, actor: Actor): Promise<void> {
    if (branch !== undefined && (ALWAYS_PROTECTED.includes(branch) || branch === (await this.primary()))) {
      throw this.refused(`${actor.role} tried to ${what}: ${branch} is protected, no agent writes to it`);
    }
  }

  private async hasWorktree(worktree: string): Promise<boolean> {
    return (await this.git.worktrees(this.root)).some((w) => path.resolve(w.path) === worktree);
  }

  private refused(message: string): ProtectedBranchError {
    this.log.warn(`Refused: ${message}`);
    return new ProtectedBranchError(`Refused: ${message}`);
  }
}
