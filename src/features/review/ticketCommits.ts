// A ticket's own commits (`git log feature..ticket`), newest first, and one commit's changes
// against its parent in the multi-file diff editor.
import * as vscode from "vscode";
import type { CommitInfo } from "../../core/gitops/git";
import type { GitOps } from "../../core/gitops/gitOps";
import type { Project, Ticket } from "../../core/store/records";
import { branchOf, mergeTarget } from "../../core/tickets/review";
import { reviewUri } from "./reviewContent";

export function ticketCommits(ticket: Ticket, git: GitOps): Promise<CommitInfo[]> {
  return git.commits(mergeTarget(ticket), branchOf(ticket));
}

export async function pickCommit(ticket: Ticket, commits: CommitInfo[]): Promise<CommitInfo | undefined> {
  const picked = await vscode.window.showQuickPick(
    commits.map((commit) => ({
      label: commit.subject || commit.hash.slice(0, 10),
      description: [commit.hash.slice(0, 7), commit.trailers["Redgreen-Agent"]].filter(Boolean).join(" · "),
      detail: `${commit.author}, ${commit.date.toLocaleString()}`,
      commit,
    })),
    { title: vscode.l10n.t("Commits of {0} ({1} since {2})", ticket._id, branchOf(ticket), mergeTarget(ticket)), matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.commit;
}

/** Opens what `commit` changed against its first parent; returns the editor's title. */
export async function openCommit(project: Project, ticket: Ticket, commit: CommitInfo, git: GitOps): Promise<string> {
  const changes = await git.commitChanges(commit.hash);
  const title = vscode.l10n.t("{0} · {1} {2}", ticket._id, commit.hash.slice(0, 7), commit.subject);
  if (changes.files.length === 0) {
    void vscode.window.showInformationMessage(vscode.l10n.t("{0} changes no file of its own (it is a merge that brought nothing new, or empty).", commit.hash.slice(0, 7)));
    return title;
  }
  const side = (ref: string | undefined, file: string) => (ref === undefined ? undefined : reviewUri({ projectId: project._id, ref, path: file }));
  const resources = changes.files.map((change) => {
    const left = change.status === "added" ? undefined : side(changes.parent, change.path);
    const right = change.status === "deleted" ? undefined : side(changes.head, change.path);
    return [right ?? left, left, right];
  });
  await vscode.commands.executeCommand("vscode.changes", title, resources);
  return title;
}
