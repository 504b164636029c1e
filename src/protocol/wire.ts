// Values on a socket between Redgreen's processes: JSON has no dates, so a Date travels as
// {"$date": <ms>} (the tag MongoDB's extended JSON and the embedded store's files use) and is a
// Date again on arrival. Everything else must already be plain JSON.

/** A copy of `value` with every Date replaced by its tag, ready for JSON. */
export function toWire(value: unknown): unknown {
  if (value instanceof Date) return { $date: value.getTime() };
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toWire(item);
    return out;
  }
  return value;
}

/** The value `toWire` was given: every {"$date": ms} (and nothing else) becomes a Date. */
export function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    const [only] = entries;
    if (entries.length === 1 && only?.[0] === "$date" && typeof only[1] === "number") return new Date(only[1]);
    return Object.fromEntries(entries.map(([key, item]) => [key, fromWire(item)]));
  }
  return value;
}
