// The team in the editor: one orchestrator per open store (core/orchestrator does the work), with
// the editor as its human port (a modal question about an existing DEV, notifications), and the
// commands that steer it: Plan Project, Start Pair, Pause Pair, Pause Project, Resume Project.
import { promises as fs } from "node:fs";
import * as vscode from "vscode";
import type { DevDecision, PlanningOutcome } from "../../core/agents/planning";
import type { AgentModels } from "../../core/models/manager";
import type { GitOps } from "../../core/gitops/gitOps";
import type { Logger } from "../../core/logger";
import type { MemoryManager } from "../../core/memory/memoryManager";
import type { HumanPort } from "../../core/orchestrator/human";
import { Orchestrator } from "../../core/orchestrator/orchestrator";
import { pauseProject, ProjectRuleError, resumeProject } from "../../core/orchestrator/projectRules";
import type { Project } from "../../core/store/records";
import type { WorktreeFiles } from "../../core/tdd/edits";
import type { TestRunner } from "../../core/tdd/testRun";
import type { Settings } from "../../platform/settings";
import { Commands } from "../../protocol/commands";
import type { CurrentProject } from "../projects/currentProject";
import type { ProjectTrust } from "../projects/projectTrust";
import { specFileOf } from "../../core/spec/specFile";
import type { StoreService } from "../store/storeService";

export interface TeamDeps {
  store: StoreService;
  current: CurrentProject;
  models: AgentModels;
  settings: Settings;
  log: Logger;
  runner: TestRunner;
  trust: ProjectTrust;
  git: (project: Project) => GitOps;
  files: (worktree: string) => WorktreeFiles;
  scan: (project: Project) => Promise<string | undefined>;
}

export interface Team extends vscode.Disposable {
  /** Resolves when the team has nothing running and nothing ready (for tests). */
  idle(): Promise<void>;
}

/** The editor as the team's human: the PM asks in the chat and a modal dialog takes the answer. */
function editorHuman(memory: MemoryManager): HumanPort {
  return {
    decideDev: async (project): Promise<DevDecision> => {
      await memory.transcript.record({ kind: "message", projectId: project._id, channel: "human", from: "pm", text: "The repository already has a DEV branch. Should the Architect reuse it, recreate it from main, or pause?" });
      const reuse = vscode.l10n.t("Reuse DEV");
      const recreate = vscode.l10n.t("Recreate DEV");
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t("{0}: a DEV branch exists already.", project.name),
        { modal: true, detail: vscode.l10n.t("Reuse keeps its commits; recreate starts it again from the main branch; cancel pauses planning.") },
        reuse, recreate,
      );
      return choice === reuse ? "reuse" : choice === recreate ? "recreate" : "pause";
    },
    notify: (level, text) => void (level === "info" ? vscode.window.showInformationMessage(text) : vscode.window.showWarningMessage(text)),
  };
}

export function registerTeam(deps: TeamDeps): Team {
  let orchestrator: Orchestrator | undefined;
  const follow = deps.store.followMemory((memory) => {
    const made = new Orchestrator({
      memory, models: deps.models, git: deps.git, runner: deps.runner, files: deps.files, settings: deps.settings, log: deps.log, human: editorHuman(memory),
      readSpec: (project) => fs.readFile(specFileOf(project), "utf8"),
      scan: deps.scan,
      // Background work never asks (a question per event would be a storm of dialogs): a folder
      // outside the workspace is asked about by New Project, Plan Project or Start Pair.
      refusal: (project) => Promise.resolve(deps.trust.knows(project.root) ? undefined : `${project.root} is not trusted yet: run Plan Project or Start Pair to be asked`),
    }).start();
    orchestrator = made;
    return { dispose: () => { made.dispose(); if (orchestrator === made) orchestrator = undefined; } };
  });
  const running = () => {
    if (!orchestrator) throw new Error("Redgreen's store is not open");
    return orchestrator;
  };
  const subscriptions = vscode.Disposable.from(follow, ...teamCommands(deps, running));
  return {
    idle: async () => {
      await orchestrator?.idle();
    },
    dispose: () => {
      subscriptions.dispose();
    },
  };
}

function teamCommands(deps: TeamDeps, team: () => Orchestrator): vscode.Disposable[] {
  const memory = () => deps.store.memory();
  /** A project rule's refusal is said plainly; anything else is an error. */
  const withRules = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof ProjectRuleError)) throw error;
      void vscode.window.showInformationMessage(error.message);
      return undefined;
    }
  };
  return [
    vscode.commands.registerCommand(Commands.planProject, async (projectId?: unknown): Promise<PlanningOutcome | undefined> => {
      const project = await deps.current.resolve(projectId);
      if (!project) {
        void vscode.window.showInformationMessage(vscode.l10n.t("No project to plan."));
        return undefined;
      }
      if (!(await deps.trust.allows(project.root, vscode.l10n.t("plan it")))) return undefined;
      const outcome = await team().plan(project._id);
      if (outcome.kind === "failed") void vscode.window.showErrorMessage(outcome.message);
      return outcome;
    }),
    vscode.commands.registerCommand(Commands.startPair, async (projectId?: unknown): Promise<string | undefined> => {
      const project = await deps.current.resolve(projectId);
      if (!project) return undefined;
      // The project's folder, where git and the tests run, may lie outside the trusted workspace.
      if (!(await deps.trust.allows(project.root, vscode.l10n.t("start a pair")))) return undefined;
      if (project.state !== "executing") {
        void vscode.window.showInformationMessage(vscode.l10n.t("{0} is not executing (it is {1}): plan it or resume it first.", project.name, project.state));
        return undefined;
      }
      const busy = team().status().some((pair) => pair.projectId === project._id && !pair.pausing);
      team().startPairs(project._id);
      return busy ? "running" : "started";
    }),
    vscode.commands.registerCommand(Commands.pausePair, async (projectId?: unknown): Promise<boolean> => {
      const project = await deps.current.resolve(projectId);
      if (!project) return false;
      void vscode.window.showInformationMessage(vscode.l10n.t("The pairs of {0} pause at their next step, until Start Pair.", project.name));
      return team().pausePairs(project._id);
    }),
    vscode.commands.registerCommand(Commands.pauseProject, async (projectId?: unknown): Promise<string | undefined> => {
      const project = await deps.current.resolve(projectId);
      if (!project) return undefined;
      return withRules(async () => (await pauseProject(await memory(), project)).state);
    }),
    vscode.commands.registerCommand(Commands.resumeProject, async (projectId?: unknown): Promise<string | undefined> => {
      const project = await deps.current.resolve(projectId);
      if (!project) return undefined;
      const text = await fs.readFile(specFileOf(project), "utf8").catch(() => undefined);
      return withRules(async () => (await resumeProject(await memory(), project, text)).state);
    }),
  ];
}
