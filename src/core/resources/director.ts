import { PRIORITIES, type Priority } from "../projects/project";
import { allocate, demandOf, slotsOf, type Allocation, type ResourcePolicy } from "./policy";

// The Resource Director turns the policy's shares into pairs: which ready tickets the free slots
// take, and which running pairs stop at their next step boundary so that a project owed a slot
// gets it. No I/O: the engine's orchestrator and the simulator call decide() with what they see.
//
// Shares of NOS are shares of slot-time. Each project has a credit: the slot-time its share
// promised minus the slot-time it used (a fair-queueing deficit). A free slot goes first to a
// project owed a whole slot (it holds fewer than its share is worth, and is not in debt), else to the most urgent: its
// credit, plus half a quantum when its model is already loaded, less two quanta when its model
// must be loaded first (a load costs seconds and gigabytes). A running pair is paused only when
// every slot is held: for a project owed a whole slot (a critical ticket that becomes ready takes
// one at its victim's next step), or in turn, when a pair has had its slot for a quantum, its
// project has used SPEC-001's threshold (98 %) of its share, and another project's urgency passes
// its project's by a quantum (three for a model to load). Shares are thus kept over time without a
// switch at every step. A project with work that has had no pair for a whole review cycle goes
// first whatever its share: nobody starves.

export interface DirectedProject {
  projectId: string;
  name: string;
  priority: Priority;
}

/** A ticket a pair works on now. */
export interface RunningWork {
  pairId: string;
  projectId: string;
  ticketId: string;
  /** Already told to stop at its next step boundary: its slot is as good as given. */
  pausing?: boolean;
  /** When the pair took the ticket: a pair keeps its slot for a quantum before another's turn. */
  since: number;
}

/** A ready ticket no pair has taken. */
export interface WaitingWork {
  projectId: string;
  ticketId: string;
  /** The model its pair needs, when known: a loaded one is preferred. */
  model?: string;
  /** Already in progress (a restart, a Request Changes, a pause): it goes before new ones. */
  resumed: boolean;
  createdAt: number;
}

export interface DirectorView {
  now: number;
  /** The machine's pair slots (the hard cap of NOS). */
  slots: number;
  /** Tasks other than pairs running now (planning, completions): they count against the maximum of concurrent tasks. */
  otherTasks: number;
  projects: readonly DirectedProject[];
  running: readonly RunningWork[];
  waiting: readonly WaitingWork[];
  loadedModels: ReadonlySet<string>;
}

export interface Pause {
  pairId: string;
  projectId: string;
  ticketId: string;
  reason: string;
}

export interface Decision {
  allocations: Allocation[];
  /** Waiting tickets for the free slots, in the order the pairs should take them. */
  start: WaitingWork[];
  /** Running pairs to stop at their next step boundary. */
  pause: Pause[];
}

/** One project as the decision sees it. */
interface Standing {
  project: DirectedProject;
  target: number;
  share: number;
  running: number;
  credit: number;
  /** Measured use, a share of NOS (see useOf). */
  use: number;
  starved: boolean;
  waiting: WaitingWork[];
  /** The ticket its next pair takes (nextOf). */
  next: WaitingWork | undefined;
}

export class ResourceDirector {
  /** Slot-milliseconds each project is owed (negative: it used more than its share). */
  private readonly credits = new Map<string, number>();
  /** When each project with work last had a pair (or first had work). */
  private readonly lastRan = new Map<string, number>();
  /** Each project's measured use, a share of NOS averaged over about one quantum (a quarter of the review cycle). */
  private readonly use = new Map<string, number>();
  private previous: { at: number; slots: number; targets: Map<string, number>; running: Map<string, number> } | undefined;

  constructor(private readonly policy: () => ResourcePolicy) {}

  decide(view: DirectorView): Decision {
    const policy = this.policy();
    this.account(view.now, policy);
    const running = groupByProject(view.running);
    const waiting = groupByProject(view.waiting);
    const workable = (id: string) => (running.get(id)?.length ?? 0) + (waiting.get(id)?.length ?? 0);
    const allocations = allocate(view.projects.map((project) => ({ projectId: project.projectId, priority: project.priority, demand: demandOf(workable(project.projectId), view.slots, policy) })), policy);
    const standings = this.standings(view, allocations, policy, running, waiting);
    const capacity = Math.max(0, Math.min(view.slots, policy.maxConcurrentTasks - view.otherTasks));
    const start = fillFreeSlots(standings, capacity - view.running.length, view.loadedModels, this.quantum(policy));
    // Work-conserving: free slots were filled above, so pauses are decided only with every slot held.
    const full = view.running.length + start.length >= capacity;
    const pause = [...overConcurrency(view, standings, capacity), ...(full ? displacements(view, standings, { quantum: this.quantum(policy), threshold: policy.threshold }) : [])];
    this.remember(view, standings);
    return { allocations, start, pause: uniqueByPair(pause) };
  }

