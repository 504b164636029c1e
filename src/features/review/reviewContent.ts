// Both sides of a review diff, served read-only from git: `redgreen-review:/<path>?project=…&ref=…`
// is the file at that commit of that project (empty where the file does not exist: an added file's
// left side, a deleted file's right side). Refs are commit hashes, so a document never goes stale.
// The same URIs carry the A/M/D letters the SCM view and the diff tabs show.
import * as vscode from "vscode";
import type { FileChange } from "../../core/gitops/git";
import type { GitOps } from "../../core/gitops/gitOps";

/** package.json's resourceLabelFormatters names it too, so paths show as "src/app.ts", not "/src/app.ts". */
export const REVIEW_SCHEME = "redgreen-review";

export interface ReviewSide {
  projectId: string;
  /** A commit hash. */
  ref: string;
  /** Relative to the repository's top, with forward slashes. */
  path: string;
}

export function reviewUri(side: ReviewSide): vscode.Uri {
  return vscode.Uri.from({ scheme: REVIEW_SCHEME, path: `/${side.path}`, query: new URLSearchParams({ project: side.projectId, ref: side.ref }).toString() });
}

export function parseReviewUri(uri: vscode.Uri): ReviewSide {
  const query = new URLSearchParams(uri.query);
  const projectId = query.get("project");
  const ref = query.get("ref");
  const path = uri.path.replace(/^\/+/, "");
  if (uri.scheme !== REVIEW_SCHEME || !projectId || !ref || !path) throw new Error(`${uri.toString()} is not a Redgreen review document`);
  return { projectId, ref, path };
}

const LETTERS: Record<FileChange["status"], { badge: string; color: string }> = {
  added: { badge: "A", color: "gitDecoration.addedResourceForeground" },
  modified: { badge: "M", color: "gitDecoration.modifiedResourceForeground" },
  deleted: { badge: "D", color: "gitDecoration.deletedResourceForeground" },
};

export function statusName(status: FileChange["status"]): string {
  return status === "added" ? vscode.l10n.t("Added") : status === "deleted" ? vscode.l10n.t("Deleted") : vscode.l10n.t("Modified");
}

export class ReviewContent implements vscode.TextDocumentContentProvider, vscode.FileDecorationProvider {
  private statuses = new Map<string, FileChange["status"]>();
  private readonly decorationsChanged = new vscode.EventEmitter<vscode.Uri[]>();
  readonly onDidChangeFileDecorations = this.decorationsChanged.event;

  /** `git(projectId)`: the project's git operations; throws when it cannot run (untrusted, no project). */
  constructor(private readonly git: (projectId: string) => Promise<GitOps>) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const side = parseReviewUri(uri);
    return (await (await this.git(side.projectId)).fileAt(side.ref, side.path)) ?? "";
  }

  /** The review's files and their status, replacing the previous ones. */
  setStatuses(next: Map<vscode.Uri, FileChange["status"]>): void {
    const changed = [...this.statuses.keys(), ...[...next.keys()].map((uri) => uri.toString())];
    this.statuses = new Map([...next].map(([uri, status]) => [uri.toString(), status]));
    this.decorationsChanged.fire(changed.map((text) => vscode.Uri.parse(text)));
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    if (uri.scheme !== REVIEW_SCHEME) return undefined;
    const status = this.statuses.get(uri.toString());
    if (!status) return undefined;
    const letter = LETTERS[status];
    return new vscode.FileDecoration(letter.badge, statusName(status), new vscode.ThemeColor(letter.color));
  }

  dispose(): void {
    this.decorationsChanged.dispose();
  }
}
