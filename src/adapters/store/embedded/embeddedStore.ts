import { promises as fs } from "node:fs";
import path from "node:path";
import type { Clock } from "../../../core/clock";
import { systemClock } from "../../../core/clock";
import { describeError } from "../../../core/logger";
import { holdExclusive, isAlive } from "../../exclusive";
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
} from "../../../core/store/port";
import { decodeRecord, encodeRecord, type LogRecord } from "./codec";
import { LogFile, PRIVATE_DIR, PRIVATE_FILE, restrictMode } from "./logFile";
import { compileFilter } from "./query";

// The default store: no server, pure JavaScript. Each collection is held in memory and logged to
// `<dir>/<collection>.jsonl`; queries run through mingo (MongoDB's query language in JavaScript).
// Documents are found by `projectId` through an in-memory equality index, then filtered.

export interface EmbeddedStoreOptions {
  clock?: Clock;
  /** Problems found while opening (corrupted files moved aside, torn tails) are reported here. */
  onProblem?: (message: string) => void;
  /** How often expired documents are removed; 0 disables the timer (sweepExpired still works). */
  sweepIntervalMs?: number;
  /** Overrides the capped collection's size (tests use a small one). */
  cappedMax?: number;
}

/** Compaction rewrites a file once superseded lines outnumber live documents by this much. */
const COMPACT_MIN_LINES = 1000;
const COMPACT_RATIO = 2;

export async function openEmbeddedStore(dir: string, options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const report = options.onProblem ?? (() => undefined);
  await makePrivateFolder(dir, report);
  const lock = await takeLock(dir);
  const store = new EmbeddedStore(dir, lock, options.clock ?? systemClock, options.cappedMax);
  try {
    for (const name of COLLECTION_NAMES) await store.open(name, report);
    await store.sweepExpired();
  } catch (error) {
    await store.close();
    throw error;
  }
  if (options.sweepIntervalMs !== 0) store.scheduleSweep(options.sweepIntervalMs ?? 60 * 60 * 1000, report);
  return store;
}

export class EmbeddedStore implements Store {
  readonly kind = "embedded";
  private readonly collections = new Map<CollectionName, EmbeddedCollection<CollectionName>>();
  private sweepTimer: { cancel(): void } | undefined;
  private closed = false;

  constructor(
    readonly location: string,
    private readonly lock: { release(): Promise<void> },
    private readonly clock: Clock,
    private readonly cappedMax: number | undefined,
  ) {}

  collection<N extends CollectionName>(name: N): Collection<DocOf<N>> {
    const collection = this.collections.get(name);
    if (!collection) throw new StoreError(`unknown collection "${name}"`);
    return collection as unknown as Collection<DocOf<N>>;
  }

  async open(name: CollectionName, report: (message: string) => void): Promise<void> {
    const def: CollectionDef = COLLECTIONS[name];
    const cappedMax = def.capped ? (this.cappedMax ?? def.capped.max) : undefined;
    const collection = new EmbeddedCollection(name, path.join(this.location, `${name}.jsonl`), this.clock, cappedMax);
    try {
      await collection.load(report);
    } catch (error) {
      // This collection is unusable (unreadable file, no space...); the others keep working.
      collection.failure = new StoreError(`${collection.file} cannot be opened: ${describeError(error)}`, { cause: error });
      report(collection.failure.message);
    }
    this.collections.set(name, collection);
  }

  async sweepExpired(): Promise<number> {
    let removed = 0;
    for (const collection of this.collections.values()) removed += await collection.sweep();
    return removed;
  }

