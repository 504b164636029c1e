import path from "node:path";
import type { Logger } from "../logger";
import type { Role } from "../models/registry";
import type { GitPort } from "./git";

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
const PRIMARY_CANDIDATES = ["main", "master"];
export const WORKTREES_DIR = path.join(".redgreen", "worktrees");

export type Actor = { role: Role | "human"; ticketId?: string; functionalityId?: string };

export class ProtectedBranchError extends Error {}

export class MergeConflictError extends Error {
  constructor(readonly into: string, readonly from: string, readonly conflicts: string[]) {
    super(`Merging ${from} into ${into} conflicts in ${conflicts.join(", ")}; the merge was stopped and both branches are unchanged. A human decides.`);
  }
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60) || "x";
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
  constructor(private readonly git: GitPort, readonly root: string, private readonly log: Logger) {}

  /** The protected branch: main, else master, else whatever the repository is on. */
  async primary(): Promise<string> {
    const branches = await this.git.branches(this.root);
    const found = PRIMARY_CANDIDATES.find((name) => branches.includes(name));
    const current = await this.git.currentBranch(this.root);
    if (found ?? current) return (found ?? current)!;
    throw new Error(`${this.root} has no branch yet: commit something (approving the spec does) before planning`);
  }

  async hasDev(): Promise<boolean> {
    return (await this.git.branches(this.root)).includes(DEV);
  }

  /** Creates DEV from the primary branch; with `recreate`, an existing DEV is replaced. */
  async createDev(recreate = false): Promise<void> {
    if (await this.hasDev()) {
      if (!recreate) return;
      await this.git.deleteBranch(this.root, DEV);
    }
    await this.git.createBranch(this.root, DEV, await this.primary());
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
    if ((await this.git.worktrees(this.root)).some((w) => path.resolve(w.path) === worktree)) return worktree;
    await this.git.exclude(this.root, "/.redgreen/");
    await this.createTicketBranch(ticketId, functionalityId);
    await this.git.addWorktree(this.root, worktree, branch);
    return worktree;
  }

  /** Removes a closed ticket's worktree (its branch stays, merged or not). */
  async closeTicket(ticketId: string): Promise<void> {
    const worktree = this.worktreePath(ticketId);
    if ((await this.git.worktrees(this.root)).some((w) => path.resolve(w.path) === worktree)) await this.git.removeWorktree(this.root, worktree);
  }

  worktreePath(ticketId: string): string {
    return path.resolve(this.root, WORKTREES_DIR, slug(ticketId));
  }

  /** Commits everything in an agent's worktree, with trailers; never on the protected branch. */
  async commit(worktree: string, message: string, actor: Actor): Promise<string | undefined> {
    const branch = await this.git.currentBranch(worktree);
    await this.refuseProtected(branch, `commit to ${branch}`, actor);
    if (path.resolve(worktree) === path.resolve(this.root) && actor.role !== "human") {
      throw this.refused(`an agent (${actor.role}) tried to commit in the user's working tree; agents work only in their worktrees`);
    }
    return this.git.commitAll(worktree, `${message}${trailers(actor)}`);
  }

  /** Merges `from` into `into` (never the protected branch), in a temporary worktree of `into`. */
  async merge(into: string, from: string, actor: Actor): Promise<string> {
    await this.refuseProtected(into, `merge ${from} into ${into}`, actor);
    const worktree = path.resolve(this.root, WORKTREES_DIR, `_merge-${slug(into)}`);
    await this.git.exclude(this.root, "/.redgreen/");
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
      await this.git.removeWorktree(this.root, worktree);
    }
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

  private async refuseProtected(branch: string | undefined, what: string, actor: Actor): Promise<void> {
    if (branch !== undefined && (PRIMARY_CANDIDATES.includes(branch) || branch === (await this.primary()))) {
      throw this.refused(`${actor.role} tried to ${what}: ${branch} is protected, no agent writes to it`);
    }
  }

  private refused(message: string): ProtectedBranchError {
    this.log.warn(`Refused: ${message}`);
    return new ProtectedBranchError(`Refused: ${message}`);
  }
}
