// The team a window steers, wherever it runs: in the engine (the default: one orchestrator for
// every window of the data folder, joined by the projects that belong to this window), or in this
// window over MongoDB, which the window opens itself (core/orchestrator as before).
import { pairWire, type AllocationStatus, type PairStatusWire } from "../../protocol/engine";
import { promises as fs } from "node:fs";
import * as vscode from "vscode";
import type { DevDecision, PlanningOutcome } from "../../core/agents/planning";
import type { ModelManager } from "../../core/models/manager";
import type { GitOps } from "../../core/gitops/gitOps";
import type { Logger } from "../../core/logger";
import type { MemoryManager } from "../../core/memory/memoryManager";
import type { HumanPort } from "../../core/orchestrator/human";
import { Orchestrator } from "../../core/orchestrator/orchestrator";
import { settingsSnapshot } from "../../core/settings";
import { specFileOf } from "../../core/spec/specFile";
import type { Project } from "../../core/store/records";
import type { WorktreeFiles } from "../../core/tdd/edits";
import type { TestRunner } from "../../core/tdd/testRun";
import type { Settings } from "../../platform/settings";
import type { CurrentProject } from "../projects/currentProject";
import type { ProjectTrust } from "../projects/projectTrust";
import type { EngineTeamLink, StoreService } from "../store/storeService";

/** What the team commands and views ask of the window's team. */
export interface WindowTeam extends vscode.Disposable {
  plan(project: Project): Promise<PlanningOutcome>;
  startPairs(project: Project): Promise<"started" | "running">;
  pausePairs(project: Project): Promise<boolean>;
  /** The window acted on the project (its folder trusted now): its team works on it from now on. */
  join(project: Project): Promise<void>;
  idle(): Promise<void>;
  /** Pairs at work now on this window's projects (not pausing). */
  workingPairs(): Promise<number>;
  /** The Resource Director's allocation of every busy project. */
  allocations(): Promise<AllocationStatus[]>;
  /** What every pair does now (the ticket, its step and model). */
  pairs(): Promise<PairStatusWire[]>;
  /** Whether the project's pairs wait for Start Pair (Pause Pair, auto-start off, the folder not trusted yet); undefined when the engine cannot say. */
  waitsForStart(project: Project): Promise<boolean | undefined>;
  /** Called before the store closes: the window's own pairs stop at their step boundary. */
  stop(): Promise<void>;
}

export interface TeamDeps {
  store: StoreService;
  current: CurrentProject;
  /** The ModelService: its registry once `ready`, and when it is read again. */
  models: { manager: ModelManager; registry: unknown; ready: Promise<void>; onDidReload: vscode.Event<void> };
  settings: Settings;
  log: Logger;
  runner: TestRunner;
  trust: ProjectTrust;
  git: (project: Project) => GitOps;
  files: (worktree: string) => WorktreeFiles;
  scan: (project: Project) => Promise<string | undefined>;
}

/** The editor as the team's human: the PM asks in the chat and a modal dialog takes the answer. */
async function askAboutDev(memory: MemoryManager, project: Pick<Project, "_id" | "name">): Promise<DevDecision> {
  await memory.transcript.record({ kind: "message", projectId: project._id, channel: "human", from: "pm", text: "The repository already has a DEV branch. Should the Architect reuse it, recreate it from main, or pause?" });
  const reuse = vscode.l10n.t("Reuse DEV");
  const recreate = vscode.l10n.t("Recreate DEV");
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t("{0}: a DEV branch exists already.", project.name),
    { modal: true, detail: vscode.l10n.t("Reuse keeps its commits; recreate starts it again from the main branch; cancel pauses planning.") },
    reuse, recreate,
  );
  return choice === reuse ? "reuse" : choice === recreate ? "recreate" : "pause";
}

const tell = (level: "info" | "warn", text: string) => void (level === "info" ? vscode.window.showInformationMessage(text) : vscode.window.showWarningMessage(text));

