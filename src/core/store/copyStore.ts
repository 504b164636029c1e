import { COLLECTION_NAMES, DuplicateKeyError, type CollectionName, type Store } from "./port";

// Copies every record of one store into another (a window's store from before the engine into the
// engine's), then checks that each one arrived. A record the target has already (an earlier,
// interrupted copy) is left as it is: ids are unique, so it is the same record. Nothing is
// removed from the source: the caller keeps it until the copy is verified, and after.

export interface CopyReport {
  /** Per collection: records in the source, copied now, and already in the target. */
  collections: Record<CollectionName, { source: number; copied: number; present: number }>;
  total: number;
}

export class CopyVerificationError extends Error {}

export async function copyStore(from: Store, to: Store): Promise<CopyReport> {
  const collections = {} as CopyReport["collections"];
  let total = 0;
  for (const name of COLLECTION_NAMES) {
    // In the source's order: a capped collection drops its oldest first.
    const records = await from.collection(name).find({});
    let copied = 0;
    for (const record of records) {
      try {
        await to.collection(name).insert(record);
        copied++;
      } catch (error) {
        if (!(error instanceof DuplicateKeyError)) throw error;
      }
    }
    await verifyCopied(to, name, records.map((record) => record._id));
    collections[name] = { source: records.length, copied, present: records.length - copied };
    total += records.length;
  }
  return { collections, total };
}

/** Every id is found in the target, read back one query at a time per collection. */
async function verifyCopied(to: Store, name: CollectionName, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = new Set((await to.collection(name).find({ _id: { $in: ids } })).map((record) => record._id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw new CopyVerificationError(`${name}: ${missing.length} of ${ids.length} records are missing after the copy (first: ${missing[0]})`);
}
