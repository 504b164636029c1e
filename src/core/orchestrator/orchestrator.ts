import { completeFunctionality, featureSuiteCheck, type FunctionalityCompletion } from "../agents/functionCompletion";
import { planProject, type PlanningOutcome } from "../agents/planning";
import type { AgentModels } from "../models/manager";
import type { GitOps } from "../gitops/gitOps";
import { DisposableStore, type Disposable } from "../lifecycle";
import { describeError, type Logger } from "../logger";
import type { MemoryManager } from "../memory/memoryManager";
import type { Project, Ticket } from "../store/records";
import type { WorktreeFiles } from "../tdd/edits";
import { runTicket, type TicketOutcome } from "../tdd/engine";
import type { PairStep } from "../tdd/steps";
import type { TestRunner } from "../tdd/testRun";
import type { HumanPort } from "./human";
import type { DirectedProject, Pause, WaitingWork } from "../resources/director";
import type { ModelMemory } from "../resources/policy";
import { readyTickets, type ReadyTicket } from "./readyWork";
import { ResourceTurns, type AllocationState } from "./resourceTurns";
import { tddLimits, type SettingsReader } from "./settingsReader";

// "What happens next", for every project in the store, driven by the records' events rather than
// by clicks: an approved spec starts planning; in an executing project free pairs take ready
// tickets (a restart or a Request Changes picks a ticket up again, with what it needs in its
// context); a ticket that waits for the human waits; the approval of a functionality's last
// ticket completes it into DEV. Pairs are objects with ids, as many as `pairs.slots`, and stop
// only at a step boundary. The editor and the command line each run one over the same store.

export interface OrchestratorDeps {
  memory: MemoryManager;
  /** The models of the project's team (in the engine, those of the client whose team it is). */
  models(project: Project): AgentModels;
  git(project: Project): GitOps;
  runner: TestRunner;
  files(worktree: string): WorktreeFiles;
  /** The settings of the project's team; without a project, the machine's (how many pairs). */
  settings(project?: Project): SettingsReader;
  human: HumanPort;
  log: Logger;
  /** The approved spec's text as the project's file holds it now. */
  readSpec(project: Project): Promise<string>;
  /** The repository's files for the Architect (what exists already). */
  scan(project: Project): Promise<string | undefined>;
  /** Why git and tests may not run in the project's folder, or undefined when they may. */
  refusal(project: Project): Promise<string | undefined>;
  /**
   * The projects this orchestrator works on (the command line's `run <project>`, the projects the
   * engine's clients claimed); all when absent. Checked again at every step boundary: a pair whose
   * project left the scope stops there. Call reconsider() when it grows.
   */
  scope?: (project: Project) => boolean;
  /**
   * The model a project's pairs need (ModelManager.residencyOf the developer), the models loaded
   * now (the Director prefers work for those), and the memory heavy models share (none: no limit).
   */
  residency?: { of(project: Project): string | undefined; loaded(): Set<string>; memory?(): ModelMemory | undefined };
  /** A pair took a ticket or let it go, or the Resource Director's allocation changed (the engine tells its clients' status bars and boards). */
  onPairsChanged?: () => void;
}

/** One Developer/Tester pair: its id, and the ticket it works on when it works. */
export interface Pair {
  readonly id: string;
  work?: { projectId: string; ticketId: string; model?: string; since: Date; step?: PairStep; stepSince?: Date; controller: AbortController; pausing: boolean; done: Promise<void>; directorPause?: string };
}

export type PairStatus = { id: string; projectId?: string; ticketId?: string; since?: Date; pausing?: boolean; step?: PairStep; stepSince?: Date };

