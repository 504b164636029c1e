// "Review in the editor" (issue 7): tickets in review in the Source Control view, their diffs and
// commits, Approve and Merge, Request Changes (the team, core/orchestrator, completes a
// functionality into DEV after the approval of its last ticket). Git runs only in a trusted workspace.
import * as vscode from "vscode";
import { MergeConflictError, type GitOps } from "../../core/gitops/gitOps";
import type { Logger } from "../../core/logger";
import type { MemoryManager } from "../../core/memory/memoryManager";
import type { Project, Ticket } from "../../core/store/records";
import { approveTicket, branchOf, flaggedChanges, MAX_COMMENT, mergeTarget, requestChanges, ticketsInReview } from "../../core/tickets/review";
import { CommandFailure, CommandRefusal, registerRedgreenCommand } from "../../platform/command";
import { Commands } from "../../protocol/commands";
import type { StoreService } from "../store/storeService";
import { REVIEW_SCHEME, ReviewContent } from "./reviewContent";
import { ReviewSourceControl, type ReviewGroupSnapshot, type ReviewResource } from "./reviewSourceControl";
import { openCommit, pickCommit, ticketCommits } from "./ticketCommits";

export interface TicketReviewDeps {
  store: StoreService;
  log: Logger;
  /** Resolves when the team has nothing running (a functionality's completion after an approval, say). */
  teamIdle(): Promise<void>;
  /** Whether git may run in a project's folder, which may lie outside the trusted workspace (asks once). */
  trust: { allows(folder: string, what: string): Promise<boolean> };
  /** Git for a project's folder (extension.ts builds it, one for every feature). */
  git: (project: Project) => GitOps;
}

export interface TicketReview extends vscode.Disposable {
  refresh(): Promise<void>;
  /** What the Source Control view shows now. */
  snapshot(): ReviewGroupSnapshot[];
  /** Resolves once the team has nothing running (a functionality's completion, say). */
  settled(): Promise<void>;
}

/** What Approve and Merge and Request Changes return (to tests and other commands). */
export interface ReviewActionResult {
  ticket?: Ticket;
  commit?: string;
  error?: string;
}

/** What the review commands share, built once. */
interface Review {
  deps: TicketReviewDeps;
  log: Logger;
  memory: () => Promise<MemoryManager>;
  gitFor: (project: Project) => GitOps;
  projectOf: (projectId: string) => Promise<Project>;
  source: ReviewSourceControl;
}

interface ReviewTarget {
  ticket: Ticket;
  project: Project;
}

export function registerTicketReview(deps: TicketReviewDeps): TicketReview {
  const { log } = deps;
  const memory = () => deps.store.memory();
  const gitFor = deps.git;
  const projectOf = async (projectId: string): Promise<Project> => {
    const project = await (await memory()).projects.get(projectId);
    if (!project) throw new Error(`There is no project ${projectId}`);
    return project;
  };
  const content = new ReviewContent(async (projectId) => {
    if (!vscode.workspace.isTrusted) throw new Error("Redgreen runs no git command in an untrusted workspace");
    return gitFor(await projectOf(projectId));
  });
  const source = new ReviewSourceControl({ memory, git: gitFor, content, log });
  const review: Review = { deps, log, memory, gitFor, projectOf, source };

  const subscriptions = vscode.Disposable.from(
    source,
    content,
    vscode.workspace.registerTextDocumentContentProvider(REVIEW_SCHEME, content),
    vscode.window.registerFileDecorationProvider(content),
    deps.store.followMemory((m) => {
      void source.refresh();
      return m.tickets.onDidChange(() => void source.refresh());
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void source.refresh()),
    registerRedgreenCommand(Commands.refreshReviews, log, { title: vscode.l10n.t("Refresh Reviews"), run: () => source.refresh() }),
    registerRedgreenCommand(Commands.openReviewChange, log, {
      title: vscode.l10n.t("Open Change"), runsGit: vscode.l10n.t("review tickets"),
      run: (arg, file) => openChange(review, arg, file),
    }),
    registerRedgreenCommand(Commands.showTicketCommits, log, {
      title: vscode.l10n.t("Show Commits"), runsGit: vscode.l10n.t("review tickets"),
      run: (arg, hash) => showCommits(review, arg, hash),
    }),
    registerRedgreenCommand(Commands.approveAndMerge, log, {
      title: vscode.l10n.t("Approve and Merge"), runsGit: vscode.l10n.t("approve tickets"),
      run: (arg) => approve(review, arg).finally(() => void source.refresh()),
    }),
    registerRedgreenCommand(Commands.requestChanges, log, {
      title: vscode.l10n.t("Request Changes"), runsGit: vscode.l10n.t("review tickets"),
      run: (arg) => askForChanges(review, arg),
    }),
  );
  return {
    refresh: () => source.refresh(),
    snapshot: () => source.snapshot(),
    settled: () => deps.teamIdle(),
    dispose: () => {
      subscriptions.dispose();
    },
  };
}

/** The ticket a command acts on: its id, its SCM group or one of its files; else the human picks one in review. */
async function ticketFor(review: Review, arg: unknown, title: string): Promise<ReviewTarget | undefined> {
  const m = await review.memory();
  const id = typeof arg === "string" ? arg : isObject(arg) && typeof arg.ticketId === "string" ? arg.ticketId : isObject(arg) && typeof arg.id === "string" ? arg.id : undefined;
  let ticket = id === undefined ? undefined : await m.tickets.get(id);
  if (id !== undefined && !ticket) throw new CommandRefusal(vscode.l10n.t("There is no ticket {0}.", id));
  if (!ticket) {
    const waiting = (await ticketsInReview(m)).map((entry) => entry.ticket);
    if (waiting.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t("No ticket is waiting for review."));
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      waiting.map((t) => ({ label: `${t._id} · ${t.title}`, description: `${branchOf(t)} → ${mergeTarget(t)}`, ticket: t })),
      { title, matchOnDescription: true },
    );
    ticket = picked?.ticket;
  }
  return ticket && { ticket, project: await review.projectOf(ticket.projectId) };
}