  scheduleSweep(intervalMs: number, report: (message: string) => void): void {
    this.sweepTimer = this.clock.setTimeout(() => {
      if (this.closed) return;
      this.sweepExpired().catch((error: unknown) => report(`removing expired documents failed: ${describeError(error)}`));
      this.scheduleSweep(intervalMs, report);
    }, intervalMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweepTimer?.cancel();
    for (const collection of this.collections.values()) await collection.close();
    await this.lock.release();
  }
}

type Doc = Record<string, unknown> & { _id: string };

class EmbeddedCollection<N extends CollectionName> implements Collection<DocOf<N>> {
  private readonly docs = new Map<string, Doc>();
  private readonly byProject = new Map<unknown, Set<string>>();
  private log: LogFile | undefined;
  private compacting = false;
  private report: (message: string) => void = () => undefined;
  failure: StoreError | undefined;
  private readonly def: CollectionDef;

  constructor(readonly name: N, readonly file: string, private readonly clock: Clock, private readonly cappedMax: number | undefined) {
    this.def = COLLECTIONS[name];
  }

  async load(report: (message: string) => void): Promise<void> {
    this.report = report;
    const { log, loaded } = await LogFile.open(this.file, (line) => this.isWholeRecord(line));
    this.log = log;
    if (loaded.tornTailBytes > 0) {
      report(`${this.file}: dropped ${loaded.tornTailBytes} bytes of an unfinished write at its end (a crash before the write was acknowledged)`);
    }
    if (loaded.completedTail) report(`${this.file}: its last record had no newline: kept, and the newline added`);
    const bad: string[] = [];
    loaded.lines.forEach((line, index) => {
      try {
        this.apply(this.decode(line, index + 1));
      } catch (error) {
        bad.push(`line ${index + 1}: ${describeError(error)}`);
      }
    });
    if (bad.length > 0) {
      // Never overwrite what we could not read: move the file aside, then write what was readable.
      const aside = `${this.file}.corrupt-${new Date(this.clock.now()).toISOString().replace(/[:.]/g, "-")}`;
      await fs.copyFile(this.file, aside);
      await restrictMode(aside, PRIVATE_FILE);
      await syncFile(aside);
      await log.rewrite(() => this.lines());
      report(
        `${this.file} is corrupted (${bad.length} of ${loaded.lines.length} lines unreadable; first: ${bad[0]}). ` +
          `The original is kept as ${aside}; ${this.docs.size} documents were recovered.`,
      );
    } else if (shouldCompact(log.lineCount, this.docs.size)) {
      await log.rewrite(() => this.lines());
    }
  }

  async insert(doc: DocOf<N>): Promise<void> {
    const valid = this.validate(doc);
    if (this.docs.has(valid._id)) throw new DuplicateKeyError(this.name, valid._id);
    await this.write([{ put: valid }]);
  }

  async put(doc: DocOf<N>): Promise<void> {
    await this.write([{ put: this.validate(doc) }]);
  }

  get(id: string): Promise<DocOf<N> | undefined> {
    return this.read(() => {
      const doc = this.docs.get(id);
      return doc && !this.isExpired(doc) ? (structuredClone(doc) as DocOf<N>) : undefined;
    });
  }

  find(filter: Filter = {}, options: FindOptions = {}): Promise<DocOf<N>[]> {
    return this.read(() => {
      let cursor = compileFilter(this.live(filter)).find(this.candidates(filter));
      if (options.sort) cursor = cursor.sort(options.sort);
      if (options.skip) cursor = cursor.skip(options.skip);
      if (options.limit) cursor = cursor.limit(options.limit);
      return cursor.all().map((doc) => structuredClone(doc) as DocOf<N>);
    });
  }

  count(filter: Filter = {}): Promise<number> {
    return this.read(() => {
      const query = compileFilter(this.live(filter));
      let count = 0;
      for (const doc of this.candidates(filter)) if (query.test(doc)) count++;
      return count;
    });
  }

  async delete(filter: Filter): Promise<number> {
    this.check();
    const query = compileFilter(filter);
    const ids = this.candidates(filter).filter((doc) => query.test(doc)).map((doc) => doc._id);
    if (ids.length > 0) await this.write(ids.map((id) => ({ del: id })));
    return ids.length;
  }

