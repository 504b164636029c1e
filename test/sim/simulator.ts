import type { Priority } from "../../src/core/projects/project";
import { ResourceDirector, type DirectorView, type Pause, type RunningWork, type WaitingWork } from "../../src/core/resources/director";
import { allocate, demandOf, type Allocation, type ResourcePolicy } from "../../src/core/resources/policy";

// A discrete-event simulation of the team on one machine, driving the real Resource Director (or
// a plain round-robin for comparison) with simulated pairs, model loads and steps. A step's time
// is drawn from a log-normal distribution around a median made of prompt tokens over the measured
// evaluation speed, output tokens over the generation speed, and a test run. A simulated week of
// twenty projects runs in well under a second: nothing waits, the clock jumps to the next event.

export interface SimProject {
  id: string;
  priority: Priority;
  model: string;
  /** Tickets ready at the start (Infinity: always backlogged). */
  backlog: number;
  /** New tickets per hour after the start (a Poisson process). */
  arrivalsPerHour?: number;
  stepsPerTicket: number;
}

export interface SimConfig {
  seed: number;
  hours: number;
  slots: number;
  projects: SimProject[];
  policy: ResourcePolicy;
  scheduler: "director" | "roundRobin";
  /** How many models fit in memory at once; loading another evicts the least recently used idle one. */
  residentModels: number;
  loadMs: number;
  step: { promptTokens: number; outputTokens: number; evalPerSecond: number; generatePerSecond: number; testMs: number; spread: number };
  /** Width of the windows shares are measured over. */
  windowMs: number;
}

export interface SimWindow {
  start: number;
  /** Per project: the share of NOS it used in the window, and the policy's target (time-weighted). */
  used: Map<string, number>;
  target: Map<string, number>;
  /** Whether every project had work through the whole window (demand steady). */
  steady: boolean;
}

export interface SimResult {
  windows: SimWindow[];
  loads: number;
  /** Loads that left more models in use than memory holds (the Director must never cause one; a plain round-robin does). */
  overMemory: number;
  /** Busy slot-time over slot-time, counted only while a ticket waited for a pair. */
  utilisation: number;
  /**
   * From a critical ticket's arrival, while its project had no other work (its share then owes it
   * a slot), to its first step: the step boundaries the pair that took it passed meanwhile (0: a
   * slot was free; 1: at the next boundary of the work it displaced). A critical project's further
   * tickets take their turns within its share.
   */
  criticalWaits: number[];
  decisions: number;
  pauses: (Pause & { at: number })[];
  /** Longest time a project with ready work had no pair, per project. */
  longestGap: Map<string, number>;
}

interface Ticket extends WaitingWork {
  stepsLeft: number;
  readyAt: number;
  started: boolean;
  /** A critical ticket that arrived while its project had no other work: its wait is measured. */
  measured: boolean;
}

interface SimPair {
  id: string;
  /** When its recent steps ended. */
  boundaries: number[];
  since: number;
  ticket?: Ticket;
  stepEnd: number;
  pausing: boolean;
}