/** The engine's team: this window configures it with its settings and models and joins the projects that belong here. */
export function engineWindowTeam(deps: TeamDeps, memory: MemoryManager, link: EngineTeamLink, onPairsChanged: () => void): WindowTeam {
  // Not before the registry is read: the engine would plan with no models and fail.
  const configure = async () => {
    await deps.models.ready;
    await link.configure(settingsSnapshot(deps.settings), deps.models.registry as Record<string, unknown>);
  };
  const joinOne = async (project: Project) => {
    const held = await link.join(project._id, deps.trust.knows(project.root));
    if (held) deps.log.info(`"${project.name}" is worked on by another Redgreen client (pid ${held.holderPid})`);
  };
  /**
   * Joins every project that belongs to this window and whose folder it trusts (an untrusted one
   * is joined once a command asks for trust); one pass at a time, and one more after if asked meanwhile.
   */
  let joining: Promise<void> = Promise.resolve();
  /** The latest configuration sent: joins wait for it (the engine refuses a join before any). */
  let configured: Promise<void> = Promise.resolve();
  const joinAll = () => (joining = joining.then(async () => {
    await configured;
    for (const project of await memory.projects.list()) if (deps.current.belongsHere(project) && deps.trust.knows(project.root)) await joinOne(project);
  }).catch((error: unknown) => deps.log.warn(`Joining the engine's team: ${String(error)}`)));
  const reconfigure = () => {
    configured = configure().catch((error: unknown) => deps.log.warn(`Configuring the engine's team: ${String(error)}`));
    void joinAll();
  };
  reconfigure();
  const subscriptions = vscode.Disposable.from(
    deps.current.onDidChange(() => void joinAll()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void joinAll()),
    deps.models.onDidReload(reconfigure),
    vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration("redgreen") && reconfigure()),
    link.onDecideDev((projectId, name) => askAboutDev(memory, { _id: projectId, name })),
    link.onNotice(({ level, text }) => tell(level, text)),
    link.onPairsChanged(onPairsChanged),
  );
  const mine = async () => {
    const projects = new Set((await memory.projects.list()).filter((p) => deps.current.belongsHere(p)).map((p) => p._id));
    return (await link.pairs()).filter((pair) => pair.projectId && projects.has(pair.projectId) && !pair.pausing).length;
  };
  return {
    plan: (project) => link.plan(project._id),
    startPairs: (project) => link.startPairs(project._id),
    pausePairs: (project) => link.pausePairs(project._id),
    join: async (project) => {
      await joining;
      await configure();
      await joinOne(project);
    },
    idle: () => link.idle(),
    workingPairs: mine,
    allocations: () => link.allocations(),
    pairs: () => link.pairs(),
    waitsForStart: async (project) => (await link.waitingForStart())?.includes(project._id),
    // The engine's pairs stop when this window hangs up (or go on, with engine.keepWorking).
    stop: () => Promise.resolve(),
    dispose: () => {
      subscriptions.dispose();
    },
  };
}

/** With MongoDB the window opens the store itself, and its team runs here. */
export function localWindowTeam(deps: TeamDeps, memory: MemoryManager, onPairsChanged: () => void): WindowTeam {
  const human: HumanPort = { decideDev: (project) => askAboutDev(memory, project), notify: tell };
  const orchestrator = new Orchestrator({
    memory, models: () => deps.models.manager, git: deps.git, runner: deps.runner, files: deps.files, settings: () => deps.settings, log: deps.log, human,
    readSpec: (project) => fs.readFile(specFileOf(project), "utf8"),
    scan: deps.scan,
    // Background work never asks (a question per event would be a storm of dialogs): a folder
    // outside the workspace is asked about by New Project, Plan Project or Start Pair.
    scope: (project) => deps.current.belongsHere(project),
    refusal: (project) => Promise.resolve(deps.trust.knows(project.root) ? undefined : `${project.root} is not trusted yet: run Plan Project or Start Pair to be asked`),
    onPairsChanged,
  }).start();
  // Auto-start on or off changes what the board offers.
  const settingsFollowed = vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration("redgreen.pairs") && onPairsChanged());
  return {
    plan: (project) => orchestrator.plan(project._id),
    startPairs: (project) => {
      const busy = orchestrator.status().some((pair) => pair.projectId === project._id && !pair.pausing);
      orchestrator.startPairs(project._id);
      return Promise.resolve(busy ? "running" : "started");
    },
    pausePairs: (project) => orchestrator.pausePairs(project._id),
    join: () => Promise.resolve(orchestrator.reconsider()),
    idle: () => orchestrator.idle(),
    workingPairs: () => Promise.resolve(orchestrator.status().filter((pair) => pair.ticketId && !pair.pausing).length),
    allocations: () => Promise.resolve(orchestrator.allocations()),
    pairs: () => Promise.resolve(orchestrator.status().map((pair) => pairWire(pair, (role) => deps.models.manager.modelIdOf(role)))),
    waitsForStart: (project) => Promise.resolve(orchestrator.waitsForStart(project) || !deps.trust.knows(project.root)),
    stop: () => orchestrator.stop(),
    dispose: () => {
      settingsFollowed.dispose();
      orchestrator.dispose();
    },
  };
}
