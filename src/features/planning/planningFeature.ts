// Planning in the editor: after a spec is approved (or with "Redgreen: Plan Project"), the
// Architect plans in the background; an existing DEV is the human's decision, asked through the
// PM and a modal dialog. The views follow the result.
import { promises as fs } from "node:fs";
import * as vscode from "vscode";
import { simpleGitPort } from "../../adapters/git/simpleGit";
import { scanRepository } from "../../adapters/repoScan";
import type { PmModels } from "../../core/agents/pm";
import { planProject, type DevDecision, type PlanningOutcome } from "../../core/agents/planning";
import { GitOps } from "../../core/gitops/gitOps";
import { describeError, type Logger } from "../../core/logger";
import { specHash } from "../../core/spec/spec";
import { Commands } from "../commands";
import { specFileOf } from "../projects/specDocuments";
import type { StoreService } from "../store/storeService";
import type { CurrentProject } from "../projects/currentProject";
import type { ProjectTrust } from "../projects/projectTrust";

export interface Planner extends vscode.Disposable {
  plan(projectId: string): Promise<PlanningOutcome>;
}

export function registerPlanning(deps: { store: StoreService; current: CurrentProject; models: PmModels; log: Logger; trust: ProjectTrust }): Planner {
  const running = new Map<string, Promise<PlanningOutcome>>();

  const plan = (projectId: string): Promise<PlanningOutcome> => {
    const already = running.get(projectId);
    if (already) return already;
    const run = (async (): Promise<PlanningOutcome> => {
      const state = await deps.store.ready();
      if (state.kind !== "open") return { kind: "failed", message: "Redgreen's store is not open" };
      const { memory } = state;
      const project = await memory.getProject(projectId);
      if (!project) return { kind: "failed", message: `No project ${projectId}` };
      const refusal = await deps.trust.refusal(project.root);
      if (refusal) return { kind: "failed", message: refusal };
      const spec = await fs.readFile(specFileOf(project), "utf8");
      deps.log.info(`Planning "${project.name}"`);
      const outcome = await planProject(project, spec, {
        memory,
        models: deps.models,
        git: new GitOps(simpleGitPort, project.root, deps.log),
        scan: (root) => scanRepository(root, project.specPath),
        decideDev: async (p): Promise<DevDecision> => {
          await memory.record({ kind: "message", projectId: p._id, channel: "human", from: "pm", text: `The repository already has a DEV branch. Should the Architect reuse it, recreate it from main, or pause?` });
          deps.current.touch();
          const reuse = vscode.l10n.t("Reuse DEV");
          const recreate = vscode.l10n.t("Recreate DEV");
          const choice = await vscode.window.showWarningMessage(
            vscode.l10n.t("{0}: a DEV branch exists already.", p.name),
            { modal: true, detail: vscode.l10n.t("Reuse keeps its commits; recreate starts it again from the main branch; cancel pauses planning.") },
            reuse, recreate,
          );
          return choice === reuse ? "reuse" : choice === recreate ? "recreate" : "pause";
        },
      });
      deps.log.info(`Planning "${project.name}": ${outcome.kind}${outcome.kind === "failed" ? ` (${outcome.message})` : ""}`);
      deps.current.touch();
      return outcome;
    })()
      .catch((error: unknown): PlanningOutcome => ({ kind: "failed", message: describeError(error) }))
      .finally(() => running.delete(projectId));
    running.set(projectId, run);
    return run;
  };

  const command = vscode.commands.registerCommand(Commands.planProject, async (projectId?: unknown): Promise<PlanningOutcome | undefined> => {
    const project = await deps.current.resolve(projectId);
    if (!project) {
      void vscode.window.showInformationMessage(vscode.l10n.t("No project to plan."));
      return undefined;
    }
    const outcome = await plan(project._id);
    if (outcome.kind === "failed") void vscode.window.showErrorMessage(outcome.message);
    return outcome;
  });
  // On hold → going again: with the approved spec unchanged, the agents resume the board as it
  // is; with no tickets yet, planning starts. A changed spec must be approved first.
  const resume = vscode.commands.registerCommand(Commands.resumeProject, async (projectId?: unknown): Promise<string | undefined> => {
    const state = await deps.store.ready();
    if (state.kind !== "open") return undefined;
    const { memory } = state;
    const project = await deps.current.resolve(projectId);
    if (!project || project.state !== "onHold") {
      void vscode.window.showInformationMessage(vscode.l10n.t("No project is on hold."));
      return undefined;
    }
    const approved = await memory.approvedSpec(project._id);
    const text = await fs.readFile(specFileOf(project), "utf8").catch(() => undefined);
    if (!approved || text === undefined || specHash(text) !== approved.hash) {
      void vscode.window.showWarningMessage(vscode.l10n.t("The spec of {0} differs from its approved version: approve it first (the Architect then re-plans).", project.name));
      return undefined;
    }
    const tickets = (await memory.tickets(project._id)).filter((t) => !t.withdrawn);
    if (tickets.length > 0) {
      await memory.transitionProject(project._id, "executing", "human", "resumed by the human");
      await memory.record({ kind: "message", projectId: project._id, channel: "human", from: "pm", text: `"${project.name}" is running again with the board as it is.` });
    } else {
      await memory.transitionProject(project._id, "approved", "human", "resumed by the human");
      void plan(project._id);
    }
    deps.current.touch();
    return (await memory.getProject(project._id))?.state;
  });
  // The human's pause of a whole project: its pair stops at its next step boundary.
  const pause = vscode.commands.registerCommand(Commands.pauseProject, async (projectId?: unknown): Promise<string | undefined> => {
    const state = await deps.store.ready();
    if (state.kind !== "open") return undefined;
    const project = await deps.current.resolve(projectId);
    if (!project || project.state !== "executing") {
      void vscode.window.showInformationMessage(vscode.l10n.t("No project is executing."));
      return undefined;
    }
    await state.memory.transitionProject(project._id, "onHold", "human", "paused by the human");
    await state.memory.record({ kind: "message", projectId: project._id, channel: "human", from: "pm", text: `"${project.name}" is paused: the agents stop at their next step. **Resume** goes on where they were.` });
    deps.current.touch();
    return "onHold";
  });
  return { plan, dispose: () => { command.dispose(); resume.dispose(); pause.dispose(); } };
}