  async sweep(): Promise<number> {
    if (!this.def.ttl || this.failure) return 0;
    return this.delete({ expiresAt: { $lte: new Date(this.clock.now()) } });
  }

  async close(): Promise<void> {
    await this.log?.close();
  }

  /** Applies the records in memory first (so concurrent writers see them), then makes them durable. */
  private async write(records: LogRecord[]): Promise<void> {
    this.check();
    for (const record of records) this.apply(record);
    if (this.cappedMax !== undefined) {
      // Map order is insertion order: the oldest documents come first.
      for (const id of this.docs.keys()) {
        if (this.docs.size <= this.cappedMax) break;
        const record = { del: id };
        this.apply(record);
        records.push(record);
      }
    }
    const log = this.log!;
    try {
      await log.append(records.map(encodeRecord));
    } catch (error) {
      // Memory is now ahead of the file: refuse reads too, rather than serve what is not on disk.
      this.failure ??= new StoreError(`${this.file} could not be written (${describeError(error)}); reopen the store after fixing the cause`, { cause: error });
      throw this.failure;
    }
    if (!this.compacting && shouldCompact(log.lineCount, this.docs.size)) {
      // In the background, once at a time: a writer's acknowledgement does not wait for it.
      this.compacting = true;
      log.rewrite(() => this.lines())
        .catch((error: unknown) => this.report(`${this.file} could not be compacted (writes go on to the uncompacted file): ${describeError(error)}`))
        .finally(() => (this.compacting = false));
    }
  }

  private apply(record: LogRecord): void {
    if ("del" in record) {
      const doc = this.docs.get(record.del);
      if (!doc) return;
      this.docs.delete(record.del);
      this.byProject.get(doc.projectId)?.delete(doc._id);
      return;
    }
    const doc = record.put as Doc;
    const previous = this.docs.get(doc._id);
    if (previous && previous.projectId !== doc.projectId) this.byProject.get(previous.projectId)?.delete(doc._id);
    this.docs.set(doc._id, doc);
    if (doc.projectId !== undefined) {
      let ids = this.byProject.get(doc.projectId);
      if (!ids) this.byProject.set(doc.projectId, (ids = new Set()));
      ids.add(doc._id);
    }
  }

  private isWholeRecord(line: string): boolean {
    try {
      this.decode(line, 0);
      return true;
    } catch {
      return false;
    }
  }

  private decode(line: string, lineNumber: number): LogRecord {
    const record = decodeRecord(line);
    return "put" in record ? { put: validateDoc(this.name, record.put, `line ${lineNumber}`) } : record;
  }

  private validate(doc: DocOf<N>): Doc {
    return validateDoc(this.name, doc);
  }

  /** The documents worth testing: one project's, when the filter names a project. */
  private candidates(filter: Filter): Doc[] {
    const project = filter.projectId;
    if (typeof project === "string") {
      const ids = this.byProject.get(project);
      return ids ? [...ids].map((id) => this.docs.get(id)!) : [];
    }
    return [...this.docs.values()];
  }

  private live(filter: Filter): Filter {
    return this.def.ttl ? unexpired(filter, new Date(this.clock.now())) : filter;
  }

  private isExpired(doc: Doc): boolean {
    return this.def.ttl === true && doc.expiresAt instanceof Date && doc.expiresAt.getTime() <= this.clock.now();
  }

  private lines(): string[] {
    return [...this.docs.values()].map((doc) => encodeRecord({ put: doc }));
  }