/** mulberry32: a small seeded generator, so that every run of a seed is the same. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function medianStepMs(config: SimConfig): number {
  const { promptTokens, outputTokens, evalPerSecond, generatePerSecond, testMs } = config.step;
  return (promptTokens / evalPerSecond + outputTokens / generatePerSecond) * 1000 + testMs;
}

export function simulate(config: SimConfig): SimResult {
  return new Simulation(config).run();
}

class Simulation {
  private readonly rand: () => number;
  private readonly director: ResourceDirector;
  private readonly pairs: SimPair[];
  private readonly waiting: Ticket[] = [];
  private readonly resident = new Map<string, number>();
  private readonly nextArrival = new Map<string, number>();
  private readonly lastServed = new Map<string, number>();
  private readonly result: SimResult = { windows: [], loads: 0, overMemory: 0, utilisation: 0, criticalWaits: [], decisions: 0, pauses: [], longestGap: new Map() };
  private allocations: Allocation[] = [];
  private now = 0;
  private nextReview: number;
  private roundRobin = 0;
  private ticketCount = 0;
  private busyWhileWaiting = 0;
  private timeWhileWaiting = 0;
  private window: SimWindow;

  constructor(private readonly config: SimConfig) {
    this.rand = random(config.seed);
    this.director = new ResourceDirector(() => config.policy);
    this.pairs = Array.from({ length: config.slots }, (_, i) => ({ id: `pair-${i + 1}`, boundaries: [], since: 0, stepEnd: Infinity, pausing: false }));
    this.nextReview = config.policy.reviewMs;
    this.window = this.openWindow(0);
    for (const project of config.projects) {
      // An always-backlogged project keeps a few tickets ready, one more for each done.
      for (let i = 0; i < (project.backlog === Infinity ? config.slots : project.backlog); i++) this.addTicket(project);
      if (project.arrivalsPerHour) this.nextArrival.set(project.id, this.exponential(3_600_000 / project.arrivalsPerHour));
    }
  }

  run(): SimResult {
    const end = this.config.hours * 3_600_000;
    this.decide();
    while (this.now < end) {
      const next = Math.min(end, this.nextReview, ...this.pairs.map((p) => p.stepEnd), ...this.nextArrival.values());
      this.advance(next);
      this.handleEventsAt(next);
      this.decide();
    }
    this.closeWindow();
    this.result.utilisation = this.busyWhileWaiting / Math.max(1, this.timeWhileWaiting);
    return this.result;
  }

  private handleEventsAt(at: number): void {
    if (at === this.nextReview) this.nextReview += this.config.policy.reviewMs;
    for (const [projectId, when] of this.nextArrival) {
      if (when !== at) continue;
      const project = this.config.projects.find((p) => p.id === projectId)!;
      this.addTicket(project);
      this.nextArrival.set(projectId, at + this.exponential(3_600_000 / project.arrivalsPerHour!));
    }
    for (const pair of this.pairs) if (pair.stepEnd === at) this.endStep(pair);
  }

  private endStep(pair: SimPair): void {
    const ticket = pair.ticket!;
    ticket.stepsLeft -= 1;
    pair.boundaries = [...pair.boundaries.slice(-20), this.now];
    if (ticket.stepsLeft > 0 && !pair.pausing) return this.beginStep(pair);
    if (ticket.stepsLeft > 0) this.waiting.push({ ...ticket, resumed: true, started: true });
    else this.refill(ticket.projectId);
    pair.ticket = undefined;
    pair.stepEnd = Infinity;
    pair.pausing = false;
  }

  /** An always-backlogged project gets a new ticket for each one done. */
  private refill(projectId: string): void {
    const project = this.config.projects.find((p) => p.id === projectId)!;
    if (project.backlog === Infinity) this.addTicket(project);
  }

  private beginStep(pair: SimPair, extraMs = 0): void {
    const { spread } = this.config.step;
    pair.stepEnd = this.now + extraMs + medianStepMs(this.config) * Math.exp(spread * this.normal());
  }

  private addTicket(project: SimProject): void {
    const id = `${project.id}-${++this.ticketCount}`;
    const idle = !this.waiting.some((w) => w.projectId === project.id) && !this.pairs.some((p) => p.ticket?.projectId === project.id);
    const measured = idle && project.priority === "critical" && this.now > 0;
    this.waiting.push({ projectId: project.id, ticketId: id, model: project.model, resumed: false, createdAt: this.now, stepsLeft: project.stepsPerTicket, readyAt: this.now, started: false, measured });
  }

  // ---- deciding ---------------------------------------------------------------------------------

  private decide(): void {
    this.result.decisions += 1;
    const { start, pause } = this.config.scheduler === "director" ? this.directorDecision() : { start: this.roundRobinOrder(), pause: [] };
    for (const p of pause) {
      const pair = this.pairs.find((candidate) => candidate.id === p.pairId)!;
      if (!pair.pausing) this.result.pauses.push({ ...p, at: this.now });
      pair.pausing = true;
    }
    for (const work of start) {
      const pair = this.pairs.find((candidate) => !candidate.ticket);
      if (!pair) break;
      this.startOn(pair, work as Ticket);
    }
  }

  private directorDecision(): { start: WaitingWork[]; pause: Pause[] } {
    const running: RunningWork[] = this.pairs.flatMap((pair) => (pair.ticket ? [{ pairId: pair.id, projectId: pair.ticket.projectId, ticketId: pair.ticket.ticketId, model: pair.ticket.model, pausing: pair.pausing, since: pair.since }] : []));
    const view: DirectorView = {
      now: this.now, slots: this.config.slots, otherTasks: 0, running, waiting: this.waiting, loadedModels: new Set(this.resident.keys()),
      // Every model the same size: memory holds `residentModels` of them.
      memory: { capacity: this.config.residentModels, sizes: new Map(this.config.projects.map((p) => [p.model, 1])) },
      projects: this.config.projects.map((p) => ({ projectId: p.id, name: p.id, priority: p.priority })),
    };
    const decision = this.director.decide(view);
    this.allocations = decision.allocations;
    return decision;
  }

  /**
   * The comparison: free pairs take the next project's oldest ticket, project after project; nobody
   * is paused. It knows nothing of memory: a model it needs is loaded in place of the least recently
   * used idle one, and beside the others when every resident model is in use (counted in overMemory).
   */
  private roundRobinOrder(): WaitingWork[] {
    const oldest = new Map<string, Ticket>();
    for (const ticket of this.waiting) if (!oldest.has(ticket.projectId)) oldest.set(ticket.projectId, ticket);
    const projects = this.config.projects;
    const order = projects.flatMap((_, i) => {
      const next = oldest.get(projects[(this.roundRobin + i) % projects.length]!.id);
      return next ? [next] : [];
    });
    const workable = new Map<string, number>();
    for (const item of [...this.waiting, ...this.pairs.flatMap((p) => (p.ticket ? [p.ticket] : []))]) workable.set(item.projectId, (workable.get(item.projectId) ?? 0) + 1);
    this.allocations = allocate(projects.map((p) => ({ projectId: p.id, priority: p.priority, demand: demandOf(workable.get(p.id) ?? 0, this.config.slots, this.config.policy) })), this.config.policy);
    return order;
  }

  private startOn(pair: SimPair, ticket: Ticket): void {
    this.waiting.splice(this.waiting.indexOf(ticket), 1);
    if (!ticket.started && ticket.measured) this.result.criticalWaits.push(pair.boundaries.filter((at) => at > ticket.readyAt).length);
    pair.ticket = { ...ticket, started: true };
    pair.since = this.now;
    this.roundRobin = this.config.projects.findIndex((p) => p.id === ticket.projectId) + 1;
    pair.pausing = false;
    // A ticket taken again costs what it costs in the engine: a test run before its next step.
    this.beginStep(pair, this.loadModel(ticket.model!) + (ticket.resumed ? this.config.step.testMs : 0));
  }

  /** The time to load the model when it is not resident; the least recently used idle model makes room. */
  private loadModel(model: string): number {
    const wasResident = this.resident.delete(model);
    this.resident.set(model, this.now);
    if (wasResident) return 0;
    this.result.loads += 1;
    const inUse = new Set(this.pairs.flatMap((p) => (p.ticket ? [p.ticket.model] : [])));
    if (inUse.size > this.config.residentModels) this.result.overMemory += 1;
    for (const idle of [...this.resident.keys()].filter((m) => !inUse.has(m))) {
      if (this.resident.size <= this.config.residentModels) break;
      this.resident.delete(idle);
    }
    return this.config.loadMs;
  }

  // ---- measuring --------------------------------------------------------------------------------

  /** Moves the clock, counting each busy pair's time for its project. */
  private advance(to: number): void {
    while (to > this.window.start + this.config.windowMs) {
      const edge = this.window.start + this.config.windowMs;
      this.count(edge - this.now);
      this.now = edge;
      this.closeWindow();
      this.window = this.openWindow(edge);
    }
    this.count(to - this.now);
    this.now = to;
  }

  private count(ms: number): void {
    if (ms <= 0) return;
    const busy = this.pairs.filter((p) => p.ticket);
    const busyProjects = new Set(busy.map((p) => p.ticket!.projectId));
    const share = (ms / (this.config.slots * this.config.windowMs)) * this.config.policy.hardCap;
    for (const pair of busy) this.window.used.set(pair.ticket!.projectId, (this.window.used.get(pair.ticket!.projectId) ?? 0) + share);
    for (const a of this.allocations) this.window.target.set(a.projectId, (this.window.target.get(a.projectId) ?? 0) + (a.share * ms) / this.config.windowMs);
    const waitingProjects = new Set(this.waiting.map((w) => w.projectId));
    for (const project of this.config.projects) {
      if (!waitingProjects.has(project.id) || busyProjects.has(project.id)) this.lastServed.set(project.id, this.now + ms);
      const gap = this.now + ms - (this.lastServed.get(project.id) ?? 0);
      this.result.longestGap.set(project.id, Math.max(this.result.longestGap.get(project.id) ?? 0, gap));
    }
    if (this.waiting.length > 0) {
      this.timeWhileWaiting += ms * this.config.slots;
      this.busyWhileWaiting += ms * busy.length;
    }
    const idle = this.config.projects.some((p) => !waitingProjects.has(p.id) && !busyProjects.has(p.id));
    if (idle) this.window.steady = false;
  }

  private openWindow(start: number): SimWindow {
    return { start, used: new Map(), target: new Map(), steady: true };
  }

  private closeWindow(): void {
    this.result.windows.push(this.window);
  }

  private exponential(mean: number): number {
    return -Math.log(1 - this.rand()) * mean;
  }

  /** Box–Muller. */
  private normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.rand())) * Math.cos(2 * Math.PI * this.rand());
  }
}

