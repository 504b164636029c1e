// A ticket that is done needs no worktree any more: it is removed (its branch stays); re-planning
// closes the worktrees of the tickets it withdraws. Git refuses to remove a worktree with uncommitted changes, and then it is
// kept and the log says so: nothing an agent wrote is thrown away.
import type * as vscode from "vscode";
import type { GitOps } from "../../core/gitops/gitOps";
import { describeError, type Logger } from "../../core/logger";
import type { Project } from "../../core/store/records";
import type { ProjectTrust } from "../projects/projectTrust";
import type { StoreService } from "../store/storeService";

export interface WorktreeCleanupDeps {
  store: StoreService;
  log: Logger;
  trust: ProjectTrust;
  /** Git for a project's folder (extension.ts builds it, one for every feature). */
  git: (project: Project) => GitOps;
}

export function registerWorktreeCleanup(deps: WorktreeCleanupDeps): vscode.Disposable {
  return deps.store.followMemory((memory) =>
    memory.tickets.onDidChange((ticket) => {
      // Withdrawn tickets: re-planning closes their worktrees itself.
      if (ticket.column !== "done") return;
      void (async () => {
        const project = await memory.projects.get(ticket.projectId);
        // Background work asks nothing: a folder not trusted yet keeps its worktree.
        if (!project || !deps.trust.knows(project.root)) return;
        await deps.git(project).closeTicket(ticket._id);
      })().catch((error: unknown) => deps.log.warn(`The worktree of ${ticket._id} was kept: ${describeError(error)}`));
    }),
  );
}