async function openChange(review: Review, arg: unknown, file?: unknown): Promise<boolean> {
  const { source } = review;
  const find = () => (isReviewResource(arg) ? arg : typeof arg === "string" ? source.entry(arg)?.resources.find((r) => r.change.path === file) : undefined);
  let resource = find();
  if (!resource && typeof arg === "string") {
    await source.refresh();
    resource = find();
  }
  if (!resource) throw new CommandRefusal(vscode.l10n.t("{0} has no change to {1} in review.", String(arg), String(file)));
  await vscode.commands.executeCommand("vscode.diff", resource.left, resource.right, resource.title, { preview: true });
  return true;
}

async function showCommits(review: Review, arg: unknown, hash?: unknown): Promise<string | undefined> {
  const target = await ticketFor(review, arg, vscode.l10n.t("Show the Commits of a Ticket"));
  if (!target) return undefined;
  const git = review.gitFor(target.project);
  const commits = await ticketCommits(target.ticket, git);
  if (commits.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t("{0} has no commits of its own: {1} has nothing that {2} lacks.", target.ticket._id, branchOf(target.ticket), mergeTarget(target.ticket)));
    return undefined;
  }
  const commit = typeof hash === "string" ? commits.find((c) => c.hash.startsWith(hash)) : await pickCommit(target.ticket, commits);
  if (typeof hash === "string" && !commit) throw new CommandRefusal(vscode.l10n.t("{0} is not a commit of {1}.", hash, target.ticket._id));
  return commit && (await openCommit(target.project, target.ticket, commit, git));
}

async function approve(review: Review, arg: unknown): Promise<ReviewActionResult | undefined> {
  const target = await ticketFor(review, arg, vscode.l10n.t("Approve and Merge a Ticket"));
  if (!target) return undefined;
  const { ticket, project } = target;
  if (!(await review.deps.trust.allows(project.root, vscode.l10n.t("approve tickets")))) return { error: "untrusted project folder" };
  const git = review.gitFor(project);
  const confirmed = await confirmFlagged(ticket, await flaggedChanges(ticket, git));
  if (!confirmed) return { error: "not confirmed" };
  const m = await review.memory();
  const approved = await vscode.window
    .withProgress({ location: vscode.ProgressLocation.SourceControl }, () => approveTicket(ticket._id, { memory: m, git }, { confirmed }))
    .then(undefined, (error: unknown) => {
      throw error instanceof MergeConflictError ? new CommandFailure(conflictMessage(ticket, error)) : error;
    });
  review.log.info(`${ticket._id} approved: ${branchOf(ticket)} merged into ${mergeTarget(ticket)} (${approved.commit.slice(0, 10)})`);
  void vscode.window.showInformationMessage(vscode.l10n.t("{0} is merged into {1} and done.", ticket._id, mergeTarget(ticket)));
  return approved;
}

/** A conflict at Approve and Merge, in the ticket's terms. */
function conflictMessage(ticket: Ticket, error: MergeConflictError): string {
  return vscode.l10n.t("{0} cannot be merged: {1} conflicts with {2} in {3}. Both branches are unchanged and {0} stays in review.", ticket._id, error.from, error.into, error.conflicts.join(", "));
}

async function askForChanges(review: Review, arg: unknown): Promise<ReviewActionResult | undefined> {
  const target = await ticketFor(review, arg, vscode.l10n.t("Request Changes on a Ticket"));
  if (!target) return undefined;
  const { ticket } = target;
  const comment = await askForComment(ticket);
  if (!comment?.trim()) return undefined;
  const moved = await requestChanges(ticket._id, comment, { memory: await review.memory() });
  review.log.info(`Changes requested on ${ticket._id}`);
  void vscode.window.showInformationMessage(vscode.l10n.t("{0} is back in progress with your comment.", ticket._id));
  return { ticket: moved };
}

/** What should change on a ticket, in the human's words; undefined if they cancel. */
function askForComment(ticket: Ticket): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: vscode.l10n.t("Request Changes on {0} · {1}", ticket._id, ticket.title),
    prompt: vscode.l10n.t("What should change? {0} gets your comment and the ticket goes back to In progress.", ticket.assignedPair ?? vscode.l10n.t("Its pair")),
    placeHolder: vscode.l10n.t("e.g. Refuse expired cards too"),
    ignoreFocusOut: true,
    validateInput: (value) => (value.length > MAX_COMMENT ? vscode.l10n.t("Keep the comment under {0} characters.", MAX_COMMENT) : undefined),
  });
}

/** Files that act later are merged only after an explicit yes naming them; the files confirmed, or undefined. */
async function confirmFlagged(ticket: Ticket, flagged: string[]): Promise<string[] | undefined> {
  if (flagged.length === 0) return [];
  const approve = vscode.l10n.t("Approve and Merge");
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t("{0} changes what your CI runs: {1}", ticket._id, flagged.join(", ")),
    { modal: true, detail: vscode.l10n.t("A CI server runs these files later, outside Redgreen's sandbox, often with your repository's secrets. Merge them only if you read them in the review.") },
    approve,
  );
  return choice === approve ? flagged : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isReviewResource(value: unknown): value is ReviewResource {
  return isObject(value) && typeof value.ticketId === "string" && value.left instanceof vscode.Uri && value.right instanceof vscode.Uri;
}
