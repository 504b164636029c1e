import { MongoClient, MongoServerError, type Db, type Document } from "mongodb";
import { ConnectionString } from "mongodb-connection-string-url";
import type { Clock } from "../../../core/clock";
import { systemClock } from "../../../core/clock";
import { describeError } from "../../../core/logger";
import {
  COLLECTION_NAMES,
  COLLECTIONS,
  DuplicateKeyError,
  StoreError,
  unexpired,
  validateDoc,
  type Collection,
  type CollectionDef,
  type CollectionName,
  type DocOf,
  type Filter,
  type FindOptions,
  type Store,
  type VectorQuery,
} from "../../../core/store/port";

// The MongoDB adapter: the official driver against a server the user runs. The server does what
// the embedded store imitates: a real capped collection for working memory, TTL indexes on
// `expiresAt`, and $vectorSearch where the deployment has a search engine (Atlas, or 8.2+ with
// mongot); without one, knowledge search falls back to the client.

export interface MongoStoreOptions {
  /** Kept out of the URI so it never appears in settings or logs. */
  password?: string;
  clock?: Clock;
  cappedMax?: number;
  /** Fails fast when nobody answers (the driver's default is 30 s). */
  serverSelectionTimeoutMS?: number;
}

const VECTOR_INDEX = "redgreen_memories_embedding";

/** The URI without user info, for messages. */
export function redactUri(uri: string): string {
  return uri.replace(/^(mongodb(?:\+srv)?:\/\/)[^@/]*@/, "$1");
}

export async function openMongoStore(uri: string, options: MongoStoreOptions = {}): Promise<MongoStore> {
  const location = redactUri(uri);
  let client: MongoClient;
  let database: string;
  try {
    // Not WHATWG URL: a replica set's URI lists several hosts, which URL cannot parse.
    const parsed = new ConnectionString(uri);
    const auth = parsed.username ? { username: decodeURIComponent(parsed.username), password: options.password ?? decodeURIComponent(parsed.password) } : undefined;
    parsed.username = "";
    parsed.password = "";
    database = decodeURIComponent(parsed.pathname.slice(1)) || "redgreen";
    client = new MongoClient(parsed.toString(), { auth, ignoreUndefined: true, serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000, appName: "redgreen" });
    await client.connect();
  } catch (error) {
    throw new StoreError(`cannot connect to MongoDB at ${location}: ${describeError(error)}`, { cause: error });
  }
  const db = client.db(database);
  try {
    await prepare(db, options.cappedMax);
  } catch (error) {
    await client.close();
    throw new StoreError(`cannot prepare the Redgreen collections at ${location}: ${describeError(error)}`, { cause: error });
  }
  return new MongoStore(location, client, db, options.clock ?? systemClock);
}

/** Creates what is missing: collections (the capped one with its limits), indexes, TTL indexes. */
async function prepare(db: Db, cappedMax: number | undefined): Promise<void> {
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const name of COLLECTION_NAMES) {
    const def: CollectionDef = COLLECTIONS[name];
    if (!existing.has(name)) {
      await db.createCollection(name, def.capped ? { capped: true, size: def.capped.bytes, max: cappedMax ?? def.capped.max } : {});
    }
    const collection = db.collection(name);
    for (const keys of def.indexes) await collection.createIndex(keys);
    if (def.ttl) await collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: "expiresAt_ttl" });
  }
}

export class MongoStore implements Store {
  readonly kind = "mongodb";
  private vectorSearch: "unknown" | "ready" | "unavailable" = "unknown";

  constructor(readonly location: string, private readonly client: MongoClient, private readonly db: Db, private readonly clock: Clock) {}

  collection<N extends CollectionName>(name: N): Collection<DocOf<N>> {
    if (!(name in COLLECTIONS)) throw new StoreError(`unknown collection "${name}"`);
    return new MongoCollection(name, this.db, this.clock);
  }

  async sweepExpired(): Promise<number> {
    let removed = 0;
    for (const name of COLLECTION_NAMES) {
      const def: CollectionDef = COLLECTIONS[name];
      if (def.ttl) removed += (await this.db.collection(name).deleteMany({ expiresAt: { $lte: new Date(this.clock.now()) } })).deletedCount;
    }
    return removed;
  }

