import type { WorkingEntry } from "../store/records";

// Working memory: the recent messages and agent events of each project, newest last, at most
// `capacity` per project. Least recently used entries leave first; reading an entry by id counts
// as a use. A summary entry replaces the turns it summarizes (same project and ticket).

export class WorkingMemory {
  private readonly projects = new Map<string, Map<string, WorkingEntry>>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`working memory capacity must be a positive integer, got ${capacity}`);
  }

  add(entry: WorkingEntry): void {
    let entries = this.projects.get(entry.projectId);
    if (!entries) this.projects.set(entry.projectId, (entries = new Map<string, WorkingEntry>()));
    if (entry.kind === "summary" && entry.replacesUpTo !== undefined) {
      // By position, not seq: an earlier summary has a high seq but stands where its turns stood.
      for (const [id, old] of entries) {
        if (old.ticketId === entry.ticketId && position(old) < entry.replacesUpTo + 1) entries.delete(id);
      }
    }
    entries.delete(entry._id);
    entries.set(entry._id, entry);
    for (const id of entries.keys()) {
      if (entries.size <= this.capacity) break;
      entries.delete(id);
    }
  }

  get(projectId: string, id: string): WorkingEntry | undefined {
    const entries = this.projects.get(projectId);
    const entry = entries?.get(id);
    if (entries && entry) {
      entries.delete(id);
      entries.set(id, entry);
    }
    return entry;
  }

  /** A project's entries in the order they were written (oldest first); for one ticket if given. */
  recent(projectId: string, options: { ticketId?: string; limit?: number } = {}): WorkingEntry[] {
    const all = [...(this.projects.get(projectId)?.values() ?? [])];
    const selected = options.ticketId === undefined ? all : all.filter((entry) => entry.ticketId === options.ticketId);
    selected.sort((a, b) => position(a) - position(b));
    return options.limit === undefined ? selected : selected.slice(-options.limit);
  }

  size(projectId: string): number {
    return this.projects.get(projectId)?.size ?? 0;
  }
}

/** A summary stands where the turns it replaced stood, before the turns kept after them. */
function position(entry: WorkingEntry): number {
  return entry.kind === "summary" && entry.replacesUpTo !== undefined ? entry.replacesUpTo + 0.5 : entry.seq;
}
