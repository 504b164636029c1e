// The team in the editor: the commands that steer it (Plan Project, Start Pair, Pause Pair, Pause
// Project, Resume Project) over the window's team (windowTeam.ts): the engine's, or this window's
// own with MongoDB. A new store (a reopen, the engine started again) brings a new one.
import { promises as fs } from "node:fs";
import * as vscode from "vscode";
import type { PlanningOutcome } from "../../core/agents/planning";
import { pauseProject, resumeProject } from "../../core/orchestrator/projectRules";
import type { Project } from "../../core/store/records";
import { specFileOf } from "../../core/spec/specFile";
import { CommandRefusal, registerRedgreenCommand } from "../../platform/command";
import { Commands } from "../../protocol/commands";
import type { AllocationStatus, PairStatusWire } from "../../protocol/engine";
import { engineWindowTeam, localWindowTeam, type TeamDeps, type WindowTeam } from "./windowTeam";

export type { TeamDeps } from "./windowTeam";

/** How long a closing store waits for this window's own pairs to reach a step boundary (deactivation has a few seconds). */
const STOP_GRACE_MS = 4000;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Team extends vscode.Disposable {
  /** Resolves when the team has nothing running and nothing ready (for tests and review). */
  idle(): Promise<void>;
  /** Pairs working now on this window's projects. */
  workingPairs(): Promise<number>;
  /** A pair took a ticket or let it go, or the Resource Director's allocation changed. */
  onDidChangePairs: vscode.Event<void>;
  /** The Resource Director's allocation of the project, when it has ready work or pairs. */
  allocation(projectId: string): Promise<AllocationStatus | undefined>;
  /** What every pair does now (none while the store is closed). */
  pairs(): Promise<PairStatusWire[]>;
  /** Whether the project's pairs wait for Start Pair; undefined when the team cannot say. */
  waitsForStart(project: Project): Promise<boolean | undefined>;
}

export function registerTeam(deps: TeamDeps): Team {
  let team: WindowTeam | undefined;
  const pairsChanged = new vscode.EventEmitter<void>();
  const onPairs = () => pairsChanged.fire();
  const follow = deps.store.followState((state) => {
    team?.dispose();
    team = undefined;
    if (state.kind !== "open") return;
    team = state.engine ? engineWindowTeam(deps, state.memory, state.engine.team, onPairs) : localWindowTeam(deps, state.memory, onPairs);
  });
  // A reopen or deactivation closes the store: this window's own pairs stop at their step boundary
  // first, or after a grace are cancelled (the engine then stops as if paused; nothing verified is lost).
  const stopFirst = deps.store.beforeClose(async () => {
    const stopping = team;
    if (!stopping) return;
    const stopped = await Promise.race([stopping.stop().then(() => true), delay(STOP_GRACE_MS).then(() => false)]);
    if (!stopped) deps.log.warn(`The pairs did not reach a step boundary within ${STOP_GRACE_MS / 1000} s of the store closing: cancelled`);
  });
  const running = () => {
    if (!team) throw new Error("Redgreen's store is not open");
    return team;
  };
  const subscriptions = vscode.Disposable.from(follow, stopFirst, pairsChanged, ...teamCommands(deps, running));
  return {
    idle: async () => {
      await team?.idle();
    },
    workingPairs: async () => (await team?.workingPairs()) ?? 0,
    allocation: async (projectId) => (await team?.allocations())?.find((a) => a.projectId === projectId),
    pairs: async () => (await team?.pairs()) ?? [],
    waitsForStart: async (project) => team?.waitsForStart(project),
    onDidChangePairs: pairsChanged.event,
    dispose: () => {
      subscriptions.dispose();
      team?.dispose();
    },
  };
}

function teamCommands(deps: TeamDeps, team: () => WindowTeam): vscode.Disposable[] {
  const { current, trust, log } = deps;
  const memory = () => deps.store.memory();
  /** The project a command acts on, once its folder (which may lie outside the workspace) is trusted for what it does. */
  const trustedTarget = async (projectId: unknown, what: string): Promise<Project | undefined> => {
    const project = await current.target(projectId);
    if (!(await trust.allows(project.root, what))) return undefined;
    // Acted on here: this window's team works on it from now on.
    await current.adopt(project._id);
    await team().join(project);
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
        return team().plan(project);
      },
    }),
    registerRedgreenCommand<"started" | "running">(Commands.startPair, log, {
      title: vscode.l10n.t("Start Pair"),
      runsGit: vscode.l10n.t("start a pair"),
      run: async (projectId) => {
        const project = await trustedTarget(projectId, vscode.l10n.t("start a pair"));
        if (!project) return undefined;
        if (project.state !== "executing") throw new CommandRefusal(vscode.l10n.t("{0} is not executing (it is {1}): plan it or resume it first.", project.name, project.state));
        return team().startPairs(project);
      },
    }),
    registerRedgreenCommand<boolean>(Commands.pausePair, log, {
      title: vscode.l10n.t("Pause Pair"),
      run: async (projectId) => {
        const project = await current.target(projectId);
        void vscode.window.showInformationMessage(vscode.l10n.t("The pairs of {0} pause at their next step, until Start Pair.", project.name));
        return team().pausePairs(project);
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