export class Orchestrator implements Disposable {
  private readonly pairs: Pair[] = [];
  private readonly subscriptions = new DisposableStore();
  private readonly planning = new Map<string, Promise<PlanningOutcome>>();
  private readonly completions = new Map<string, Promise<FunctionalityCompletion | undefined>>();
  /** Projects whose pairs the human paused (Pause Pair) until Start Pair. */
  private readonly pairsPaused = new Set<string>();
  /** With auto-start off: projects whose pairs the human started, until they run out of work. */
  private readonly started = new Set<string>();
  /** Tickets whose pair failed on an error that could not be recorded: not retried in this run. */
  private readonly failed = new Set<string>();
  /** Projects whose folder is not trusted, said once. */
  private readonly refused = new Set<string>();
  private assigning: Promise<void> | undefined;
  private again = false;
  private stopping = false;
  private booting: Promise<void> | undefined;
  /** Who waits for idleness: of everything, or of one project. */
  private readonly idleWaiters: { projectId?: string; resolve: () => void }[] = [];
  /** Projects with ready tickets the last pass had no free pair for. */
  private unserved = new Set<string>();
  /** Shares the machine between projects by priority: which ready ticket a free pair takes, which pair yields its slot. */
  private readonly turns: ResourceTurns;
  private review: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly deps: OrchestratorDeps) {
    this.turns = new ResourceTurns({ memory: deps.memory, log: deps.log, settings: () => deps.settings(), onChanged: () => deps.onPairsChanged?.() });
  }

  /** Follows the store's events and takes up what is waiting now (planning, tickets in progress after a restart). */
  start(): this {
    const { memory } = this.deps;
    this.subscriptions.add(memory.projects.onDidChange((project) => this.onProject(project)));
    this.subscriptions.add(memory.tickets.onDidChange((ticket) => this.onTicket(ticket)));
    this.scheduleReview();
    this.reconsider();
    return this;
  }

  /**
   * Takes up what waits in every project in scope (planning, ready tickets): at the start, and when
   * the scope grew (a client joined a project). Nobody is told "idle" before it has looked.
   */
  reconsider(): void {
    if (this.stopping) return;
    const run: Promise<void> = (this.booting ?? Promise.resolve())
      .then(async () => {
        for (const project of await this.deps.memory.projects.list()) this.onProject(project);
      })
      .catch((error: unknown) => this.deps.log.error(`Reading the projects: ${describeError(error)}`))
      .finally(() => {
        if (this.booting === run) this.booting = undefined;
        this.wake();
      });
    this.booting = run;
  }

  /**
   * The Director decides on every change of demand and at every step boundary; this pass also
   * comes by itself a few times per review cycle (read again each time: the settings may change),
   * so that turns come when nothing else happens.
   */
  private scheduleReview(): void {
    if (this.stopping) return;
    this.review = setTimeout(() => {
      this.wake();
      this.scheduleReview();
    }, this.turns.tickMs());
    this.review.unref?.();
  }

  /** Plans a project (an approved spec, or re-planning after a change); one run per project at a time. */
  plan(projectId: string): Promise<PlanningOutcome> {
    const already = this.planning.get(projectId);
    if (already) return already;
    const run = this.planNow(projectId).finally(() => {
      this.planning.delete(projectId);
      this.wake();
    });
    this.planning.set(projectId, run);
    return run;
  }

  /** The human's Start Pair: the project's pairs may work again (and, with auto-start off, do). */
  startPairs(projectId: string): void {
    this.pairsPaused.delete(projectId);
    this.started.add(projectId);
    this.deps.onPairsChanged?.();
    this.wake();
  }

  /** The human's Pause Pair: the project's pairs stop at their next step and take nothing new until Start Pair. Resolves once they stopped. */
  async pausePairs(projectId: string): Promise<boolean> {
    this.pairsPaused.add(projectId);
    this.started.delete(projectId);
    await this.assigning;
    const busy = this.pairs.flatMap((pair) => (pair.work?.projectId === projectId ? [pair.work] : []));
    for (const work of busy) work.pausing = true;
    this.deps.onPairsChanged?.();
    await Promise.all(busy.map((work) => work.done));
    return busy.length > 0;
  }

  /** Whether the project's pairs wait for Start Pair: paused by Pause Pair, or with auto-start off and not started. */
  waitsForStart(project: Project): boolean {
    return this.pairsPaused.has(project._id) || (!this.deps.settings(project).get("pairs.autoStart") && !this.started.has(project._id));
  }

  /** The project left this orchestrator's scope: a Pause Pair or Start Pair for it ends with the client that asked. */
  forget(projectId: string): void {
    this.pairsPaused.delete(projectId);
    this.started.delete(projectId);
  }

  /** The Resource Director's last allocation: each busy project's quota and share of the machine, its measured use, and its pairs at work. */
  allocations(): AllocationState[] {
    return this.turns.states((projectId) => this.pairs.filter((pair) => pair.work?.projectId === projectId).length);
  }

  /** What each pair does now. */
  status(): PairStatus[] {
    return this.pairs.map(({ id, work }) => ({ id, projectId: work?.projectId, ticketId: work?.ticketId, since: work?.since, pausing: work?.pausing, step: work?.step, stepSince: work?.stepSince }));
  }

  /**
   * Resolves when nothing runs (no pair, planning or completion) and nothing is ready to start;
   * with `projectId`, nothing of that project (another project's pairs may go on).
   */
  idle(projectId?: string): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push({ projectId, resolve });
      this.wake();
    });
  }

  /** Stops every pair at its next step boundary and waits for them; nothing new starts. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.review);
    this.subscriptions.dispose();
    await this.assigning;
    for (const pair of this.pairs) if (pair.work) pair.work.pausing = true;
    await Promise.all([...this.pairs.map((pair) => pair.work?.done), ...this.planning.values(), ...this.completions.values()]);
  }

  /** Ends at once: running pairs are cancelled (the engine stops as if paused; nothing verified is lost). */
  dispose(): void {
    this.stopping = true;
    clearTimeout(this.review);
    this.subscriptions.dispose();
    for (const pair of this.pairs) pair.work?.controller.abort();
  }

  // ---- events -------------------------------------------------------------------------------

  private onProject(project: Project): void {
    if (this.stopping || !this.inScope(project)) return;
    if (project.state === "approved") void this.plan(project._id);
    this.wake();
  }

  private onTicket(ticket: Ticket): void {
    if (this.stopping) return;
    // Approval (the human's move to done) may be the one that completes the functionality.
    if (ticket.column === "done" && ticket.history.at(-1)?.by === "human") void this.complete(ticket.projectId, ticket.functionalityId);
    this.wake();
  }

  // ---- assigning pairs --------------------------------------------------------------------

  /** Runs one assignment pass soon; calls during a pass share one more pass after it. */
  private wake(): void {
    if (this.assigning) {
      this.again = true;
      return;
    }
    this.assigning = (async () => {
      do {
        this.again = false;
        await this.assign().catch((error: unknown) => this.deps.log.error(`Assigning pairs: ${describeError(error)}`));
      } while (this.again && !this.stopping);
    })().finally(() => {
      this.assigning = undefined;
      if (this.again && !this.stopping) this.wake();
      else this.settleIfIdle();
    });
  }

  private async assign(): Promise<void> {
    if (this.stopping) return;
    this.resizePairs();
    const { ready, projects } = await this.readyWork();
    const memory = this.deps.residency?.memory?.();
    const decision = this.turns.decide({
      now: Date.now(), slots: this.deps.settings().get("pairs.slots"), otherTasks: this.planning.size + this.completions.size, projects, loadedModels: this.deps.residency?.loaded() ?? new Set(), ...(memory ? { memory } : {}),
      running: this.pairs.flatMap(({ id, work }) => (work ? [{ pairId: id, projectId: work.projectId, ticketId: work.ticketId, model: work.model, pausing: work.pausing, since: work.since.getTime() }] : [])),
      waiting: ready.map(({ project, ticket }): WaitingWork => ({ projectId: ticket.projectId, ticketId: ticket._id, resumed: ticket.column === "inprogress", createdAt: ticket.createdAt.getTime(), model: this.deps.residency?.of(project) })),
    });
    for (const pause of decision.pause) this.yieldSlot(pause);
    const free = this.pairs.filter((pair) => !pair.work);
    const byTicket = new Map(ready.map((next) => [next.ticket._id, next]));
    for (const work of decision.start) {
      const next = byTicket.get(work.ticketId)!;
      const pair = this.stopping ? undefined : this.pairFor(next.ticket, free);
      if (!pair) continue;
      byTicket.delete(work.ticketId);
      free.splice(free.indexOf(pair), 1);
      this.startPair(pair, next);
    }
    this.unserved = new Set([...byTicket.values()].map((next) => next.project._id));
  }

  /** Ready tickets of executing projects whose pairs may work, not taken by a pair already; and the projects the Director weighs (those, and those with a pair). */
  private async readyWork(): Promise<{ ready: ReadyTicket[]; projects: DirectedProject[] }> {
    const taken = new Set(this.pairs.map((pair) => pair.work?.ticketId).filter(Boolean));
    const working = new Set(this.pairs.map((pair) => pair.work?.projectId));
    const ready: ReadyTicket[] = [];
    const projects: DirectedProject[] = [];
    for (const project of await this.deps.memory.projects.list()) {
      const untaken = (await this.mayWork(project)) ? (await this.readyOf(project, working.has(project._id))).filter(({ ticket }) => !taken.has(ticket._id)) : [];
      if (working.has(project._id) || untaken.length > 0) projects.push({ projectId: project._id, name: project.name, priority: project.priority });
      ready.push(...untaken);
    }
    return { ready, projects };
  }

  /** A project's ready tickets, but those whose pair failed in this run. */
  private async readyOf(project: Project, working: boolean): Promise<ReadyTicket[]> {
    const tickets = readyTickets(project, await this.deps.memory.tickets.of(project._id)).filter(({ ticket }) => !this.failed.has(ticket._id));
    // A Start Pair (auto-start off) lasts until the project has no ready ticket and no pair on it.
    if (tickets.length === 0 && !working) this.started.delete(project._id);
    return tickets;
  }


  /** The Director gives a pair's slot to another project: the pair stops at its next step boundary, and says why. */
  private yieldSlot(pause: Pause): void {
    const work = this.pairs.find((pair) => pair.id === pause.pairId)?.work;
    if (!work || work.pausing) return;
    work.pausing = true;
    work.directorPause = pause.reason;
    this.turns.announce(pause);
    this.deps.onPairsChanged?.();
  }

  private async mayWork(project: Project): Promise<boolean> {
    if (project.state !== "executing" || this.pairsPaused.has(project._id) || !this.inScope(project)) return false;
    if (!this.deps.settings(project).get("pairs.autoStart") && !this.started.has(project._id)) return false;
    const refusal = await this.deps.refusal(project);
    if (refusal && !this.refused.has(project._id)) {
      this.refused.add(project._id);
      this.deps.log.warn(`No pair works on "${project.name}": ${refusal}`);
    }
    if (!refusal) this.refused.delete(project._id);
    return !refusal;
  }

  private inScope(project: Project): boolean {
    return this.deps.scope?.(project) ?? true;
  }

  /** The pair that worked on the ticket before, when it is free (Request Changes goes back to it), else any free one. */
  private pairFor(ticket: Ticket, free: Pair[]): Pair | undefined {
    return free.find((pair) => pair.id === ticket.assignedPair) ?? free[0];
  }

  private resizePairs(): void {
    const slots = this.deps.settings().get("pairs.slots");
    while (this.pairs.length < slots) this.pairs.push({ id: `pair-${this.pairs.length + 1}` });
    // Fewer slots: idle pairs beyond them go; busy ones finish their ticket first.
    while (this.pairs.length > slots && !this.pairs.at(-1)!.work) this.pairs.pop();
  }

  private startPair(pair: Pair, { project, ticket }: ReadyTicket): void {
    const work: NonNullable<Pair["work"]> = { projectId: project._id, ticketId: ticket._id, model: this.deps.residency?.of(project), since: new Date(), controller: new AbortController(), pausing: false, done: Promise.resolve() };
    pair.work = work;
    this.deps.onPairsChanged?.();
    work.done = this.runPair(pair, project, ticket)
      // Not when the human paused the project's pairs meanwhile: then it waits for Start Pair, not its turn.
      .then(() => (work.directorPause && !this.pairsPaused.has(project._id) ? this.turns.record(ticket._id, work.directorPause) : undefined))
      .finally(() => {
        pair.work = undefined;
        this.deps.onPairsChanged?.();
        this.wake();
      });
  }

  private async runPair(pair: Pair, project: Project, ticket: Ticket): Promise<void> {
    const { memory, log } = this.deps;
    const settings = this.deps.settings(project);
    const work = pair.work!;
    log.info(`${pair.id} works on ${ticket._id} of "${project.name}"`);
    let outcome: TicketOutcome;
    try {
      await this.turns.resume(project, ticket);
      outcome = await runTicket(project, ticket, {
        memory, models: this.deps.models(project), git: this.deps.git(project), runner: this.deps.runner, files: (worktree) => this.deps.files(worktree),
        testPaths: settings.get("tdd.testPaths"), limits: tddLimits(settings), pair: pair.id, signal: work.controller.signal,
        onStep: (step) => {
          work.step = step;
          work.stepSince = new Date();
          this.deps.onPairsChanged?.();
        },
        paused: async () => (await this.reviewAtBoundary()) || work.pausing || this.stopping || this.pairsPaused.has(project._id) || !this.inScope(project) || (await memory.projects.get(project._id))?.state !== "executing",
      });
    } catch (error) {
      return this.pairFailed(pair, ticket, error);
    }
    log.info(`${pair.id} on ${ticket._id}: ${outcome.kind}${outcome.kind === "blocked" ? ` (${outcome.reason})` : ""}`);
    if (outcome.kind === "paused") await this.sayWhyPaused(pair.id, project, ticket, work);
  }

  /** On the agents' channel: why the pair stopped at a step boundary (a Director's pause is said by the Director itself). */
  private async sayWhyPaused(pairId: string, project: Project, ticket: Ticket, work: NonNullable<Pair["work"]>): Promise<void> {
    if (work.directorPause) return;
    const { memory } = this.deps;
    const state = (await memory.projects.get(project._id).catch(() => undefined))?.state;
    const now = await memory.tickets.get(ticket._id).catch(() => undefined);
    const why = this.pairsPaused.has(project._id) ? "Pause Pair; it waits for Start Pair"
      : this.stopping ? "the team is stopping (its engine or window is closing)"
      : !this.inScope(project) ? "no window works on the project any more"
      : state !== "executing" ? `the project is ${state === "onHold" ? "on hold" : (state ?? "gone")}`
      : now?.withdrawn ? "re-planning withdrew the ticket"
      : now && now.column !== "inprogress" ? `the ticket was moved to ${now.column}`
      : "it was told to stop at its next step";
    const text = `${pairId} stopped ${ticket._id} at a step boundary: ${why}. Nothing is lost; the ticket goes on from its last step.`;
    await this.deps.memory.transcript.record({ kind: "message", channel: "agents", projectId: project._id, ticketId: ticket._id, from: pairId, text }).catch((error: unknown) => this.deps.log.warn(`Saying why ${pairId} stopped: ${describeError(error)}`));
  }

  /** A step boundary is when a pair can yield its slot: the Director looks again (false: the answer is in `work.pausing`). */
  private async reviewAtBoundary(): Promise<false> {
    this.wake();
    await this.assigning;
    return false;
  }

  /**
   * A pair that stopped on an error (git, the store, the file system) must not be retried in a
   * loop: the ticket waits for the human, with the error, like a blocked one.
   */
  private async pairFailed(pair: Pair, ticket: Ticket, error: unknown): Promise<void> {
    const reason = `${pair.id} stopped on an error: ${describeError(error)}`;
    this.deps.log.error(`${ticket._id}: ${reason}`);
    this.deps.human.notify("warn", `${ticket._id}: ${reason}`, ticket.projectId);
    const now = await this.deps.memory.tickets.get(ticket._id).catch(() => undefined);
    // Where the wait cannot be recorded (the ticket never left To do, the store failed), this
    // process leaves the ticket alone until it restarts: never a loop of the same failure.
    if (now?.column !== "inprogress") {
      this.failed.add(ticket._id);
      return;
    }
    await this.deps.memory.tickets.update(ticket._id, { waiting: { kind: "blocked", text: reason, since: new Date() } }, pair.id, `blocked: ${reason}`).catch(() => this.failed.add(ticket._id));
  }

  // ---- planning and completion -----------------------------------------------------------

  private async planNow(projectId: string): Promise<PlanningOutcome> {
    const { memory, log } = this.deps;
    try {
      const project = await memory.projects.get(projectId);
      if (!project) return { kind: "failed", message: `No project ${projectId}` };
      const refusal = await this.deps.refusal(project);
      if (refusal) return { kind: "failed", message: refusal };
      log.info(`Planning "${project.name}"`);
      const outcome = await planProject(project, await this.deps.readSpec(project), {
        memory, models: this.deps.models(project), git: this.deps.git(project), scan: () => this.deps.scan(project), decideDev: (p) => this.deps.human.decideDev(p),
      });
      log.info(`Planning "${project.name}": ${outcome.kind}`);
      if (outcome.kind === "failed") this.planningFailed(project._id, project.name, outcome.message);
      return outcome;
    } catch (error) {
      this.planningFailed(projectId, projectId, describeError(error));
      return { kind: "failed", message: describeError(error) };
    }
  }

  /** Planning runs in the background: its failure is told, not only returned. */
  private planningFailed(projectId: string, name: string, message: string): void {
    this.deps.log.warn(`Planning "${name}" failed: ${message}`);
    this.deps.human.notify("warn", `Planning "${name}" failed: ${message}`, projectId);
  }

  /** Completes a functionality into DEV when its last ticket is done; runs after any running one for it. */
  private complete(projectId: string, functionalityId: string): Promise<FunctionalityCompletion | undefined> {
    const key = `${projectId}\n${functionalityId}`;
    const previous = this.completions.get(key) ?? Promise.resolve(undefined);
    const run = previous.catch(() => undefined).then(() => this.completeNow(projectId, functionalityId));
    this.completions.set(key, run);
    void run.finally(() => {
      if (this.completions.get(key) === run) this.completions.delete(key);
      this.settleIfIdle();
    });
    return run;
  }

  private async completeNow(projectId: string, functionalityId: string): Promise<FunctionalityCompletion | undefined> {
    const { memory, log } = this.deps;
    try {
      const project = await memory.projects.get(projectId);
      // Out of scope, the client that approved completes it itself (`redgreen review approve`).
      if (!project || !this.inScope(project)) return undefined;
      const outcome = await completeFunctionality(project, functionalityId, { memory, git: this.deps.git(project), suiteGreen: featureSuiteCheck(this.deps.runner, tddLimits(this.deps.settings(project)), project) });
      log.info(`Completing ${functionalityId} of "${project.name}": ${outcome.kind}`);
      if (outcome.kind === "merged") this.deps.human.notify("info", `${project.name}: every ticket of ${functionalityId} is done and its suite is green; the Architect merged it into DEV.`, project._id);
      else if (outcome.kind !== "notReady" && outcome.kind !== "alreadyMerged") this.deps.human.notify("warn", `${project.name}: every ticket of ${functionalityId} is done, but it was not merged into DEV. The PM explains why in the chat.`, project._id);
      return outcome;
    } catch (error) {
      log.error(`Completing ${functionalityId} of ${projectId} failed: ${describeError(error)}`);
      return undefined;
    }
  }


  // ---- idleness -----------------------------------------------------------------------------

  /** Idle: no pass assigning pairs, no pair working, no planning or completion running. Each of them ends with a pass, or calls this. */
  private settleIfIdle(): void {
    if (this.idleWaiters.length === 0 || this.booting || this.assigning) return;
    for (const waiter of [...this.idleWaiters]) {
      if (!this.idleFor(waiter.projectId)) continue;
      this.idleWaiters.splice(this.idleWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  /** Whether anything runs or is being looked at (the engine does not exit under it). */
  busy(): boolean {
    return this.booting !== undefined || this.assigning !== undefined || !this.idleFor(undefined);
  }

  /** Nothing of the project (or of any, without one) runs or waits for a free pair. */
  private idleFor(projectId: string | undefined): boolean {
    if (projectId === undefined) return this.planning.size === 0 && this.completions.size === 0 && !this.pairs.some((pair) => pair.work);
    const completing = [...this.completions.keys()].some((key) => key.startsWith(`${projectId}\n`));
    return !this.planning.has(projectId) && !completing && !this.unserved.has(projectId) && !this.pairs.some((pair) => pair.work?.projectId === projectId);
  }
}
