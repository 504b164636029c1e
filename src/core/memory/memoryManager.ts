import type { Clock } from "../clock";
import { systemClock } from "../clock";
import type { Store } from "../store/port";
import { Knowledge, type MemoryModels } from "./knowledge";
import { ProjectRecords } from "./projectRecords";
import { TicketRecords } from "./ticketRecords";
import { Transcript } from "./transcript";
import { WorkingMemory } from "./workingMemory";

// The Memory Manager: the one way agent state reaches the store, one aggregate each:
// - projects and the versions of their specs;
// - tickets;
// - the transcript: chat messages and agent events, in working memory (recent, per project,
//   reloaded after a restart) and in session collections queried by project, ticket and time;
// - knowledge: embedded memories searched by cosine similarity, and context packing.

export interface MemoryManagerOptions {
  store: Store;
  models: MemoryModels;
  clock?: Clock;
  /** Working entries kept per project (SPEC-001: about 10,000). */
  workingCapacity?: number;
  /** Days chat and agent logs are kept; 0 keeps them for good. */
  retentionDays?: number;
  newId?: () => string;
}

export class MemoryManager {
  readonly transcript: Transcript;
  readonly projects: ProjectRecords;
  readonly tickets: TicketRecords;
  readonly knowledge: Knowledge;

  private constructor(options: MemoryManagerOptions) {
    const context = {
      store: options.store,
      clock: options.clock ?? systemClock,
      newId: options.newId ?? (() => globalThis.crypto.randomUUID()),
      retentionDays: options.retentionDays ?? 90,
    };
    this.transcript = new Transcript(context, new WorkingMemory(options.workingCapacity ?? 10_000));
    this.projects = new ProjectRecords(context, this.transcript);
    this.tickets = new TicketRecords(context, this.transcript);
    this.knowledge = new Knowledge(context, options.models, this.tickets, this.transcript);
  }

  /** Opens memory over `store`, reloading working memory as it was before a restart or crash. */
  static async open(options: MemoryManagerOptions): Promise<MemoryManager> {
    const memory = new MemoryManager(options);
    await memory.transcript.reload();
    return memory;
  }
}