  /** Reads are synchronous in memory; they still answer through a promise, like every adapter. */
  private read<R>(answer: () => R): Promise<R> {
    try {
      this.check();
      return Promise.resolve(answer());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new StoreError(String(error)));
    }
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}

function shouldCompact(lines: number, live: number): boolean {
  return lines >= COMPACT_MIN_LINES && lines > COMPACT_RATIO * Math.max(live, 1);
}

/**
 * Creates the store's folder readable by its owner only, and tightens a folder and files that an
 * earlier version left readable by everyone. A file that cannot be tightened is reported, not fatal:
 * the store stays usable and the user learns which file to fix.
 */
async function makePrivateFolder(dir: string, report: (message: string) => void): Promise<void> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await fs.mkdir(dir, { mode: PRIVATE_DIR }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  const tighten = (target: string, mode: number) =>
    restrictMode(target, mode).catch((error: unknown) => report(`${target} could not be made private to you: ${describeError(error)}`));
  await tighten(dir, PRIVATE_DIR);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) await tighten(path.join(dir, entry.name), PRIVATE_FILE);
  }
}

/** Folders this process has open: a second open of the same folder in one process is refused too. */
const openHere = new Set<string>();
/** A lock whose heartbeat is older than this was left by a process that is gone (or hung). */
const LOCK_STALE_MS = 90_000;
const LOCK_HEARTBEAT_MS = 30_000;

/**
 * One process writes a store folder at a time. On Linux the kernel decides: the holder listens on
 * an abstract socket named after the folder, which only one process can bind and which is freed
 * the moment that process dies, so two processes starting together (or both taking over a lock a
 * dead one left) can never both win. The LOCK file says who holds it, and is the lock itself
 * elsewhere: its holder refreshes its time every 30 s, so a lock left behind is recognised even
 * when its process id has been reused since.
 */
async function takeLock(dir: string): Promise<{ file: string; release(): Promise<void> }> {
  const key = await fs.realpath(dir).catch(() => path.resolve(dir));
  if (openHere.has(key)) throw new StoreError(`the store in ${dir} is already open in this window`);
  // Reserved before the first wait: a second open in this process must not see its own lock as stale.
  openHere.add(key);
  const file = path.join(dir, "LOCK");
  let guard: { release(): void } | undefined;
  try {
    guard = await exclusiveGuard(key, file, dir);
    const lock = await takeFileLock(dir, file);
    return {
      file,
      release: async () => {
        openHere.delete(key);
        await lock.release();
        guard?.release();
      },
    };
  } catch (error) {
    openHere.delete(key);
    guard?.release();
    throw error;
  }
}

/** Linux's abstract socket for the folder, or undefined where there is none (the LOCK file alone decides). */
async function exclusiveGuard(key: string, file: string, dir: string): Promise<{ release(): void } | undefined> {
  const held = await holdExclusive(`store ${key}`);
  if (held === "unsupported") return undefined;
  if (held !== "taken") return held;
  const owner = (await fs.readFile(file, "utf8").catch(() => "")).trim();
  throw new StoreError(`the store in ${dir} is in use by another process${owner ? ` (pid ${owner})` : ""}; close the other window using it`);
}

/** The LOCK file: created exclusively, or taken over when its holder is gone (or its heartbeat stopped). */
async function takeFileLock(dir: string, file: string): Promise<{ release(): Promise<void> }> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await fs.writeFile(file, String(process.pid), { flag: "wx", mode: PRIVATE_FILE });
      const heartbeat = setInterval(() => {
        const now = new Date();
        void fs.utimes(file, now, now).catch(() => undefined);
      }, LOCK_HEARTBEAT_MS);
      heartbeat.unref();
      return {
        release: async () => {
          clearInterval(heartbeat);
          await fs.rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // A holder of an older version (no socket), or one on another platform, still counts.
      const owner = Number((await fs.readFile(file, "utf8").catch(() => "")).trim());
      const age = Date.now() - ((await fs.stat(file).catch(() => undefined))?.mtimeMs ?? 0);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner) && age < LOCK_STALE_MS) {
        throw new StoreError(`the store in ${dir} is in use by another process (pid ${owner}); close the other window using it`);
      }
      await fs.rm(file, { force: true });
    }
  }
  throw new StoreError(`cannot lock the store in ${dir}`);
}

/** Makes a file's content durable (the corrupted copy must exist before the original is replaced). */
async function syncFile(file: string): Promise<void> {
  const handle = await fs.open(file, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
