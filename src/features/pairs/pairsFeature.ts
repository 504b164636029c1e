// The Developer/Tester pair in the editor: one pair per project (this is a 2-core machine's
// worth of work), taking the project's ready tickets one after another through the TDD engine.
// Pausing takes effect at the next step boundary, as does a project put on hold; nothing is lost
// (every red and green is a commit in the ticket's worktree) and Start Pair goes on from there.
import * as vscode from "vscode";
import { worktreeFiles } from "../../adapters/exec/worktreeFiles";
import { simpleGitPort } from "../../adapters/git/simpleGit";
import type { PmModels } from "../../core/agents/pm";
import { GitOps } from "../../core/gitops/gitOps";
import { describeError, type Logger } from "../../core/logger";
import type { MemoryManager } from "../../core/memory/memoryManager";
import type { Project, Ticket } from "../../core/store/records";
import { DEFAULT_TDD_LIMITS, runTicket, type TicketOutcome } from "../../core/tdd/engine";
import type { TestRunner } from "../../core/tdd/testRun";
import { refuseMove, stoppedFor } from "../../core/tickets/ticketRules";
import type { Settings } from "../../platform/settings";
import { Commands } from "../commands";
import type { CurrentProject } from "../projects/currentProject";
import type { ProjectTrust } from "../projects/projectTrust";
import type { StoreService } from "../store/storeService";

const PAIR = "pair-1";

interface RunningPair {
  pausing: boolean;
  controller: AbortController;
  done: Promise<void>;
}

/** The next ticket for the pair: its own ticket in progress first, then the first ready one to do. */
export function nextTicket(tickets: Ticket[]): Ticket | undefined {
  const live = tickets.filter((t) => !t.withdrawn);
  return live.find((t) => t.column === "inprogress" && t.assignedPair === PAIR && !stoppedFor(t))
    ?? live.find((t) => t.column === "todo" && refuseMove(t, "inprogress", live) === undefined);
}

export function registerPairs(deps: { store: StoreService; current: CurrentProject; models: PmModels; settings: Settings; log: Logger; runner: TestRunner; trust: ProjectTrust }): vscode.Disposable {
  const running = new Map<string, RunningPair>();

  const memory = () => deps.store.memory();

  const work = async (m: MemoryManager, project: Project, pair: RunningPair): Promise<void> => {
    const { settings } = deps;
    const limits = { ...DEFAULT_TDD_LIMITS, attemptsPerStep: settings.get("tdd.attemptsPerStep"), cyclesPerTicket: settings.get("tdd.cyclesPerTicket"), testTimeoutMs: settings.get("tdd.testTimeoutSeconds") * 1000, checkpointMs: settings.get("tdd.checkpointMinutes") * 60_000,
      ...(settings.get("tdd.coverageCommand") ? { coverage: { command: settings.get("tdd.coverageCommand"), target: settings.get("tdd.coverageTarget") } } : {}) };
    const git = new GitOps(simpleGitPort, project.root, deps.log);
    const paused = async () => pair.pausing || (await m.getProject(project._id))?.state !== "executing";
    for (;;) {
      if (await paused()) return;
      const ticket = nextTicket(await m.tickets(project._id));
      if (!ticket) {
        await m.record({ kind: "message", channel: "agents", projectId: project._id, from: "developer", text: `${PAIR}: no ticket is ready (to do and not waiting for another).` });
        return;
      }
      deps.log.info(`${PAIR} works on ${ticket._id} of "${project.name}"`);
      const outcome: TicketOutcome = await runTicket(project, ticket, {
        memory: m, models: deps.models, git, runner: deps.runner, files: worktreeFiles, testPaths: settings.get("tdd.testPaths"), limits, pair: PAIR, paused, signal: pair.controller.signal,
      });
      deps.log.info(`${PAIR} on ${ticket._id}: ${outcome.kind}${outcome.kind === "blocked" ? ` (${outcome.reason})` : ""}`);
      deps.current.touch();
      if (outcome.kind !== "review") return;
    }
  };

  const start = vscode.commands.registerCommand(Commands.startPair, async (projectId?: unknown): Promise<string | undefined> => {
    const m = await memory();
    const project = await deps.current.resolve(projectId);
    if (!project) return undefined;
    // The project's folder, where git and the tests run, may lie outside the trusted workspace.
    if (!(await deps.trust.allows(project.root, vscode.l10n.t("start a pair")))) return undefined;
    if (project.state !== "executing") {
      void vscode.window.showInformationMessage(vscode.l10n.t("{0} is not executing (it is {1}): plan it or resume it first.", project.name, project.state));
      return undefined;
    }
    const existing = running.get(project._id);
    if (existing && !existing.pausing) return "running";
    // A pair that is pausing ends its step first; a new one starts after it.
    if (existing) await existing.done;
    const pair: RunningPair = { pausing: false, controller: new AbortController(), done: Promise.resolve() };
    pair.done = work(m, project, pair)
      .catch((error: unknown) => {
        deps.log.error(`${PAIR} stopped on an error: ${describeError(error)}`);
        void vscode.window.showErrorMessage(vscode.l10n.t("The pair stopped: {0}", describeError(error)));
      })
      .finally(() => running.delete(project._id));
    running.set(project._id, pair);
    return "started";
  });

  const pause = vscode.commands.registerCommand(Commands.pausePair, async (projectId?: unknown): Promise<boolean> => {
    const project = typeof projectId === "string" ? { _id: projectId } : await deps.current.get();
    const pair = project && running.get(project._id);
    if (!pair) return false;
    pair.pausing = true;
    void vscode.window.showInformationMessage(vscode.l10n.t("The pair pauses at its next step."));
    await pair.done;
    return true;
  });

  return new vscode.Disposable(() => {
    start.dispose();
    pause.dispose();
    for (const pair of running.values()) pair.controller.abort();
  });
}
