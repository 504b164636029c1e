import type { Clock } from "../clock";
import { systemClock } from "../clock";
import type { Disposable } from "../lifecycle";
import type { ExternalWrite, Store } from "../store/port";
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
  private readonly following: Disposable | undefined;

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
    this.following = options.store.onExternalWrite?.((write) => this.applyExternalWrite(write));
  }

  /**
   * What another client of a shared store wrote reaches this one's views and team as if written
   * here: projects, tickets and chat messages are announced, working memory and the knowledge
   * index take their entries.
   */
  private applyExternalWrite(write: ExternalWrite): void {
    switch (write.collection) {
      case "projects":
        return this.projects.announce(write.doc);
      case "tickets":
        return this.tickets.announce(write.doc);
      case "conversations":
        return this.transcript.announceMessage(write.doc);
      case "conversations_current":
        return this.transcript.addExternalWorking(write.doc);
      case "memories":
        return this.knowledge.addToIndex(write.doc);
      default:
        // Agent logs, spec versions and snippets are read when needed, never cached.
        return;
    }
  }

  /** Stops following other clients' writes (the store itself is closed by its owner). */
  dispose(): void {
    this.following?.dispose();
  }

  /** Opens memory over `store`, reloading working memory as it was before a restart or crash. */
  static async open(options: MemoryManagerOptions): Promise<MemoryManager> {
    const memory = new MemoryManager(options);
    await memory.transcript.reload();
    return memory;
  }
}
