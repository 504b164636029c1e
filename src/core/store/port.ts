import type * as z from "zod";
import type { Disposable } from "../lifecycle";
import { describeIssues } from "../logger";
import {
  agentLogSchema,
  conversationSchema,
  memorySchema,
  projectSchema,
  snippetSchema,
  specVersionSchema,
  ticketSchema,
  workingEntrySchema,
} from "./records";

// The store port: typed collections over whichever adapter is configured (embedded by default,
// MongoDB when a URI is set). The core writes and reads only through this interface.

export interface CollectionDef<S extends z.ZodType<{ _id: string }> = z.ZodType<{ _id: string }>> {
  schema: S;
  /** Compound indexes, in MongoDB's key order. Every collection is queried by project and time. */
  indexes: Record<string, 1 | -1>[];
  /** Documents whose `expiresAt` has passed are never returned and are removed in the background. */
  ttl?: true;
  /** Oldest documents (in insertion order) are dropped beyond `max` documents. */
  capped?: { max: number; bytes: number };
}

const byProjectAndTime = { projectId: 1, at: 1 } as const;

function def<S extends z.ZodType<{ _id: string }>>(definition: CollectionDef<S>): CollectionDef<S> {
  return definition;
}

export const COLLECTIONS = {
  projects: def({ schema: projectSchema, indexes: [{ updatedAt: -1 }] }),
  tickets: def({ schema: ticketSchema, indexes: [{ projectId: 1, updatedAt: 1 }, { projectId: 1, functionalityId: 1 }] }),
  conversations: def({ schema: conversationSchema, indexes: [byProjectAndTime, { projectId: 1, ticketId: 1, at: 1 }], ttl: true }),
  conversations_current: def({
    schema: workingEntrySchema,
    indexes: [{ projectId: 1, seq: 1 }],
    capped: { max: 100_000, bytes: 256 * 1024 * 1024 },
  }),
  memories: def({ schema: memorySchema, indexes: [byProjectAndTime, { tags: 1 }] }),
  agent_logs: def({ schema: agentLogSchema, indexes: [byProjectAndTime, { projectId: 1, ticketId: 1, at: 1 }], ttl: true }),
  spec_versions: def({ schema: specVersionSchema, indexes: [{ projectId: 1, version: 1 }] }),
  snippets: def({ schema: snippetSchema, indexes: [byProjectAndTime] }),
};

export type CollectionName = keyof typeof COLLECTIONS;
export const COLLECTION_NAMES = Object.keys(COLLECTIONS) as CollectionName[];
export type DocOf<N extends CollectionName> = z.infer<(typeof COLLECTIONS)[N]["schema"]>;

/** A MongoDB query filter (the subset both adapters understand: equality, $gt/$gte/$lt/$lte, $in, $exists, $and/$or). */
export type Filter = Record<string, unknown>;

export interface FindOptions {
  sort?: Record<string, 1 | -1>;
  limit?: number;
  skip?: number;
}

export interface Collection<T extends { _id: string }> {
  /** Fails with DuplicateKeyError when `_id` exists. Resolves once the write is durable. */
  insert(doc: T): Promise<void>;
  /** Inserts or replaces the document with the same `_id`. */
  put(doc: T): Promise<void>;
  get(id: string): Promise<T | undefined>;
  find(filter?: Filter, options?: FindOptions): Promise<T[]>;
  count(filter?: Filter): Promise<number>;
  /** Deletes the matching documents; returns how many. */
  delete(filter: Filter): Promise<number>;
}

export interface VectorQuery {
  vector: number[];
  k: number;
  embeddingModel: string;
  projectId?: string;
  /** Entries must carry every one of these tags. */
  tags?: string[];
}

export interface Store {
  readonly kind: "embedded" | "mongodb";
  /** Where the data lives, for messages (a folder, or the URI without credentials). */
  readonly location: string;
  collection<N extends CollectionName>(name: N): Collection<DocOf<N>>;
  /**
   * Nearest memories by cosine, computed by the server where it can (MongoDB's $vectorSearch).
   * Undefined, or a promise of undefined, means "not offered here": search on the client instead.
   */
  searchMemories?(query: VectorQuery): Promise<{ id: string; score: number }[] | undefined>;
  /** Removes expired documents now (adapters also do it on their own schedule). */
  sweepExpired(): Promise<number>;
  /**
   * Documents another writer of a shared store inserted or replaced (another window or the CLI,
   * through the engine), each checked against its collection's schema. Absent where this process
   * is the only writer.
   */
  onExternalWrite?(listener: (write: ExternalWrite) => void): Disposable;
  close(): Promise<void>;
}

/** A document written by another client of the same store. */
export type ExternalWrite = { [N in CollectionName]: { collection: N; doc: DocOf<N> } }[CollectionName];

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
  }
}

export class DuplicateKeyError extends StoreError {
  constructor(readonly collection: string, readonly id: string) {
    super(`${collection}: a document with _id "${id}" already exists`);
    this.name = "DuplicateKeyError";
  }
}

/** Validates a document for `collection`, naming the collection and the failing fields. */
export function validateDoc<N extends CollectionName>(name: N, doc: unknown, where = "write"): DocOf<N> {
  const result = COLLECTIONS[name].schema.safeParse(doc);
  if (result.success) return result.data as DocOf<N>;
  const problems = describeIssues(result.error, "(document)");
  throw new StoreError(`${name}: invalid document on ${where}: ${problems}`);
}

/** Adds "not expired" to a filter for collections with retention. */
export function unexpired(filter: Filter, now: Date): Filter {
  return { $and: [filter, { $or: [{ expiresAt: { $exists: false } }, { expiresAt: { $gt: now } }] }] };
}
