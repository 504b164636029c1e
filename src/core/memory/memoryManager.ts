import type { Clock } from "../clock";
import { Emitter } from "../lifecycle";
import { systemClock } from "../clock";
import type { ChatRequest } from "../models/types";
import { assertTransition, byPriority, STATE_NAMES, type ProjectState } from "../projects/project";
import { specHash } from "../spec/spec";
import { refuseMove } from "../tickets/ticketRules";
import type { Role } from "../models/registry";
import type { Filter, Store } from "../store/port";
import type { AgentLog, Column, Conversation, Memory, Project, Snippet, SpecVersion, Ticket, WorkingEntry } from "../store/records";
import { packContext, renderForCounting, turnMessage, type PackedContext } from "./contextPacker";
import { VectorIndex } from "./vectorIndex";
import { WorkingMemory } from "./workingMemory";

// The Memory Manager: the one way agent state reaches the store. Three tiers:
// - working: recent messages and events per project, in process, written through to the capped
//   `conversations_current` and reloaded from it after a restart;
// - session: full transcripts, agent logs and spec history, queried by project, ticket and time;
// - knowledge: embedded memories, searched by cosine similarity.

/** What memory needs from the models; the ModelManager provides it. */
export interface MemoryModels {
  embed(texts: string[]): Promise<number[][]>;
  embeddingModelId(): string;
  countTokens(role: Role, text: string): Promise<number>;
  contextSize(role: Role): number;
  /** A plain-text reply (summaries of older turns). */
  ask(role: Role, request: ChatRequest): Promise<{ text: string }>;
}

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

/** A ticket move the state machine refuses; the message says why. */
export class TicketMoveError extends Error {}

/** Summarize older turns once the recent ones pass this share of the model's window... */
const SUMMARIZE_AT = 0.8;
/** ...keeping the newest turns that fit in this share verbatim. */
const KEEP_VERBATIM = 0.4;
const DAY = 86_400_000;

export type RecordInput =
  | { kind: "message"; projectId: string; ticketId?: string; functionalityId?: string; channel: Conversation["channel"]; from: string; text: string }
  | { kind: "event"; projectId: string; ticketId?: string; functionalityId?: string; from: string; level?: AgentLog["level"]; text: string };

export interface TimeRange {
  ticketId?: string;
  from?: Date;
  to?: Date;
  limit?: number;
}

export class MemoryManager {
  private readonly working: WorkingMemory;
  private readonly clock: Clock;
  private readonly newId: () => string;
  private seq = 0;
  private knowledge: { model: string; index: VectorIndex<{ projectId: string; tags: string[] }> } | undefined;
  private readonly messages = new Emitter<Conversation>();
  private readonly ticketChanges = new Emitter<Ticket>();
  private readonly projectChanges = new Emitter<Project>();
  /** A chat message was recorded, by anyone (the PM, an agent, planning): views show it live. */
  readonly onDidRecordMessage = this.messages.event;
  /** A ticket was created, moved or changed. */
  readonly onDidChangeTicket = this.ticketChanges.event;
  /** A project was created, changed state or was planned: views and the orchestrator follow it. */
  readonly onDidChangeProject = this.projectChanges.event;

  private constructor(private readonly options: MemoryManagerOptions) {
    this.working = new WorkingMemory(options.workingCapacity ?? 10_000);
    this.clock = options.clock ?? systemClock;
    this.newId = options.newId ?? (() => globalThis.crypto.randomUUID());
  }

  /** Opens memory over `store`, reloading working memory as it was before a restart or crash. */
  static async open(options: MemoryManagerOptions): Promise<MemoryManager> {
    const memory = new MemoryManager(options);
    await memory.reloadWorking();
    return memory;
  }

  private get store(): Store {
    return this.options.store;
  }

  private now(): Date {
    return new Date(this.clock.now());
  }

  private expiry(at: Date): Date | undefined {
    const days = this.options.retentionDays ?? 90;
    return days > 0 ? new Date(at.getTime() + days * DAY) : undefined;
  }

  // ---- working memory -------------------------------------------------------------------

  private async reloadWorking(): Promise<void> {
    // Capped at 100k entries in all; oldest first so summaries replace what came before them.
    const entries = await this.store.collection("conversations_current").find({}, { sort: { seq: 1 } });
    for (const entry of entries) this.working.add(entry);
    this.seq = (entries.at(-1)?.seq ?? -1) + 1;
  }

