// The store port over the engine's socket: a client's Memory Manager reads and writes the one
// store its engine owns, so every client of a data folder sees the same records and the engine
// stays their single writer. A write resolves once the engine's store has made it durable; every
// document that arrives is checked against its collection's schema.
import * as z from "zod";
import { toDisposable, type Disposable } from "../../core/lifecycle";
import { describeError, type Logger } from "../../core/logger";
import { ResponseError } from "vscode-jsonrpc/node";
import { COLLECTIONS, DuplicateKeyError, validateDoc, type Collection, type CollectionName, type DocOf, type ExternalWrite, type Filter, type FindOptions, type Store, type VectorQuery } from "../../core/store/port";
import { EngineMethods, EngineNotifications, writtenParams, type StoreParams } from "../../protocol/engine";
import type { EngineConnection } from "./engineClient";

const count = z.number().int().nonnegative();
const hits = z.array(z.object({ id: z.string(), score: z.number() })).nullable();

export class RemoteStore implements Store {
  readonly kind: Store["kind"];
  readonly location: string;

  constructor(private readonly engine: EngineConnection, private readonly log: Logger) {
    this.kind = engine.engine.store.kind;
    this.location = `${engine.engine.store.location} (through the engine, pid ${engine.engine.pid})`;
  }

  collection<N extends CollectionName>(name: N): Collection<DocOf<N>> {
    const schema = COLLECTIONS[name].schema as unknown as z.ZodType<DocOf<N>>;
    const op = <S extends z.ZodType>(params: StoreParams, result: S) => this.engine.request(EngineMethods.store, params, result);
    return {
      insert: async (doc) => {
        // The engine's DuplicateKeyError crosses the socket by name: callers tell it apart, as in process.
        await op({ op: "insert", collection: name, doc }, z.null()).catch((error: unknown) => {
          throw error instanceof ResponseError && (error.data as { name?: unknown } | undefined)?.name === "DuplicateKeyError" ? new DuplicateKeyError(name, doc._id) : error;
        });
      },
      put: async (doc) => void (await op({ op: "put", collection: name, doc }, z.null())),
      get: async (id) => (await op({ op: "get", collection: name, id }, schema.nullable())) ?? undefined,
      find: (filter?: Filter, options?: FindOptions) => op({ op: "find", collection: name, filter, options }, z.array(schema)),
      count: (filter?: Filter) => op({ op: "count", collection: name, filter }, count),
      delete: (filter: Filter) => op({ op: "delete", collection: name, filter }, count),
    };
  }

  async searchMemories(query: VectorQuery): Promise<{ id: string; score: number }[] | undefined> {
    return (await this.engine.request(EngineMethods.store, { op: "search", query }, hits)) ?? undefined;
  }

  sweepExpired(): Promise<number> {
    return this.engine.request(EngineMethods.store, { op: "sweep" }, count);
  }

  onExternalWrite(listener: (write: ExternalWrite) => void): Disposable {
    const following = this.engine.onNotification(EngineNotifications.written, writtenParams, ({ collection, doc }) => {
      const name = collection as CollectionName;
      let write: ExternalWrite;
      try {
        write = { collection: name, doc: validateDoc(name, doc, "another client's write") } as ExternalWrite;
      } catch (error) {
        return this.log.warn(`A write from another Redgreen client was not taken: ${describeError(error)}`);
      }
      listener(write);
    }, this.log);
    return toDisposable(() => following.dispose());
  }

  /** The engine keeps the store open for its other clients: closing here ends only this connection. */
  close(): Promise<void> {
    this.engine.dispose();
    return Promise.resolve();
  }
}
