import { Emitter } from "../lifecycle";
import type { AgentLog, Conversation, WorkingEntry } from "../store/records";
import { expiry, newestInOrder, now, rangeFilter, stripUndefined, type MemoryContext, type TimeRange } from "./records";
import type { WorkingMemory } from "./workingMemory";

// The transcript: chat messages and agent events. Each is written to its session collection
// (queried by project, ticket and time) and to working memory, which is written through to the
// capped `conversations_current` and reloaded from it after a restart.

export type RecordInput =
  | { kind: "message"; projectId: string; ticketId?: string; functionalityId?: string; channel: Conversation["channel"]; from: string; text: string }
  | { kind: "event"; projectId: string; ticketId?: string; functionalityId?: string; from: string; level?: AgentLog["level"]; text: string };

export class Transcript {
  private seq = 0;
  private readonly messageRecorded = new Emitter<Conversation>();
  /** A chat message was recorded, by anyone (the PM, an agent, planning): views show it live. */
  readonly onDidRecordMessage = this.messageRecorded.event;

  constructor(
    private readonly context: MemoryContext,
    private readonly working: WorkingMemory,
  ) {}

  /** Reloads working memory as it was before a restart or crash. */
  async reload(): Promise<void> {
    // Capped at 100k entries in all; oldest first so summaries replace what came before them.
    const entries = await this.context.store.collection("conversations_current").find({}, { sort: { seq: 1 } });
    for (const entry of entries) this.working.add(entry);
    // Another client's entry heard meanwhile may be numbered higher already.
    this.seq = Math.max(this.seq, (entries.at(-1)?.seq ?? -1) + 1);
  }

  /** A chat message another client recorded: announced as if recorded here. */
  announceMessage(message: Conversation): void {
    this.messageRecorded.fire(message);
  }

  /** A working entry another client added: kept here too, and this client numbers after it. */
  addExternalWorking(entry: WorkingEntry): void {
    this.working.add(entry);
    this.seq = Math.max(this.seq, entry.seq + 1);
  }

  /** Records a chat message or an agent event: working memory plus its session collection. */
  async record(input: RecordInput): Promise<WorkingEntry> {
    const at = now(this.context);
    const entry = await this.appendWorking({ projectId: input.projectId, ticketId: input.ticketId, kind: input.kind, from: input.from, text: input.text, at });
    const common = { _id: entry._id, projectId: input.projectId, ticketId: input.ticketId, functionalityId: input.functionalityId, at, expiresAt: expiry(this.context, at) };
    if (input.kind === "message") {
      const message: Conversation = stripUndefined({ ...common, channel: input.channel, from: input.from, text: input.text });
      await this.context.store.collection("conversations").insert(message);
      this.messageRecorded.fire(message);
    } else {
      await this.context.store.collection("agent_logs").insert({ ...common, role: input.from, level: input.level ?? "info", message: input.text });
    }
    return entry;
  }

  /** The working entries of a project (or one of its tickets), oldest first. */
  recent(projectId: string, options: { ticketId?: string; limit?: number } = {}): WorkingEntry[] {
    return this.working.recent(projectId, options);
  }

  /** Adds an entry to working memory only (a summary of older turns). */
  async appendWorking(fields: Omit<WorkingEntry, "_id" | "seq">): Promise<WorkingEntry> {
    const entry = stripUndefined({ _id: this.context.newId(), seq: this.seq++, ...fields });
    this.working.add(entry);
    await this.context.store.collection("conversations_current").insert(entry);
    return entry;
  }

  messages(projectId: string, range: TimeRange & { channel?: Conversation["channel"] } = {}): Promise<Conversation[]> {
    const filter = rangeFilter(projectId, range);
    if (range.channel) filter.channel = range.channel;
    return newestInOrder(this.context.store.collection("conversations").find(filter, { sort: { at: range.limit ? -1 : 1 }, limit: range.limit }), range.limit);
  }

  agentLogs(projectId: string, range: TimeRange = {}): Promise<AgentLog[]> {
    return newestInOrder(this.context.store.collection("agent_logs").find(rangeFilter(projectId, range), { sort: { at: range.limit ? -1 : 1 }, limit: range.limit }), range.limit);
  }
}