  /** Records a chat message or an agent event: working memory plus its session collection. */
  async record(input: RecordInput): Promise<WorkingEntry> {
    const at = this.now();
    const entry = await this.appendWorking({ projectId: input.projectId, ticketId: input.ticketId, kind: input.kind, from: input.from, text: input.text, at });
    const common = { _id: entry._id, projectId: input.projectId, ticketId: input.ticketId, functionalityId: input.functionalityId, at, expiresAt: this.expiry(at) };
    if (input.kind === "message") {
      const message: Conversation = stripUndefined({ ...common, channel: input.channel, from: input.from, text: input.text });
      await this.store.collection("conversations").insert(message);
      this.messages.fire(message);
    } else {
      await this.store.collection("agent_logs").insert({ ...common, role: input.from, level: input.level ?? "info", message: input.text });
    }
    return entry;
  }

  recent(projectId: string, options: { ticketId?: string; limit?: number } = {}): WorkingEntry[] {
    return this.working.recent(projectId, options);
  }

  private async appendWorking(fields: Omit<WorkingEntry, "_id" | "seq">): Promise<WorkingEntry> {
    const entry = stripUndefined({ _id: this.newId(), seq: this.seq++, ...fields });
    this.working.add(entry);
    await this.store.collection("conversations_current").insert(entry);
    return entry;
  }

  // ---- session memory -------------------------------------------------------------------

  transcript(projectId: string, range: TimeRange & { channel?: Conversation["channel"] } = {}): Promise<Conversation[]> {
    const filter = rangeFilter(projectId, range);
    if (range.channel) filter.channel = range.channel;
    return newestInOrder(this.store.collection("conversations").find(filter, { sort: { at: range.limit ? -1 : 1 }, limit: range.limit }), range.limit);
  }

  agentLogs(projectId: string, range: TimeRange = {}): Promise<AgentLog[]> {
    return newestInOrder(this.store.collection("agent_logs").find(rangeFilter(projectId, range), { sort: { at: range.limit ? -1 : 1 }, limit: range.limit }), range.limit);
  }

  async saveSpecVersion(projectId: string, text: string, author: string, approved: boolean, commit?: string): Promise<SpecVersion> {
    const [last] = await this.store.collection("spec_versions").find({ projectId }, { sort: { version: -1 }, limit: 1 });
    const version = stripUndefined({ _id: this.newId(), projectId, version: (last?.version ?? 0) + 1, text, hash: specHash(text), author, approved, commit, at: this.now() });
    await this.store.collection("spec_versions").insert(version);
    return version;
  }

  /** The newest approved version of a project's spec. */
  async approvedSpec(projectId: string): Promise<SpecVersion | undefined> {
    const [last] = await this.store.collection("spec_versions").find({ projectId, approved: true }, { sort: { version: -1 }, limit: 1 });
    return last;
  }

  specHistory(projectId: string): Promise<SpecVersion[]> {
    return this.store.collection("spec_versions").find({ projectId }, { sort: { version: 1 } });
  }

  // ---- projects, tickets, snippets ------------------------------------------------------

  async createProject(project: Omit<Project, "createdAt" | "updatedAt">, by: string): Promise<Project> {
    const at = this.now();
    const created = stripUndefined({ ...project, createdAt: at, updatedAt: at });
    await this.store.collection("projects").insert(created);
    this.projectChanges.fire(created);
    // The project exists once inserted; its log line must not make a caller undo a project that exists.
    await this.record({ kind: "event", projectId: created._id, from: by, text: `created project "${created.name}" in ${created.root} (${created.state})` }).catch(() => undefined);
    return created;
  }

  /** Moves a project to another state if its life cycle allows it, and logs why. */
  async transitionProject(projectId: string, to: ProjectState, by: string, reason: string): Promise<Project> {
    const project = await this.getProject(projectId);
    if (!project) throw new Error(`no project ${projectId}`);
    assertTransition(project.name, project.state, to);
    const moved = { ...project, state: to, updatedAt: this.now() };
    await this.store.collection("projects").put(moved);
    await this.record({ kind: "event", projectId, from: by, text: `project "${project.name}": ${STATE_NAMES[project.state]} → ${STATE_NAMES[to]} (${reason})` });
    this.projectChanges.fire(moved);
    return moved;
  }

  /** Records that the project's tickets now follow the approved spec with this hash. */
  async markPlanned(projectId: string, specHash: string): Promise<void> {
    const project = await this.getProject(projectId);
    if (!project) throw new Error(`no project ${projectId}`);
    const planned = { ...project, plannedSpecHash: specHash, updatedAt: this.now() };
    await this.store.collection("projects").put(planned);
    this.projectChanges.fire(planned);
  }

  getProject(projectId: string): Promise<Project | undefined> {
    return this.store.collection("projects").get(projectId);
  }