  /** The share of NOS the project's pairs used, averaged over about a quarter of the review cycle (what the board shows against its share). */
  useOf(projectId: string): number {
    return this.use.get(projectId) ?? 0;
  }

  /** What one urgency step is worth: a quarter of the review cycle in slot-time (a few steps: fewer switches, shares still kept within the hour). */
  private quantum(policy: ResourcePolicy): number {
    return policy.reviewMs / 4;
  }

  /** Since the last decision each project earned its target and spent what it ran; its measured use moves towards what it ran. */
  private account(now: number, policy: ResourcePolicy): void {
    const last = this.previous;
    if (!last) return;
    const elapsed = Math.max(0, now - last.at);
    for (const [projectId, target] of last.targets) {
      const owed = (this.credits.get(projectId) ?? 0) + (target - (last.running.get(projectId) ?? 0)) * elapsed;
      this.credits.set(projectId, owed);
    }
    const weight = 1 - Math.exp(-elapsed / this.quantum(policy));
    for (const projectId of new Set([...this.use.keys(), ...last.running.keys()])) {
      const ran = ((last.running.get(projectId) ?? 0) / last.slots) * policy.hardCap;
      const use = (this.use.get(projectId) ?? 0) * (1 - weight) + ran * weight;
      if (use < 1e-4 && ran === 0) this.use.delete(projectId);
      else this.use.set(projectId, use);
    }
  }

  private standings(view: DirectorView, allocations: Allocation[], policy: ResourcePolicy, runningOf: Map<string, RunningWork[]>, waitingOf: Map<string, WaitingWork[]>): Standing[] {
    const shares = new Map(allocations.map((a) => [a.projectId, a.share]));
    const standings: Standing[] = [];
    for (const project of view.projects) {
      const id = project.projectId;
      const share = shares.get(id) ?? 0;
      const running = runningOf.get(id)?.length ?? 0;
      // A project without work forfeits its credit: shares are kept while there is demand. One
      // with work but no share (its tier's quota is 0) still gets a pair once per review cycle.
      if (running === 0 && !waitingOf.has(id)) {
        this.credits.delete(id);
        this.lastRan.delete(id);
        continue;
      }
      if (running > 0 || !this.lastRan.has(id)) this.lastRan.set(id, view.now);
      const starved = running === 0 && view.now - this.lastRan.get(id)! >= policy.reviewMs;
      const waiting = [...(waitingOf.get(id) ?? [])];
      standings.push({ project, share, target: slotsOf(share, view.slots, policy), running, credit: this.credits.get(id) ?? 0, use: this.use.get(id) ?? 0, starved, waiting, next: nextOf(waiting, view.loadedModels) });
    }
    return standings;
  }

  /** What the next decision accounts from: the targets, and the pairs running once the started ones run. */
  private remember(view: DirectorView, standings: Standing[]): void {
    for (const s of standings) if (s.running > 0) this.lastRan.set(s.project.projectId, view.now);
    this.previous = { at: view.now, slots: view.slots, targets: new Map(standings.map((s) => [s.project.projectId, s.target])), running: new Map(standings.map((s) => [s.project.projectId, s.running])) };
  }
}

function groupByProject<T extends { projectId: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.projectId);
    if (group) group.push(item);
    else groups.set(item.projectId, [item]);
  }
  return groups;
}

/** The whole slots a project's share is worth (the rest it gets in turns). */
function wholeSlots(standing: Standing): number {
  return Math.floor(standing.target + 1e-9);
}

/**
 * Holding `running` slots, the project is owed a whole one more; a critical project with no pair
 * is owed one as soon as its share is worth half a slot (SPEC-001: a critical ticket does not wait
 * for its turn).
 */
function entitled(standing: Standing, running: number): boolean {
  return running < wholeSlots(standing) || (running === 0 && standing.project.priority === "critical" && standing.target >= 0.5);
}

/** How strongly a project asks for one more slot, holding `running` of them. */
function urgency(standing: Standing, running: number, loaded: ReadonlySet<string>, quantum: number): number {
  if (standing.starved) return Number.MAX_SAFE_INTEGER;
  const next = standing.next;
  const warm = next?.model !== undefined && loaded.has(next.model) ? quantum / 2 : 0;
  return standing.credit + (entitled(standing, running) ? quantum : 0) + warm;
}

