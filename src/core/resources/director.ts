import { PRIORITIES, type Priority } from "../projects/project";
import { MemoryPlan, type ModelSwitch } from "./memoryPlan";
import { allocate, demandOf, slotsOf, type Allocation, type ModelMemory, type ResourcePolicy } from "./policy";

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
//
// Memory is shared too: a pair starts only on a model that memory holds beside the models loaded
// (an idle one may be unloaded for it). When it does not, the projects of each model are weighed
// together, and a model switch (every pair on the models that leave stops at its next step, and
// their slots wait for the model that comes) happens seldom: for a project that has had no pair
// for a review cycle, for a critical ticket that just became ready, or when the waiting projects
// are owed a margin that grows with the pairs the switch stops.

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
  /** The model its pair uses, when known: it stays in memory while the pair runs. */
  model?: string;
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
  /**
   * The memory heavy models may fill, and each heavy model's size (any one unit, e.g. bytes). A
   * model not listed takes none (a small model loaded once, a remote server). Absent: memory is no
   * constraint.
   */
  memory?: ModelMemory;
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
  /** When it last had a pair (or last got work). */
  lastRan: number;
  /** It has had no pair since it last had no work (a ticket that just became ready). */
  fresh: boolean;
  waiting: WaitingWork[];
  /** The ticket its next pair takes (nextOf). */
  next: WaitingWork | undefined;
}

export class ResourceDirector {
  /** Slot-milliseconds each project is owed (negative: it used more than its share). */
  private readonly credits = new Map<string, number>();
  /** When each project with work last had a pair (or first had work). */
  private readonly lastRan = new Map<string, number>();
  /** Since when each model has had a pair on it: a model keeps memory for a quantum before another's turn. */
  private readonly inUseSince = new Map<string, number>();
  /** Projects with work that have had no pair since they had none. */
  private readonly fresh = new Set<string>();
  /** Each project's measured use, a share of NOS averaged over about one quantum (a quarter of the review cycle). */
  private readonly use = new Map<string, number>();
  private previous: { at: number; slots: number; targets: Map<string, number>; running: Map<string, number> } | undefined;
  /** A model being loaded for a project once the pairs of the models it replaces have stopped. */
  private switching: ModelSwitch | undefined;

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
    const turn = { loaded: view.loadedModels, quantum: this.quantum(policy), threshold: policy.threshold, now: view.now };
    const switched = this.switchModels(view, standings, turn, policy);
    const memory = new MemoryPlan(view, this.switching);
    const start = fillFreeSlots(standings, capacity - view.running.length, memory, turn.loaded, turn.quantum, this.switching);
    // Work-conserving: free slots were filled above, so pauses are decided only with every slot held.
    const full = view.running.length + start.length >= capacity;
    const pause = [...switched, ...overConcurrency(view, standings, capacity), ...(full ? displacements(view, standings, memory, turn) : [])];
    this.remember(view, standings);
    return { allocations, start, pause: uniqueByPair(pause) };
  }

  /** A model switch under way goes on (see stillSwitching); with none, one may start: its pauses. */
  private switchModels(view: DirectorView, standings: Standing[], turn: Turn, policy: ResourcePolicy): Pause[] {
    this.switching = stillSwitching(this.switching, view, policy);
    const inUse = new Set(view.running.flatMap((r) => (r.model === undefined ? [] : [r.model])));
    for (const model of this.inUseSince.keys()) if (!inUse.has(model)) this.inUseSince.delete(model);
    for (const model of inUse) if (!this.inUseSince.has(model)) this.inUseSince.set(model, view.now);
    if (this.switching || !view.memory) return [];
    const change = modelSwitch(view, standings, new MemoryPlan(view, undefined), { ...turn, inUseSince: this.inUseSince });
    this.switching = change?.switching;
    return change?.pause ?? [];
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
        this.fresh.delete(id);
        continue;
      }
      if (!this.lastRan.has(id)) this.fresh.add(id);
      if (running > 0) this.fresh.delete(id);
      if (running > 0 || !this.lastRan.has(id)) this.lastRan.set(id, view.now);
      const starved = running === 0 && view.now - this.lastRan.get(id)! >= policy.reviewMs;
      const waiting = [...(waitingOf.get(id) ?? [])];
      standings.push({ project, share, target: slotsOf(share, view.slots, policy), running, credit: this.credits.get(id) ?? 0, use: this.use.get(id) ?? 0, starved, lastRan: this.lastRan.get(id)!, fresh: this.fresh.has(id), waiting, next: nextOf(waiting, view.loadedModels) });
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

