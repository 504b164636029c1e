import type { ModelMemory } from "./policy";

// The Resource Director's view of memory within one decision: which models are resident, which a
// pair may start on, and which to unload for another (see director.ts for when a switch happens).

/** What the plan reads of the Director's view. */
export interface MemoryView {
  memory?: ModelMemory;
  running: readonly { model?: string }[];
  loadedModels: ReadonlySet<string>;
}

export interface ModelSwitch {
  model: string;
  /** The models to unload to make room: no pair takes them up meanwhile. */
  leaving: ReadonlySet<string>;
  since: number;
}

/**
 * Which models a pair may start on: a resident one (loaded, or in use), or one that memory holds
 * beside them. While a model is switched in, only the resident models that stay, and that one.
 */
export class MemoryPlan {
  private readonly resident = new Set<string>();
  private readonly running = new Set<string>();
  private used = 0;

  constructor(private readonly view: MemoryView, private readonly switching: ModelSwitch | undefined) {
    for (const r of view.running) if (r.model !== undefined) this.running.add(r.model);
    // A leaving model no pair runs on any more is as good as unloaded.
    for (const model of new Set([...view.loadedModels, ...this.running])) if (this.running.has(model) || !switching?.leaving.has(model)) this.add(model);
  }

  fits(model: string | undefined): boolean {
    if (model === undefined || this.sizeOf(model) === 0) return true;
    if (this.switching?.leaving.has(model)) return false;
    if (this.resident.has(model)) return true;
    if (this.switching && model !== this.switching.model) return false;
    // A model larger than memory still runs alone: nothing would be gained by never running it.
    return this.used === 0 || this.used + this.sizeOf(model) <= this.view.memory!.capacity;
  }

  inUse(model: string): boolean {
    return this.running.has(model);
  }

  add(model: string | undefined): void {
    if (model === undefined || this.sizeOf(model) === 0 || this.resident.has(model)) return;
    this.resident.add(model);
    this.used += this.sizeOf(model);
  }

  /** The resident models to unload so that `model` fits, among those that may leave; undefined when they do not make room. */
  toFree(model: string, mayLeave: (resident: string) => boolean): Set<string> | undefined {
    const capacity = this.view.memory!.capacity;
    const leaving = new Set<string>();
    let used = this.used;
    // Largest first (fewest to unload), then the one fewest pairs run on (the quickest to drain).
    const pairsOn = (m: string) => this.view.running.filter((r) => r.model === m).length;
    const candidates = [...this.resident].filter((m) => m !== model).sort((a, b) => this.sizeOf(b) - this.sizeOf(a) || pairsOn(a) - pairsOn(b) || (a < b ? -1 : 1));
    for (const m of candidates) {
      if (used + this.sizeOf(model) <= capacity) break;
      if (!mayLeave(m)) continue;
      leaving.add(m);
      used -= this.sizeOf(m);
    }
    return used === 0 || used + this.sizeOf(model) <= capacity ? leaving : undefined;
  }

  private sizeOf(model: string): number {
    return this.view.memory?.sizes.get(model) ?? 0;
  }
}
