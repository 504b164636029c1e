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
import { pauseProject, resumeProject } from "../../core/orchestrator/projectRules";
import type { Project } from "../../core/store/records";
import type { WorktreeFiles } from "../../core/tdd/edits";
import type { TestRunner } from "../../core/tdd/testRun";
import { CommandRefusal, registerRedgreenCommand } from "../../platform/command";
import type { Settings } from "../../platform/settings";
import { Commands } from "../../protocol/commands";
import type { CurrentProject } from "../projects/currentProject";
import type { ProjectTrust } from "../projects/projectTrust";
import { specFileOf } from "../../core/spec/specFile";
import type { StoreService } from "../store/storeService";

/** How long a closing store waits for the pairs to reach a step boundary (deactivation has a few seconds). */
const STOP_GRACE_MS = 4000;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
  /** Pairs working now (not pausing). */
  workingPairs(): number;
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
      // outside the workspace is asked about by New Project, Plan Project or Start Pair. One team
      // per project on the machine: the engine gives it to the first client that asks.
      scope: (project) => deps.current.belongsHere(project),
      refusal: async (project) => deps.trust.knows(project.root) ? deps.store.claimRefusal(project._id) : `${project.root} is not trusted yet: run Plan Project or Start Pair to be asked`,
    }).start();
    orchestrator = made;
    return { dispose: () => { made.dispose(); if (orchestrator === made) orchestrator = undefined; } };
  });
  // A reopen or deactivation closes the store: pairs stop at their step boundary first, or after
  // a grace are cancelled (the engine then stops as if paused; nothing verified is lost).
  const stopFirst = deps.store.beforeClose(async () => {
    const stopping = orchestrator;
    if (!stopping) return;
    try {
      const stopped = await Promise.race([stopping.stop().then(() => true), delay(STOP_GRACE_MS).then(() => false)]);
      if (!stopped) deps.log.warn(`The pairs did not reach a step boundary within ${STOP_GRACE_MS / 1000} s of the store closing: cancelled`);
    } finally {
      stopping.dispose();
    }
  });
  const running = () => {
    if (!orchestrator) throw new Error("Redgreen's store is not open");
    return orchestrator;
  };
  const subscriptions = vscode.Disposable.from(follow, stopFirst, ...teamCommands(deps, running));
  return {
    idle: async () => {
      await orchestrator?.idle();
    },
    workingPairs: () => orchestrator?.status().filter((pair) => pair.ticketId && !pair.pausing).length ?? 0,
    dispose: () => {
      subscriptions.dispose();
    },
  };
}

function teamCommands(deps: TeamDeps, team: () => Orchestrator): vscode.Disposable[] {
  const { current, trust, log } = deps;
  const memory = () => deps.store.memory();
  /** The project a command acts on, once its folder (which may lie outside the workspace) is trusted for what it does. */
  const trustedTarget = async (projectId: unknown, what: string): Promise<Project | undefined> => {
    const project = await current.target(projectId);
    if (!(await trust.allows(project.root, what))) return undefined;
    // Acted on here: this window's team works on it from now on.
    await current.adopt(project._id);
    return project;
  };
  return [
    registerRedgreenCommand<PlanningOutcome>(Commands.planProject, log, {
      title: vscode.l10n.t("Plan Project"),
      runsGit: vscode.l10n.t("plan a project"),
      run: async (projectId) => {
        const project = await trustedTarget(projectId, vscode.l10n.t("plan it"));
        if (!project) return undefined;
        // A failed plan is told by the team itself (its human port), once.
        return team().plan(project._id);
      },
    }),
    registerRedgreenCommand<"started" | "running">(Commands.startPair, log, {
      title: vscode.l10n.t("Start Pair"),
      runsGit: vscode.l10n.t("start a pair"),
      run: async (projectId) => {
        const project = await trustedTarget(projectId, vscode.l10n.t("start a pair"));
        if (!project) return undefined;
        if (project.state !== "executing") throw new CommandRefusal(vscode.l10n.t("{0} is not executing (it is {1}): plan it or resume it first.", project.name, project.state));
        const busy = team().status().some((pair) => pair.projectId === project._id && !pair.pausing);
        team().startPairs(project._id);
        return busy ? "running" : "started";
      },
    }),
    registerRedgreenCommand<boolean>(Commands.pausePair, log, {
      title: vscode.l10n.t("Pause Pair"),
      run: async (projectId) => {
        const project = await current.target(projectId);
        void vscode.window.showInformationMessage(vscode.l10n.t("The pairs of {0} pause at their next step, until Start Pair.", project.name));
        return team().pausePairs(project._id);
      },
    }),
    registerRedgreenCommand<string>(Commands.pauseProject, log, {
      title: vscode.l10n.t("Pause Project"),
      run: async (projectId) => (await pauseProject(await memory(), await current.target(projectId))).state,
    }),
    registerRedgreenCommand<string>(Commands.resumeProject, log, {
      title: vscode.l10n.t("Resume Project"),
      run: async (projectId) => {
        const project = await current.target(projectId);
        const text = await fs.readFile(specFileOf(project), "utf8").catch(() => undefined);
        return (await resumeProject(await memory(), project, text)).state;
      },
    }),
  ];
}