/** How strongly a project holds the `running` slots it has: as it would ask for the last one back (its model is loaded). */
function holding(standing: Standing, running: number, quantum: number): number {
  return standing.credit + (entitled(standing, running - 1) ? quantum : 0) + quantum / 2;
}

/** Free slots go one by one: first to a project owed a whole slot, else to the most urgent one with waiting work (which then holds one more). */
function fillFreeSlots(standings: Standing[], free: number, loaded: ReadonlySet<string>, quantum: number): WaitingWork[] {
  const start: WaitingWork[] = [];
  // A model to load first costs what it costs a claimant of a busy slot: taking its turn, a cold
  // project must be the more urgent by the same margin (a project owed a whole slot is not held back).
  const cold = (s: Standing) => (!entitled(s, s.running) && s.next?.model !== undefined && !loaded.has(s.next.model) ? (COLD_SWITCH_QUANTA - 1) * quantum : 0);
  for (let slot = 0; slot < free; slot++) {
    const candidates = standings.filter((s) => s.next);
    // Projects owed a whole slot first (the slot a pause frees goes to the project it was freed for).
    const owed = candidates.filter((s) => entitled(s, s.running) && s.credit >= 0);
    const best = mostUrgent(owed.length > 0 ? owed : candidates, (s) => urgency(s, s.running, loaded, quantum) - cold(s));
    if (!best) break;
    start.push(best.next!);
    best.waiting.splice(best.waiting.indexOf(best.next!), 1);
    best.next = nextOf(best.waiting, loaded);
    best.running += 1;
  }
  return start;
}

/** The ticket a project's next pair takes: one in progress first, then one whose model is loaded, then the oldest. */
function nextOf(waiting: readonly WaitingWork[], loaded: ReadonlySet<string>): WaitingWork | undefined {
  const warm = (w: WaitingWork) => Number(w.model !== undefined && loaded.has(w.model));
  const before = (a: WaitingWork, b: WaitingWork) => Number(b.resumed) - Number(a.resumed) || warm(b) - warm(a) || a.createdAt - b.createdAt || (a.ticketId < b.ticketId ? -1 : a.ticketId > b.ticketId ? 1 : 0);
  let best: WaitingWork | undefined;
  for (const w of waiting) if (!best || before(w, best) < 0) best = w;
  return best;
}

function mostUrgent(candidates: Standing[], rank: (s: Standing) => number): Standing | undefined {
  let best: { standing: Standing; value: number } | undefined;
  for (const standing of candidates) {
    const value = rank(standing);
    if (!best || value > best.value || (value === best.value && byTierThenName(standing, best.standing) < 0)) best = { standing, value };
  }
  return best?.standing;
}

/** More pairs running than the machine's capacity (slots fell, other tasks rose): the lowest tiers stop first. */
function overConcurrency(view: DirectorView, standings: Standing[], capacity: number): Pause[] {
  const going = view.running.filter((r) => !r.pausing);
  const excess = going.length - capacity;
  if (excess <= 0) return [];
  const byStanding = new Map(standings.map((s) => [s.project.projectId, s]));
  return going
    .sort((a, b) => tierOfId(byStanding, b.projectId) - tierOfId(byStanding, a.projectId) || (byStanding.get(a.projectId)?.credit ?? 0) - (byStanding.get(b.projectId)?.credit ?? 0))
    .slice(0, excess)
    .map((r) => ({ ...r, reason: `the machine runs ${going.length} tasks of its ${capacity} (slots and the maximum of concurrent tasks)` }));
}

/**
 * With every slot busy, each waiting project, most urgent first, may take the slot of one running
 * pair, which stops at its next step boundary (the lowest tier first, then the most in debt).
 */
