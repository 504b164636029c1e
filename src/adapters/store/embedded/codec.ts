// Documents as JSON lines. JSON has no dates, so a Date is written as {"$date": <ms>}
// (the same tag MongoDB's extended JSON uses) and turned back into a Date on reading.

export type LogRecord = { put: Record<string, unknown> } | { del: string };

export function encodeRecord(record: LogRecord): string {
  return JSON.stringify(record, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    return raw instanceof Date ? { $date: raw.getTime() } : value;
  });
}

/** Parses one line; throws a message saying what is wrong with it. */
export function decodeRecord(line: string): LogRecord {
  const value: unknown = JSON.parse(line, (_key, item: unknown) => {
    if (item && typeof item === "object" && !Array.isArray(item)) {
      const keys = Object.keys(item);
      const ms = (item as { $date?: unknown }).$date;
      if (keys.length === 1 && typeof ms === "number") return new Date(ms);
    }
    return item;
  });
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record.del === "string") return { del: record.del };
    if (record.put && typeof record.put === "object" && !Array.isArray(record.put)) return { put: record.put as Record<string, unknown> };
  }
  throw new Error('expected {"put": document} or {"del": id}');
}
