import { PRIORITIES, type Priority } from "../projects/project";
import type { SettingsReader } from "../orchestrator/settingsReader";

// SPEC-001's Resource Allocation Policy as one pure function: who gets how much of the machine.
//
// The machine's capacity after the reserve for other applications is NOS. Shares are fractions of
// NOS. The rule, which honours every SPEC-001 number at once:
// 1. Base: each busy project gets its tier's quota, or less if it cannot use that much (demand).
// 2. When the bases together pass the hard cap (several busy tiers: 90 + 70 + 40 + 10 % > 90 %),
//    the quotas are scaled down by one common factor, so that they weigh as SPEC-001 orders them
//    and exactly the hard cap is allocated; a project that needs less than its scaled quota keeps
//    what it needs and the others share the rest the same way (weighted water-filling). A critical
//    project with one ticket thus gets its one slot even when the lower tiers could fill the machine.
// 3. Otherwise what is left under the hard cap is topped up in SPEC-001's order, tier by tier from
//    critical down (equal shares within a tier), to projects that can use more, until every project
//    has what it can use or the hard cap is reached. (SPEC-001's first round, projects below their
//    quota, has nothing to take here: after the base a project is below its quota only when it
//    cannot use more.)

export interface ResourcePolicy {
  /** Base quota of each tier, as a fraction of NOS. */
  quotas: Record<Priority, number>;
  /** The most of NOS ever allocated, as a fraction. */
  hardCap: number;
  /** The fraction of its share a project must have used before one of its pairs yields its turn. */
  threshold: number;
  /** The most tasks (pairs, planning, completions) running at once on the machine. */
  maxConcurrentTasks: number;
  /** How often the allocation is reviewed even when nothing changes; also the starvation bound. */
  reviewMs: number;
}

/** SPEC-001's numbers. */
export const SPEC_POLICY: ResourcePolicy = {
  quotas: { critical: 0.9, high: 0.7, medium: 0.4, low: 0.1 },
  hardCap: 0.9,
  threshold: 0.98,
  maxConcurrentTasks: 16,
  reviewMs: 20 * 60_000,
};

export interface ProjectDemand {
  projectId: string;
  priority: Priority;
  /** The share of NOS the project could use now (its workable tickets' slots), 0 when it has no work. */
  demand: number;
}

export interface Allocation {
  projectId: string;
  priority: Priority;
  quota: number;
  /** What the base step gave (after scaling to the hard cap). */
  base: number;
  /** What the top-up added. */
  topUp: number;
  /** base + topUp: the project's share of NOS. */
  share: number;
}

/** Shares of NOS for the projects that have demand (others get nothing), ordered by tier then id. */
export function allocate(demands: readonly ProjectDemand[], policy: ResourcePolicy): Allocation[] {
  const busy = demands.filter((d) => d.demand > 0).sort(byTierThenId);
  const shares = busy.map(({ projectId, priority, demand }) => ({ projectId, priority, demand, quota: policy.quotas[priority], base: 0, topUp: 0 }));
  scaledQuotas(shares, policy.hardCap);
  topUp(shares, policy.hardCap - sum(shares.map((s) => s.base)));
  return shares.map(({ projectId, priority, quota, base, topUp: added }) => ({ projectId, priority, quota, base, topUp: added, share: base + added }));
}

type Share = { priority: Priority; base: number; topUp: number; quota: number; demand: number };

/** base = min(demand, factor × quota), with the largest factor ≤ 1 that keeps the sum within the cap. */
function scaledQuotas(shares: Share[], cap: number): void {
  let left = cap;
  let weight = sum(shares.map((s) => s.quota));
  // Those that need the least for their weight are served first (demand / quota, compared without
  // dividing: a quota of 0 comes last), each taking its demand while it fits.
  for (const s of [...shares].sort((a, b) => a.demand * b.quota - b.demand * a.quota)) {
    const factor = weight > 0 ? Math.min(1, left / weight) : 0;
    s.base = Math.min(s.demand, factor * s.quota);
    left -= s.base;
    weight -= s.quota;
  }
}

/** Offers `left` tier by tier (critical first) up to what each project can use. */
function topUp(shares: Share[], left: number): void {
  for (const tier of PRIORITIES) {
    if (left <= 0) return;
    const group = shares.filter((s) => s.priority === tier && s.demand > s.base + s.topUp);
    left -= fillEqually(group, left, (s) => s.demand - s.base - s.topUp);
  }
}

