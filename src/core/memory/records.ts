import type { Clock } from "../clock";
import type { Filter, Store } from "../store/port";

// What every aggregate of the Memory Manager shares: the store, the clock, ids and retention.

export interface MemoryContext {
  store: Store;
  clock: Clock;
  newId: () => string;
  /** Days chat and agent logs are kept; 0 keeps them for good. */
  retentionDays: number;
}

const DAY = 86_400_000;

export function now(context: MemoryContext): Date {
  return new Date(context.clock.now());
}

export function expiry(context: MemoryContext, at: Date): Date | undefined {
  return context.retentionDays > 0 ? new Date(at.getTime() + context.retentionDays * DAY) : undefined;
}

export interface TimeRange {
  ticketId?: string;
  from?: Date;
  to?: Date;
  limit?: number;
}

export function rangeFilter(projectId: string, range: TimeRange): Filter {
  const filter: Filter = { projectId };
  if (range.ticketId) filter.ticketId = range.ticketId;
  if (range.from || range.to) filter.at = { ...(range.from ? { $gte: range.from } : {}), ...(range.to ? { $lt: range.to } : {}) };
  return filter;
}

/** With a limit, the newest entries were fetched newest first: give them back oldest first. */
export async function newestInOrder<T>(found: Promise<T[]>, limit: number | undefined): Promise<T[]> {
  const items = await found;
  return limit ? items.reverse() : items;
}

/** Optional fields are left out rather than stored as undefined (MongoDB would store null). */
export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