  async projects(): Promise<Project[]> {
    return (await this.store.collection("projects").find()).sort(byPriority);
  }

  async createTicket(ticket: Omit<Ticket, "createdAt" | "updatedAt" | "history">, by: string): Promise<Ticket> {
    const at = this.now();
    const created: Ticket = { ...ticket, history: [{ at, by, to: ticket.column, note: "created" }], createdAt: at, updatedAt: at };
    await this.store.collection("tickets").insert(created);
    this.ticketChanges.fire(created);
    return created;
  }

  /** Changes a ticket's fields (not its column: that is a move), with a history line saying why. */
  async updateTicket(ticketId: string, change: Partial<Omit<Ticket, "_id" | "projectId" | "column" | "history" | "createdAt" | "updatedAt">>, by: string, note: string): Promise<Ticket> {
    const ticket = await this.store.collection("tickets").get(ticketId);
    if (!ticket) throw new Error(`no ticket ${ticketId}`);
    const at = this.now();
    const updated: Ticket = { ...ticket, ...change, updatedAt: at, history: [...ticket.history, { at, by, note }] };
    await this.store.collection("tickets").put(stripUndefined(updated));
    await this.record({ kind: "event", projectId: ticket.projectId, ticketId, functionalityId: ticket.functionalityId, from: by, text: `${ticketId}: ${note}` });
    this.ticketChanges.fire(updated);
    return updated;
  }

  /** Moves a ticket to another column, appending the move to its history and the agent log. */
  async moveTicket(ticketId: string, to: Column, by: string, note?: string): Promise<Ticket> {
    const ticket = await this.store.collection("tickets").get(ticketId);
    if (!ticket) throw new Error(`no ticket ${ticketId}`);
    const blockers = ticket.blockedBy.length ? await this.store.collection("tickets").find({ _id: { $in: ticket.blockedBy } }) : [];
    const refused = refuseMove(ticket, to, blockers);
    if (refused) throw new TicketMoveError(refused);
    const at = this.now();
    // A move is what resumes a ticket that waited for the human: it waits no longer.
    const moved: Ticket = stripUndefined({ ...ticket, waiting: undefined, column: to, updatedAt: at, history: [...ticket.history, stripUndefined({ at, by, from: ticket.column, to, note })] });
    await this.store.collection("tickets").put(moved);
    this.ticketChanges.fire(moved);
    await this.record({ kind: "event", projectId: ticket.projectId, ticketId, functionalityId: ticket.functionalityId, from: by, text: `moved ${ticketId} from ${ticket.column} to ${to}${note ? `: ${note}` : ""}` });
    return moved;
  }

  tickets(projectId: string): Promise<Ticket[]> {
    return this.store.collection("tickets").find({ projectId }, { sort: { createdAt: 1 } });
  }

  getTicket(ticketId: string): Promise<Ticket | undefined> {
    return this.store.collection("tickets").get(ticketId);
  }

  async saveSnippet(snippet: Omit<Snippet, "_id" | "at">): Promise<Snippet> {
    const saved = stripUndefined({ ...snippet, _id: this.newId(), at: this.now() });
    await this.store.collection("snippets").insert(saved);
    return saved;
  }

  // ---- knowledge memory -----------------------------------------------------------------

  async remember(projectId: string, text: string, tags: string[] = []): Promise<Memory> {
    const [embedding] = await this.options.models.embed([text]);
    const memory: Memory = { _id: this.newId(), projectId, text, tags, embedding: embedding!, embeddingModel: this.options.models.embeddingModelId(), at: this.now() };
    await this.store.collection("memories").insert(memory);
    // An index not built yet will read this memory from the store when recall first needs it.
    if (this.knowledge?.model === memory.embeddingModel) this.knowledge.index.upsert(memory._id, memory.embedding, { projectId, tags });
    return memory;
  }

  /** The k memories closest to `query` (cosine), best first; filtered by project and tags. */
  async recall(query: string, options: { projectId?: string; tags?: string[]; k?: number } = {}): Promise<{ memory: Memory; score: number }[]> {
    const k = options.k ?? 5;
    const [vector] = await this.options.models.embed([query]);
    const model = this.options.models.embeddingModelId();
    const hits =
      (await this.store.searchMemories?.({ vector: vector!, k, embeddingModel: model, projectId: options.projectId, tags: options.tags })) ??
      (await this.knowledgeIndex()).index.search(vector!, k, (meta) =>
        (options.projectId === undefined || meta.projectId === options.projectId) && (options.tags ?? []).every((tag) => meta.tags.includes(tag)),
      );
    const docs = new Map((await this.store.collection("memories").find({ _id: { $in: hits.map((hit) => hit.id) } })).map((doc) => [doc._id, doc]));
    return hits.flatMap((hit) => {
      const memory = docs.get(hit.id);
      return memory ? [{ memory, score: hit.score }] : [];
    });
  }

