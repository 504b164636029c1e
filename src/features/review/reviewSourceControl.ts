// The tickets in review, in the built-in Source Control view: one resource group per ticket
// ("BOOK-3 · Pay by card") with the files its branch changes since it forked from the feature
// branch it merges into. A click on a file opens the diff of both sides.
import path from "node:path";
import * as vscode from "vscode";
import type { FileChange } from "../../core/gitops/git";
import type { GitOps } from "../../core/gitops/gitOps";
import { describeError, type Logger } from "../../core/logger";
import type { MemoryManager } from "../../core/memory/memoryManager";
import type { Project, Ticket } from "../../core/store/records";
import { flaggedFiles } from "../../core/tdd/edits";
import { branchOf, mergeTarget, reviewChanges, ticketsInReview } from "../../core/tickets/review";
import { Commands } from "../../protocol/commands";
import { reviewUri, statusName, type ReviewContent } from "./reviewContent";

export const REVIEW_SCM_ID = "redgreen.review";

/** A changed file of a ticket, as the SCM view holds it (and hands back to menu commands). */
export interface ReviewResource extends vscode.SourceControlResourceState {
  readonly ticketId: string;
  readonly change: FileChange;
  /** The file where the ticket's branch forked from its feature branch. */
  readonly left: vscode.Uri;
  /** The file at the head of the ticket's branch. */
  readonly right: vscode.Uri;
  readonly title: string;
}

export interface ReviewEntry {
  project: Project;
  ticket: Ticket;
  group: vscode.SourceControlResourceGroup;
  resources: ReviewResource[];
  /** Changed files that act later (CI definitions): the group says so, Approve and Merge asks. */
  flagged: string[];
  /** Why the files could not be listed, if they could not. */
  problem?: string;
}

/** What the view shows, for tests: groups and their files. */
export interface ReviewGroupSnapshot {
  id: string;
  label: string;
  projectId: string;
  problem?: string;
  flagged: string[];
  files: { path: string; status: FileChange["status"]; left: string; right: string }[];
}

export interface ReviewSourceDeps {
  memory(): Promise<MemoryManager>;
  git(project: Project): GitOps;
  content: ReviewContent;
  log: Logger;
}

/** "BOOK-3 · Pay by card", with what the reviewer must not miss: files CI runs later, or why nothing is listed. */
function groupLabel(entry: Omit<ReviewEntry, "group">): string {
  const title = `${entry.ticket._id} · ${entry.ticket.title}`;
  if (entry.problem) return `${title} (${entry.problem})`;
  if (entry.flagged.length === 0) return title;
  return `⚠ ${title} · ${vscode.l10n.t("changes what CI runs: {0}", entry.flagged.join(", "))}`;
}

export class ReviewSourceControl implements vscode.Disposable {
  private readonly scm = vscode.scm.createSourceControl(REVIEW_SCM_ID, vscode.l10n.t("Redgreen Review"));
  private readonly entries = new Map<string, ReviewEntry>();
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly deps: ReviewSourceDeps) {
    // Comments are asked for where they are needed (Request Changes); there is nothing to commit here.
    this.scm.inputBox.visible = false;
    this.scm.count = 0;
  }

  entry(ticketId: string): ReviewEntry | undefined {
    return this.entries.get(ticketId);
  }

  /** Re-reads tickets and branches. Calls during a refresh share one more run after it. */
  refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      do {
        this.again = false;
        await this.load().catch((error: unknown) => this.deps.log.error(`Listing the tickets in review: ${describeError(error)}`));
      } while (this.again);
    })().finally(() => (this.running = undefined));
    this.running = run;
    return run;
  }

  snapshot(): ReviewGroupSnapshot[] {
    return [...this.entries.values()].map(({ project, group, resources, problem, flagged }) => ({
      id: group.id, label: group.label, projectId: project._id, problem, flagged,
      files: resources.map((r) => ({ path: r.change.path, status: r.change.status, left: r.left.toString(), right: r.right.toString() })),
    }));
  }

  private async load(): Promise<void> {
    const wanted = vscode.workspace.isTrusted ? await this.ticketsInReview() : [];
    const loaded = await Promise.all(wanted.map(({ project, ticket }) => this.describe(project, ticket)));
    for (const [id, entry] of this.entries) {
      if (!loaded.some((l) => l.ticket._id === id)) {
        entry.group.dispose();
        this.entries.delete(id);
      }
    }
    for (const next of loaded) {
      const label = groupLabel(next);
      const entry = this.entries.get(next.ticket._id);
      const group = entry?.group ?? this.scm.createResourceGroup(next.ticket._id, label);
      group.label = label;
      group.hideWhenEmpty = false;
      group.resourceStates = next.resources;
      this.entries.set(next.ticket._id, { ...next, group });
    }
    this.scm.count = loaded.length;
    this.deps.content.setStatuses(new Map(loaded.flatMap((l) => l.resources.map((r) => [r.resourceUri, r.change.status] as const))));
  }

  private async ticketsInReview(): Promise<{ project: Project; ticket: Ticket }[]> {
    return ticketsInReview(await this.deps.memory());
  }

  private async describe(project: Project, ticket: Ticket): Promise<Omit<ReviewEntry, "group">> {
    try {
      const changes = await reviewChanges(ticket, this.deps.git(project));
      const target = mergeTarget(ticket);
      const branch = branchOf(ticket);
      const flagged = flaggedFiles(changes.files.map((change) => change.path));
      const resources = changes.files.map((change): ReviewResource => {
        const left = reviewUri({ projectId: project._id, ref: changes.base, path: change.path });
        const right = reviewUri({ projectId: project._id, ref: changes.head, path: change.path });
        const title = vscode.l10n.t("{0} ({1} ↔ {2})", path.posix.basename(change.path), target, branch);
        return {
          ticketId: ticket._id, change, left, right, title,
          resourceUri: right,
          decorations: { strikeThrough: change.status === "deleted", tooltip: `${statusName(change.status)} · ${change.path}${flagged.includes(change.path) ? ` · ${vscode.l10n.t("runs later in CI")}` : ""}` },
          command: { command: Commands.openReviewChange, title: vscode.l10n.t("Open Change"), arguments: [ticket._id, change.path] },
        };
      });
      return { project, ticket, resources, flagged };
    } catch (error) {
      this.deps.log.warn(`The changes of ${ticket._id} could not be listed: ${describeError(error)}`);
      return { project, ticket, resources: [], flagged: [], problem: describeError(error) };
    }
  }

  dispose(): void {
    for (const entry of this.entries.values()) entry.group.dispose();
    this.entries.clear();
    this.scm.dispose();
  }
}
