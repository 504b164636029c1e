import { Emitter } from "../lifecycle";
import type { CollectionName, DocOf } from "../store/port";
import type { MemoryContext } from "./records";
import type { Transcript } from "./transcript";

/** An aggregate kept in one collection, whose changes are announced. */
export abstract class Aggregate<N extends CollectionName> {
  protected readonly changed = new Emitter<DocOf<N>>();
  /** A record was created or changed. */
  readonly onDidChange = this.changed.event;

  constructor(
    protected readonly context: MemoryContext,
    protected readonly transcript: Transcript,
    private readonly name: N,
    /** What a record is called in an error: "project", "ticket". */
    private readonly noun: string,
  ) {}

  protected get collection() {
    return this.context.store.collection(this.name);
  }

  /** A record another client of the store wrote: announced as if written here. */
  announce(record: DocOf<N>): void {
    this.changed.fire(record);
  }

  get(id: string): Promise<DocOf<N> | undefined> {
    return this.collection.get(id);
  }

  /** The record, or an error naming the one that does not exist. */
  async existing(id: string): Promise<DocOf<N>> {
    const record = await this.get(id);
    if (!record) throw new Error(`no ${this.noun} ${id}`);
    return record;
  }
}