function displacements(view: DirectorView, standings: Standing[], { quantum, threshold }: { quantum: number; threshold: number }): Pause[] {
  const byId = new Map(standings.map((s) => [s.project.projectId, s]));
  // Pairs held once the pauses take effect (those decided before, and each one decided here).
  const held = new Map(standings.map((s) => [s, s.running]));
  const stopping = view.running.filter((r) => r.pausing && byId.has(r.projectId));
  for (const r of stopping) held.set(byId.get(r.projectId)!, held.get(byId.get(r.projectId)!)! - 1);
  const victims = view.running.filter((r) => !r.pausing && byId.has(r.projectId));
  const claimants = standings.filter((s) => s.next).sort((a, b) => Number(entitled(b, b.running)) - Number(entitled(a, a.running)) || urgency(b, b.running, view.loadedModels, quantum) - urgency(a, a.running, view.loadedModels, quantum) || byTierThenName(a, b));
  const pauses: Pause[] = [];
  // The most urgent claimants take the slots being freed already.
  for (const claimant of claimants.splice(0, stopping.length)) held.set(claimant, held.get(claimant)! + 1);
  for (const claimant of claimants) {
    const others = victims.filter((v) => v.projectId !== claimant.project.projectId).map((v) => ({ work: v, owner: byId.get(v.projectId)! }));
    const victim = victimFor(claimant, held, others, { loaded: view.loadedModels, quantum, threshold, now: view.now });
    if (!victim) continue;
    victims.splice(victims.indexOf(victim.work), 1);
    held.set(victim.owner, held.get(victim.owner)! - 1);
    held.set(claimant, held.get(claimant)! + 1);
    pauses.push({ ...victim.work, reason: reasonFor(victim.owner, claimant) });
  }
  return pauses;
}

type Victim = { work: RunningWork; owner: Standing };

/**
 * A project owed a whole slot and not in debt takes one from a lower tier, or from a project in
 * debt holding more than its whole slots (a critical ticket that becomes ready: beyond-whole pairs
 * first); any other claimant only from a pair that has had its slot for a quantum, whose project
 * holds it less strongly by a quantum. A project paused for another's turn is in debt: it does
 * not take the slot straight back.
 */
function victimFor(claimant: Standing, held: Map<Standing, number>, others: Victim[], { loaded, quantum, threshold, now }: { loaded: ReadonlySet<string>; quantum: number; threshold: number; now: number }): Victim | undefined {
  const beyond = (v: Victim) => held.get(v.owner)! > wholeSlots(v.owner);
  const heldLong = (v: Victim) => now - v.work.since >= quantum;
  const order = (a: Victim, b: Victim) => tierOf(b.owner) - tierOf(a.owner) || a.owner.credit - b.owner.credit || (a.work.pairId < b.work.pairId ? -1 : 1);
  if (entitled(claimant, held.get(claimant)!) && claimant.credit >= 0) {
    const yields = (v: Victim) => tierOf(claimant) < tierOf(v.owner) || (beyond(v) && v.owner.credit <= 0 && heldLong(v));
    const victim = others.filter(yields).sort((a, b) => Number(beyond(b)) - Number(beyond(a)) || order(a, b))[0];
    if (victim) return victim;
  }
  // Taking a slot for a model that must be loaded first costs seconds and gigabytes: it waits longer.
  const next = claimant.next;
  const margin = next?.model !== undefined && !loaded.has(next.model) ? COLD_SWITCH_QUANTA * quantum : quantum;
  const need = urgency(claimant, held.get(claimant)!, loaded, quantum);
  // SPEC-001's threshold: a project yields its turn only once it has used that much of its share
  // (a project with work that has had no pair for a review cycle does not wait for that).
  const reached = (v: Victim) => claimant.starved || v.owner.use >= threshold * v.owner.share;
  return others.filter((v) => heldLong(v) && reached(v) && need >= holding(v.owner, held.get(v.owner)!, quantum) + margin).sort(order)[0];
}

function reasonFor(victim: Standing, claimant: Standing): string {
  const why = claimant.starved ? "has had no pair for a whole review cycle" : `is owed a slot (share ${percent(claimant.share)} of the machine, ${claimant.running} pair${claimant.running === 1 ? "" : "s"} running)`;
  return `${claimant.project.name} (${claimant.project.priority}) ${why}; ${victim.project.name} (${victim.project.priority}) has used more than its share ${percent(victim.share)}`;
}

/** Quanta a claimant whose model is not loaded must be owed beyond the holder before it takes the slot. */
const COLD_SWITCH_QUANTA = 3;
const percent = (share: number) => `${Math.round(share * 100)} %`;
const tierOf = (s: Standing) => PRIORITIES.indexOf(s.project.priority);
/** Ties between equally urgent projects: the higher tier, then the project id (the same answer for any input order). */
const byTierThenName = (a: Standing, b: Standing) => tierOf(a) - tierOf(b) || (a.project.projectId < b.project.projectId ? -1 : a.project.projectId > b.project.projectId ? 1 : 0);
const tierOfId = (byId: Map<string, Standing>, projectId: string) => (byId.has(projectId) ? tierOf(byId.get(projectId)!) : PRIORITIES.length);


function uniqueByPair(pauses: Pause[]): Pause[] {
  return pauses.filter((pause, i) => pauses.findIndex((p) => p.pairId === pause.pairId) === i);
}