/** Water-filling: equal parts, a member that needs less than its part takes only what it needs. Returns what was given. */
function fillEqually(group: Share[], amount: number, room: (s: Share) => number): number {
  const byRoom = [...group].sort((a, b) => room(a) - room(b));
  let given = 0;
  byRoom.forEach((s, i) => {
    const part = Math.min(room(s), (amount - given) / (byRoom.length - i));
    s.topUp += part;
    given += part;
  });
  return given;
}

function byTierThenId(a: { priority: Priority; projectId: string }, b: { priority: Priority; projectId: string }): number {
  return PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority) || (a.projectId < b.projectId ? -1 : a.projectId > b.projectId ? 1 : 0);
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

// ---- shares and slots ---------------------------------------------------------------------
// The hard cap of NOS is what the pair slots hold: a project's share s is s / hardCap of the slots.

/** The share of NOS a project with `workable` tickets (running or ready) could use. */
export function demandOf(workable: number, slots: number, policy: ResourcePolicy): number {
  return Math.min(policy.hardCap, (workable * policy.hardCap) / slots);
}

/** How many slots (fractional: a share of slot-time) a share of NOS is. */
export function slotsOf(share: number, slots: number, policy: ResourcePolicy): number {
  return (share / policy.hardCap) * slots;
}

// ---- from the settings ----------------------------------------------------------------------

/** The policy as the user set it (`redgreen.resources.*`, percents and minutes). */
export function policyOf(settings: SettingsReader): ResourcePolicy {
  const quotas = settings.get("resources.quotas");
  return {
    quotas: { critical: quotas.critical / 100, high: quotas.high / 100, medium: quotas.medium / 100, low: quotas.low / 100 },
    hardCap: settings.get("resources.hardCap") / 100,
    threshold: settings.get("resources.threshold") / 100,
    maxConcurrentTasks: settings.get("resources.maxConcurrentTasks"),
    reviewMs: settings.get("resources.reviewMinutes") * 60_000,
  };
}

export interface Machine {
  cores: number;
  /** Its memory, in bytes. */
  memoryBytes: number;
}

/** The memory heavy models may fill, and each heavy model's size in the same unit (see DirectorView.memory). */
export interface ModelMemory {
  capacity: number;
  sizes: ReadonlyMap<string, number>;
}

/** A local model as memory sees it: its weights' bytes (its context adds to them), and whether it is heavy (loaded on demand) or small (loaded once and kept). */
export interface ModelFootprint {
  residency: string;
  bytes: number;
  heavy: boolean;
}

/**
 * The memory heavy models share: the machine's, less the reserve for other applications and the
 * small models (kept loaded); each heavy model counts its weights.
 */
export function modelMemory(machine: Machine, settings: SettingsReader, models: readonly ModelFootprint[]): ModelMemory {
  const small = new Map(models.filter((m) => !m.heavy).map((m) => [m.residency, m.bytes]));
  const kept = [...small.values()].reduce((a, b) => a + b, 0);
  const reserve = settings.get("resources.reserve").memoryGB * 2 ** 30;
  return { capacity: Math.max(0, machine.memoryBytes - reserve - kept), sizes: new Map(models.filter((m) => m.heavy && !small.has(m.residency)).map((m) => [m.residency, m.bytes])) };
}

/**
 * The pair slots the machine holds: the hard cap of the cores left after the reserve, one core per
 * pair (its test runs and git; the model's threads are shared in the host), at least one, and no
 * more than `pairs.slots` asks for.
 */
export function machineSlots(machine: Machine, settings: SettingsReader, asked: number): number {
  const nosCores = machine.cores * (1 - settings.get("resources.reserve").cpuPercent / 100);
  return Math.max(1, Math.min(asked, Math.floor(nosCores * (settings.get("resources.hardCap") / 100) + 1e-9)));
}

/**
 * The resident heavy models to unload, largest first, so that memory holds `residency` beside the
 * rest; one in use cannot go, and a smaller one goes in its place. All that can go when it never
 * fits (it is loaded alone then, or beside those in use).
 */
export function modelsToUnload(memory: ModelMemory, residency: string, resident: readonly string[], inUse: ReadonlySet<string> = new Set()): string[] {
  const size = memory.sizes.get(residency) ?? 0;
  const others = [...new Set(resident)].filter((r) => r !== residency && memory.sizes.has(r));
  let used = others.reduce((sum, r) => sum + memory.sizes.get(r)!, 0);
  const unload: string[] = [];
  for (const other of others.filter((r) => !inUse.has(r)).sort((a, b) => memory.sizes.get(b)! - memory.sizes.get(a)! || (a < b ? -1 : 1))) {
    if (size === 0 || used + size <= memory.capacity) break;
    unload.push(other);
    used -= memory.sizes.get(other)!;
  }
  return unload;
}
