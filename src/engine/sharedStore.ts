// The engine's store as its own team writes it: each write, once durable, is told to every client
// (their boards and chats follow the agents live), and what the clients write reaches the team's
// Memory Manager as an external write (a ticket moved by the human, a spec approved).
import { Emitter, type Disposable } from "../core/lifecycle";
import { type Collection, type CollectionName, type DocOf, type ExternalWrite, type Store } from "../core/store/port";

export class SharedStore implements Store {
  readonly kind: Store["kind"];
  readonly location: string;
  private readonly clientWrites = new Emitter<ExternalWrite>();

  /** `announce` tells every client what the team wrote. */
  constructor(private readonly store: Store, private readonly announce: (collection: CollectionName, doc: { _id: string }) => void) {
    this.kind = store.kind;
    this.location = store.location;
  }

  collection<N extends CollectionName>(name: N): Collection<DocOf<N>> {
    const collection = this.store.collection(name);
    return {
      insert: async (doc) => {
        await collection.insert(doc);
        this.announce(name, doc);
      },
      put: async (doc) => {
        await collection.put(doc);
        this.announce(name, doc);
      },
      get: (id) => collection.get(id),
      find: (filter, options) => collection.find(filter, options),
      count: (filter) => collection.count(filter),
      delete: (filter) => collection.delete(filter),
    };
  }

  searchMemories(query: Parameters<NonNullable<Store["searchMemories"]>>[0]): Promise<{ id: string; score: number }[] | undefined> {
    return this.store.searchMemories?.(query) ?? Promise.resolve(undefined);
  }

  sweepExpired(): Promise<number> {
    return this.store.sweepExpired();
  }

  /** A client wrote `doc`, which the engine's handler checked against its collection's schema. */
  clientWrote(collection: CollectionName, doc: { _id: string }): void {
    this.clientWrites.fire({ collection, doc } as ExternalWrite);
  }

  onExternalWrite(listener: (write: ExternalWrite) => void): Disposable {
    return this.clientWrites.event(listener);
  }

  /** The engine closes the store itself, after its team stopped. */
  close(): Promise<void> {
    this.clientWrites.dispose();
    return Promise.resolve();
  }
}