  async searchMemories(query: VectorQuery): Promise<{ id: string; score: number }[] | undefined> {
    if (this.vectorSearch === "unavailable" || !(await this.ensureVectorIndex(query.vector.length))) return undefined;
    const prefilter: Record<string, string> = { embeddingModel: query.embeddingModel };
    if (query.projectId) prefilter.projectId = query.projectId;
    // $vectorSearch can pre-filter only on indexed scalar fields; tags are matched after it.
    const tags: Document = query.tags?.length ? { tags: { $all: query.tags } } : {};
    try {
      const hits = await this.db.collection("memories").aggregate<{ _id: string; score: number }>([
        { $vectorSearch: { index: VECTOR_INDEX, path: "embedding", queryVector: query.vector, numCandidates: Math.max(100, query.k * 20), limit: query.k * (query.tags?.length ? 10 : 1), filter: prefilter } },
        { $match: tags },
        { $limit: query.k },
        { $project: { _id: 1, score: { $meta: "vectorSearchScore" } } },
      ]).toArray();
      // Atlas reports cosine as (1 + cos) / 2; turn it back into the cosine the client computes.
      return hits.map((hit) => ({ id: hit._id, score: 2 * hit.score - 1 }));
    } catch {
      this.vectorSearch = "unavailable";
      return undefined;
    }
  }

  /** A search index must exist and be queryable; creating one is asynchronous on the server. */
  private async ensureVectorIndex(dimensions: number): Promise<boolean> {
    if (this.vectorSearch === "ready") return true;
    const memories = this.db.collection("memories");
    try {
      const [index] = await memories.listSearchIndexes(VECTOR_INDEX).toArray();
      if (!index) {
        await memories.createSearchIndex({
          name: VECTOR_INDEX,
          type: "vectorSearch",
          definition: {
            fields: [
              { type: "vector", path: "embedding", numDimensions: dimensions, similarity: "cosine" },
              { type: "filter", path: "projectId" },
              { type: "filter", path: "embeddingModel" },
            ],
          },
        });
        return false;
      }
      if ((index as { queryable?: boolean }).queryable) this.vectorSearch = "ready";
      return this.vectorSearch === "ready";
    } catch {
      // A server without a search engine refuses these commands: search on the client.
      this.vectorSearch = "unavailable";
      return false;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

class MongoCollection<N extends CollectionName> implements Collection<DocOf<N>> {
  private readonly def: CollectionDef;

  constructor(private readonly name: N, private readonly db: Db, private readonly clock: Clock) {
    this.def = COLLECTIONS[name];
  }

  private get raw() {
    return this.db.collection<{ _id: string } & Document>(this.name);
  }

  async insert(doc: DocOf<N>): Promise<void> {
    const valid = validateDoc(this.name, doc);
    try {
      await this.raw.insertOne({ ...valid });
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 11000) throw new DuplicateKeyError(this.name, valid._id);
      throw this.wrap("insert", error);
    }
  }

  async put(doc: DocOf<N>): Promise<void> {
    const valid = validateDoc(this.name, doc);
    await this.run("put", () => this.raw.replaceOne({ _id: valid._id }, valid, { upsert: true }));
  }

  async get(id: string): Promise<DocOf<N> | undefined> {
    const [doc] = await this.find({ _id: id }, { limit: 1 });
    return doc;
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<DocOf<N>[]> {
    const docs = await this.run("find", () =>
      this.raw.find(this.live(filter), { sort: options.sort, skip: options.skip, limit: options.limit }).toArray(),
    );
    return docs.map((doc) => validateDoc(this.name, doc, `read of _id ${String(doc._id)}`));
  }

  count(filter: Filter = {}): Promise<number> {
    return this.run("count", () => this.raw.countDocuments(this.live(filter)));
  }

  async delete(filter: Filter): Promise<number> {
    return (await this.run("delete", () => this.raw.deleteMany(filter))).deletedCount;
  }

  private live(filter: Filter): Filter {
    return this.def.ttl ? unexpired(filter, new Date(this.clock.now())) : filter;
  }

  private async run<R>(operation: string, call: () => Promise<R>): Promise<R> {
    try {
      return await call();
    } catch (error) {
      throw this.wrap(operation, error);
    }
  }

  private wrap(operation: string, error: unknown): StoreError {
    return error instanceof StoreError ? error : new StoreError(`${this.name}: ${operation} failed: ${describeError(error)}`, { cause: error });
  }
}