/**
 * Free slots go one by one: first to the project a model is being switched for, then to a project
 * owed a whole slot, else to the most urgent one with waiting work (which then holds one more);
 * only to work whose model memory holds beside the models in use.
 */
function fillFreeSlots(standings: Standing[], free: number, memory: MemoryPlan, loaded: ReadonlySet<string>, quantum: number, switching: ModelSwitch | undefined): WaitingWork[] {
  const start: WaitingWork[] = [];
  // A model to load first costs what it costs a claimant of a busy slot: taking its turn, a cold
  // project must be the more urgent by the same margin (a project owed a whole slot is not held back).
  const cold = (s: Standing) => (!entitled(s, s.running) && s.next?.model !== undefined && !loaded.has(s.next.model) ? (COLD_SWITCH_QUANTA - 1) * quantum : 0);
  // A quantum per slot given here, so that among equals the next free slot goes to another project.
  const given = new Map<Standing, number>();
  const rank = (s: Standing) => urgency(s, s.running, loaded, quantum) - (given.get(s) ?? 0) * quantum;
  for (let slot = 0; slot < free; slot++) {
    const candidates = standings.filter((s) => s.next && memory.fits(s.next.model));
    // Projects owed a whole slot first (the slot a pause frees goes to the project it was freed for).
    const owed = candidates.filter((s) => entitled(s, s.running) && s.credit >= 0);
    const switchedIn = candidates.filter((s) => switching !== undefined && s.next!.model === switching.model && !memory.inUse(switching.model));
    const best = mostUrgent(switchedIn, rank) ?? mostUrgent(owed.length > 0 ? owed : candidates, (s) => rank(s) - cold(s));
    if (!best) break;
    memory.add(best.next!.model);
    start.push(best.next!);
    best.waiting.splice(best.waiting.indexOf(best.next!), 1);
    best.next = nextOf(best.waiting, loaded);
    best.running += 1;
    best.starved = false;
    given.set(best, (given.get(best) ?? 0) + 1);
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
function displacements(view: DirectorView, standings: Standing[], memory: MemoryPlan, turn: Turn): Pause[] {
  const { quantum } = turn;
  const byId = new Map(standings.map((s) => [s.project.projectId, s]));
  // Pairs held once the pauses take effect (those decided before, and each one decided here).
  const held = new Map(standings.map((s) => [s, s.running]));
  const stopping = view.running.filter((r) => r.pausing && byId.has(r.projectId));
  for (const r of stopping) held.set(byId.get(r.projectId)!, held.get(byId.get(r.projectId)!)! - 1);
  const victims = view.running.filter((r) => !r.pausing && byId.has(r.projectId));
  // A claimant whose model memory does not hold beside the models in use needs a model switch, not a slot.
  const claimants = standings.filter((s) => s.next && memory.fits(s.next.model)).sort((a, b) => Number(entitled(b, b.running)) - Number(entitled(a, a.running)) || urgency(b, b.running, view.loadedModels, quantum) - urgency(a, a.running, view.loadedModels, quantum) || byTierThenName(a, b));
  const pauses: Pause[] = [];
  // The most urgent claimants take the slots being freed already.
  for (const claimant of claimants.splice(0, stopping.length)) held.set(claimant, held.get(claimant)! + 1);
  for (const claimant of claimants) {
    // A model another claimant's slot already takes memory for may leave no room for this one's.
    if (!memory.fits(claimant.next!.model)) continue;
    const others = victims.filter((v) => v.projectId !== claimant.project.projectId).map((v) => ({ work: v, owner: byId.get(v.projectId)! }));
    const victim = victimFor(claimant, held, others, turn);
    if (!victim) continue;
    memory.add(claimant.next!.model);
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
function victimFor(claimant: Standing, held: Map<Standing, number>, others: Victim[], turn: Turn): Victim | undefined {
  const { quantum } = turn;
  const beyond = (v: Victim) => held.get(v.owner)! > wholeSlots(v.owner);
  const heldLong = (v: Victim) => turn.now - v.work.since >= quantum;
  const order = (a: Victim, b: Victim) => tierOf(b.owner) - tierOf(a.owner) || a.owner.credit - b.owner.credit || (a.work.pairId < b.work.pairId ? -1 : 1);
  if (entitled(claimant, held.get(claimant)!) && claimant.credit >= 0) {
    const yields = (v: Victim) => tierOf(claimant) < tierOf(v.owner) || (beyond(v) && v.owner.credit <= 0 && heldLong(v));
    const victim = others.filter(yields).sort((a, b) => Number(beyond(b)) - Number(beyond(a)) || order(a, b))[0];
    if (victim) return victim;
  }
  // Taking a slot for a model that must be loaded first costs seconds and gigabytes: it waits longer.
  return others.filter((v) => yieldsTurn(claimant, v, held, turn)).sort(order)[0];
}

/**
 * A pair yields its turn once it has had its slot for a quantum, its project has used SPEC-001's
 * threshold of its share (a claimant with no pair for a review cycle does not wait for that), and
 * the claimant asks more strongly than its project holds by a quantum (three for a model to load).
 */
function yieldsTurn(claimant: Standing, v: Victim, held: Map<Standing, number>, { loaded, quantum, threshold, now }: Turn): boolean {
  const model = claimant.next?.model;
  const margin = model !== undefined && !loaded.has(model) ? COLD_SWITCH_QUANTA * quantum : quantum;
  const need = urgency(claimant, held.get(claimant)!, loaded, quantum);
  const reached = claimant.starved || v.owner.use >= threshold * v.owner.share;
  return now - v.work.since >= quantum && reached && need >= holding(v.owner, held.get(v.owner)!, quantum) + margin;
}

function reasonFor(victim: Standing, claimant: Standing): string {
  const why = claimant.starved ? "has had no pair for a whole review cycle" : `is owed a slot (share ${percent(claimant.share)} of the machine, ${claimant.running} pair${claimant.running === 1 ? "" : "s"} running)`;
  return `${claimant.project.name} (${claimant.project.priority}) ${why}; ${victim.project.name} (${victim.project.priority}) has used more than its share ${percent(victim.share)}`;
}

/**
 * Memory full of resident models, and projects wait for another model: the projects on a model
 * are a group (their credits add up), and the most urgent waiting group replaces resident models
 * when it is owed more than each of their groups by a model switch's margin (and every project
 * still running on them has used SPEC-001's threshold of its share and held its pair for a
 * quantum), or when one of its projects is owed a whole slot and every project running on them is
 * of a lower tier. Their pairs stop at their next step boundary and their slots wait for its model:
 * one model leaves and one comes, seldom, instead of a load at every turn.
 */
function modelSwitch(view: DirectorView, standings: Standing[], memory: MemoryPlan, turn: Turn & { inUseSince: ReadonlyMap<string, number> }): { switching: ModelSwitch; pause: Pause[] } | undefined {
  const going = view.running.filter((r) => !r.pausing);
  const held = new Map(standings.map((s) => [s, s.running]));
  const groups = modelGroups(standings, going);
  const blocked = [...groups.values()].filter((g) => g.waiting.some((s) => !memory.fits(s.next!.model))).sort((a, b) => b.need - a.need || a.waitedSince - b.waitedSince || (a.model < b.model ? -1 : 1));
  for (const claimant of blocked) {
    // A switch costs every pair on the model a drain and a load: the margin grows with them.
    const margin = (group: ModelGroup) => MODEL_SWITCH_QUANTA * turn.quantum * Math.max(1, group.running.length);
    const leaves = (model: string) => {
      const group = groups.get(model);
      if (!group || group.running.length === 0) return !group || claimant.need >= group.holding + margin(group);
      // A ticket that just became ready in a project owed a whole slot does not wait for its turn.
      const byTier = claimant.waiting.some((c) => c.fresh && group.running.every((r) => outranks(c, r.owner, held)));
      const heldLong = turn.now - (turn.inUseSince.get(model) ?? turn.now) >= turn.quantum;
      const inTurn = heldLong && claimant.need >= group.holding + margin(group) && group.running.every((r) => claimant.starved || r.owner.use >= turn.threshold * r.owner.share);
      return byTier || inTurn;
    };
    const leaving = memory.toFree(claimant.model, leaves);
    if (!leaving) continue;
    const first = claimant.waiting[0]!;
    const pause = [...leaving].flatMap((model) => groups.get(model)?.running ?? []).map(({ work, owner }) => ({
      pairId: work.pairId, projectId: work.projectId, ticketId: work.ticketId,
      reason: `${first.project.name} (${first.project.priority}) is owed time on a model that memory cannot hold beside those loaded; ${owner.project.name} (${owner.project.priority}) lets its model go for a turn`,
    }));
    return { switching: { model: claimant.model, leaving, since: turn.now }, pause };
  }
  return undefined;
}

/** The projects on one model: those that wait for a pair on it (need: their credits) and those running on it (holding: theirs). */
interface ModelGroup {
  model: string;
  waiting: Standing[];
  running: { work: RunningWork; owner: Standing }[];
  need: number;
  holding: number;
  starved: boolean;
  /** When the longest-waiting of its waiting projects last had a pair. */
  waitedSince: number;
}

function modelGroups(standings: Standing[], going: readonly RunningWork[]): Map<string, ModelGroup> {
  const groups = new Map<string, ModelGroup>();
  const groupOf = (model: string) => groups.get(model) ?? groups.set(model, { model, waiting: [], running: [], need: 0, holding: 0, starved: false, waitedSince: Infinity }).get(model)!;
  const byId = new Map(standings.map((s) => [s.project.projectId, s]));
  for (const s of standings) {
    const model = s.next?.model;
    if (model === undefined) continue;
    const group = groupOf(model);
    group.waiting.push(s);
    group.starved ||= s.starved;
    if (s.running === 0) group.waitedSince = Math.min(group.waitedSince, s.lastRan);
    group.need = group.starved ? Number.MAX_SAFE_INTEGER : group.need + s.credit;
  }
  for (const work of going) {
    const owner = byId.get(work.projectId);
    if (work.model !== undefined && owner) groupOf(work.model).running.push({ work, owner });
  }
  // What a resident model's projects would give up: the credits of those that work on it (all, while one of them waits starved for a pair on it).
  for (const group of groups.values()) {
    for (const owner of new Set([...group.waiting, ...group.running.map((r) => r.owner)])) group.holding += owner.credit;
    if (group.starved) group.holding = Number.MAX_SAFE_INTEGER;
  }
  return groups;
}

/** A switch lasts until a pair runs on its model, nobody waits for the model any more, or a review cycle (nothing waits forever). */
function stillSwitching(switching: ModelSwitch | undefined, view: DirectorView, policy: ResourcePolicy): ModelSwitch | undefined {
  if (!switching) return undefined;
  const started = view.running.some((r) => r.model === switching.model);
  const waits = view.waiting.some((w) => w.model === switching.model);
  return started || !waits || view.now - switching.since >= policy.reviewMs ? undefined : switching;
}

/** A project owed a whole slot and not in debt takes one from a lower tier. */
function outranks(claimant: Standing, owner: Standing, held: Map<Standing, number>): boolean {
  return entitled(claimant, held.get(claimant)!) && claimant.credit >= 0 && tierOf(claimant) < tierOf(owner);
}

interface Turn {
  loaded: ReadonlySet<string>;
  quantum: number;
  threshold: number;
  now: number;
}

/** Credit, in quanta, a waiting model's projects must be owed beyond a resident model's before it replaces it (a load and a drain cost minutes of every slot on it). */
const MODEL_SWITCH_QUANTA = 4;

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