  /** Loads the memories of the current embedding model into the k-NN index, once per model. */
  private async knowledgeIndex(): Promise<NonNullable<MemoryManager["knowledge"]>> {
    const model = this.options.models.embeddingModelId();
    if (this.knowledge?.model === model) return this.knowledge;
    const memories = await this.store.collection("memories").find({ embeddingModel: model });
    const dimensions = memories[0]?.embedding.length ?? (await this.options.models.embed(["dimensions"]))[0]!.length;
    const index = new VectorIndex<{ projectId: string; tags: string[] }>(dimensions, Math.max(1024, memories.length));
    for (const memory of memories) index.upsert(memory._id, memory.embedding, { projectId: memory.projectId, tags: memory.tags });
    this.knowledge = { model, index };
    return this.knowledge;
  }

  // ---- context packing ------------------------------------------------------------------

  /**
   * The context for `role` working on `ticketId`, within `budget` tokens of the role's model.
   * When the ticket's recent turns pass ~80% of the model's window, the older ones are first
   * summarized by the role's model and the summary replaces them in working memory.
   */
  async packContext(role: Role, ticketId: string, options: { budget: number; query?: string; k?: number }): Promise<PackedContext> {
    const ticket = await this.getTicket(ticketId);
    if (!ticket) throw new Error(`no ticket ${ticketId}`);
    const countTokens = (text: string) => this.options.models.countTokens(role, text);
    await this.compressIfNeeded(role, ticket, countTokens);
    const knowledge = options.k === 0 ? [] : await this.recall(options.query ?? `${ticket.title}\n${ticket.goal}`, { projectId: ticket.projectId, k: options.k ?? 5 });
    return packContext({
      role,
      ticket,
      budget: options.budget,
      recent: this.working.recent(ticket.projectId, { ticketId }),
      knowledge: knowledge.map((hit) => ({ text: hit.memory.text, score: hit.score })),
      countTokens,
    });
  }

  private async compressIfNeeded(role: Role, ticket: Ticket, countTokens: (text: string) => Promise<number>): Promise<void> {
    const window = this.options.models.contextSize(role);
    const turns = this.working.recent(ticket.projectId, { ticketId: ticket._id });
    const render = (entries: WorkingEntry[]) => renderForCounting(entries.map((entry) => turnMessage(role, entry)));
    if (turns.length < 2 || (await countTokens(render(turns))) <= SUMMARIZE_AT * window) return;
    // Keep the newest turns that fit in KEEP_VERBATIM of the window; summarize everything older.
    let keep = 1;
    while (keep < turns.length - 1 && (await countTokens(render(turns.slice(-(keep + 1))))) <= KEEP_VERBATIM * window) keep++;
    const older = turns.slice(0, turns.length - keep);
    // A lone summary is as short as it gets: summarizing it again would only repeat the call.
    if (older.length === 1 && older[0]!.kind === "summary") return;
    const reply = await this.options.models.ask(role, {
      messages: [
        { role: "system", content: "Summarize this work log for the same agent to continue from. Keep decisions, file names, test results and open questions. Be brief." },
        { role: "user", content: render(older) },
      ],
      maxTokens: Math.max(64, Math.floor(0.1 * window)),
      temperature: 0,
    });
    await this.appendWorking({ projectId: ticket.projectId, ticketId: ticket._id, kind: "summary", from: role, text: reply.text, replacesUpTo: coveredUpTo(older), at: this.now() });
  }
}

/** With a limit, the newest entries were fetched newest first: give them back oldest first. */
async function newestInOrder<T>(found: Promise<T[]>, limit: number | undefined): Promise<T[]> {
  const items = await found;
  return limit ? items.reverse() : items;
}

/** The seq up to which `entries` (oldest first) reach: a summary reaches as far as it replaced. */
function coveredUpTo(entries: WorkingEntry[]): number {
  return Math.max(...entries.map((entry) => (entry.kind === "summary" && entry.replacesUpTo !== undefined ? entry.replacesUpTo : entry.seq)));
}

function rangeFilter(projectId: string, range: TimeRange): Filter {
  const filter: Filter = { projectId };
  if (range.ticketId) filter.ticketId = range.ticketId;
  if (range.from || range.to) filter.at = { ...(range.from ? { $gte: range.from } : {}), ...(range.to ? { $lt: range.to } : {}) };
  return filter;
}

/** Optional fields are left out rather than stored as undefined (MongoDB would store null). */
function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
