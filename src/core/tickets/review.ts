import type { GitOps } from "../gitops/gitOps";
import { featureBranch, MergeConflictError, ticketBranch, type BranchChanges } from "../gitops/gitOps";
import type { MemoryManager } from "../memory/memoryManager";
import type { Project, Ticket } from "../store/records";
import { flaggedFiles } from "../tdd/edits";
import { COLUMN_NAMES, refuseMove } from "./ticketRules";

// The human's review of a ticket (SPEC-001 step 6): what its branch changes against the feature
// branch it merges into, approval (merge, then done) and a request for changes (back to its pair).
// A ticket leaves review only through a merge that worked or a comment the pair can act on.

export class ReviewError extends Error {}

/** Thrown by approveTicket when the ticket changes files that act later and the human did not confirm each one. */
export class UnconfirmedFilesError extends ReviewError {
  constructor(readonly ticketId: string, readonly files: string[]) {
    super(`${ticketId} changes files your CI runs later, outside Redgreen's sandbox (${files.join(", ")}): approve them explicitly`);
  }
}

/** The files of a ticket's review that act later (CI definitions): the review flags them, approval asks. */
export async function flaggedChanges(ticket: Ticket, git: GitOps): Promise<string[]> {
  return flaggedFiles((await reviewChanges(ticket, git)).files.map((file) => file.path));
}

/** Long enough for a real review comment, short enough to stay a chat message. */
export const MAX_COMMENT = 10_000;

/** The branch a ticket merges into. */
export function mergeTarget(ticket: Pick<Ticket, "functionalityId">): string {
  return featureBranch(ticket.functionalityId);
}

export function branchOf(ticket: Pick<Ticket, "_id" | "branch">): string {
  return ticket.branch ?? ticketBranch(ticket._id);
}

/** The ticket as stored now, if it is still waiting for review; otherwise says why not. */
/** Every ticket waiting for review, in all projects, with its project. */
export async function ticketsInReview(memory: MemoryManager): Promise<{ project: Project; ticket: Ticket }[]> {
  const found: { project: Project; ticket: Ticket }[] = [];
  for (const project of await memory.projects.list()) {
    for (const ticket of await memory.tickets.of(project._id)) if (ticket.column === "review" && !ticket.withdrawn) found.push({ project, ticket });
  }
  return found;
}

export async function ticketInReview(memory: MemoryManager, ticketId: string): Promise<Ticket> {
  if (typeof ticketId !== "string" || !ticketId) throw new ReviewError("No ticket was given");
  const ticket = await memory.tickets.get(ticketId);
  if (!ticket) throw new ReviewError(`There is no ticket ${ticketId}`);
  if (ticket.withdrawn) throw new ReviewError(`${ticketId} was withdrawn by re-planning`);
  if (ticket.column !== "review") throw new ReviewError(`${ticketId} is not in review: it is in ${COLUMN_NAMES[ticket.column]}`);
  return ticket;
}

/** What the ticket's branch changes since it forked from its feature branch. */
export function reviewChanges(ticket: Ticket, git: GitOps): Promise<BranchChanges> {
  return git.branchChanges(mergeTarget(ticket), branchOf(ticket));
}

/**
 * Merges the ticket's branch into its feature branch as the human, then moves it to done. A
 * conflict leaves both branches and the ticket as they were, and is thrown (MergeConflictError).
 * A ticket that changes files acting later (flaggedChanges) is merged only when `confirmed`
 * names each of them, as the branch stands now (UnconfirmedFilesError otherwise).
 */
export async function approveTicket(ticketId: string, deps: { memory: MemoryManager; git: GitOps }, options: { confirmed?: readonly string[] } = {}): Promise<{ ticket: Ticket; commit: string }> {
  const { memory, git } = deps;
  const ticket = await ticketInReview(memory, ticketId);
  const target = mergeTarget(ticket);
  const branch = branchOf(ticket);
  for (const name of [target, branch]) {
    if (!(await git.hasBranch(name))) throw new ReviewError(`${ticketId} cannot be merged: the branch ${name} does not exist`);
  }
  const unconfirmed = (await flaggedChanges(ticket, git)).filter((file) => !(options.confirmed ?? []).includes(file));
  if (unconfirmed.length > 0) throw new UnconfirmedFilesError(ticketId, unconfirmed);
  const actor = { role: "human" as const, ticketId, functionalityId: ticket.functionalityId };
  let commit: string;
  try {
    commit = await git.merge(target, branch, actor);
  } catch (error) {
    if (error instanceof MergeConflictError) {
      await memory.transcript.record({ kind: "event", projectId: ticket.projectId, ticketId, functionalityId: ticket.functionalityId, from: "human", level: "warn", text: `approving ${ticketId}: ${error.message}` });
    }
    throw error;
  }
  const done = await memory.tickets.move(ticketId, "done", "human", "approved in review");
  await memory.transcript.record({
    kind: "message", projectId: ticket.projectId, ticketId, functionalityId: ticket.functionalityId, channel: "agents", from: "human",
    text: `Approved ${ticketId} in review: ${branch} is merged into ${target} (${commit.slice(0, 10)}).`,
  });
  return { ticket: done, commit };
}

/** A review comment as typed: trimmed, not empty, not endless. */
export function checkComment(comment: unknown): string {
  const text = typeof comment === "string" ? comment.trim() : "";
  if (!text) throw new ReviewError("A request for changes needs a comment saying what to change");
  if (text.length > MAX_COMMENT) throw new ReviewError(`The comment is ${text.length} characters long; keep it under ${MAX_COMMENT}`);
  return text;
}

/** Sends the ticket back to its pair with the human's comment, recorded on the ticket and the agents' channel. */
export async function requestChanges(ticketId: string, comment: unknown, deps: { memory: MemoryManager }): Promise<Ticket> {
  const { memory } = deps;
  const text = checkComment(comment);
  const ticket = await ticketInReview(memory, ticketId);
  // Checked before anything is written: a refused move must not leave a comment the pair never gets.
  const blockers = await Promise.all(ticket.blockedBy.map((id) => memory.tickets.get(id)));
  const refused = refuseMove(ticket, "inprogress", blockers.filter((b): b is Ticket => b !== undefined));
  if (refused) throw new ReviewError(refused);
  await memory.tickets.update(ticketId, {}, "human", `changes requested: ${text}`);
  const pair = ticket.assignedPair ?? `the pair of ${ticketId}`;
  await memory.transcript.record({
    kind: "message", projectId: ticket.projectId, ticketId, functionalityId: ticket.functionalityId, channel: "agents", from: "human",
    text: `To ${pair}: changes requested on ${ticketId} (${ticket.title}): ${text}`,
  });
  return memory.tickets.move(ticketId, "inprogress", "human", "changes requested in review");
}

/**
 * When the ticket's last move brought it back from review (Request Changes) and no red commit
 * came after it: the time of that move; otherwise undefined. Commit dates have whole seconds.
 */
export function unansweredChangeRequest(ticket: Ticket, commits: { subject: string; date: Date }[]): Date | undefined {
  const lastMove = [...ticket.history].reverse().find((entry) => entry.to !== undefined);
  if (lastMove?.from !== "review" || lastMove.to !== "inprogress") return undefined;
  // A red in the request's own second may have come before it: only a later second counts (at
  // worst the pair is asked for one more red, never spared one).
  const since = Math.floor(lastMove.at.getTime() / 1000) * 1000;
  return commits.some((commit) => commit.subject.endsWith("(red)") && commit.date.getTime() > since) ? undefined : lastMove.at;
}
