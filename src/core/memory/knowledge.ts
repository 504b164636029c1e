import type { ChatRequest } from "../models/types";
import type { ModelManager } from "../models/manager";
import type { Role } from "../models/registry";
import type { Memory, Ticket, WorkingEntry } from "../store/records";
import { packContext, renderForCounting, turnMessage, type PackedContext } from "./contextPacker";
import { now, type MemoryContext } from "./records";
import type { TicketRecords } from "./ticketRecords";
import type { Transcript } from "./transcript";
import { VectorIndex } from "./vectorIndex";

// Knowledge: embedded memories searched by cosine similarity, and the packing of a role's
// context from a ticket, its recent turns and what is recalled.

/** What memory needs from the models; the ModelManager provides it. */
/**
 * The models memory uses. `projectId` names the project the call is for, where there is one: in
 * the engine each project's team has its own models (those of the window whose team it is).
 */
export interface MemoryModels {
  embed(texts: string[], projectId?: string): Promise<number[][]>;
  embeddingModelId(projectId?: string): string;
  countTokens(role: Role, text: string, projectId?: string): Promise<number>;
  contextSize(role: Role, projectId?: string): number;
  /** A plain-text reply (summaries of older turns). */
  ask(role: Role, request: ChatRequest, projectId?: string): Promise<{ text: string }>;
}

/**
 * Memory's models from the ModelManager `models` gives for the call's project (one for every
 * project in a window or a command; in the engine, the project's team's). Called on each use: the
 * CLI builds its ModelManager late.
 */
export function memoryModelsOf(models: (projectId: string | undefined) => Pick<ModelManager, "embed" | "embeddingModelId" | "countTokens" | "contextSize" | "ask">): MemoryModels {
  return {
    embed: (texts, projectId) => models(projectId).embed(texts),
    embeddingModelId: (projectId) => models(projectId).embeddingModelId(),
    countTokens: (role, text, projectId) => models(projectId).countTokens(role, text),
    contextSize: (role, projectId) => models(projectId).contextSize(role),
    ask: (role, request, projectId) => models(projectId).ask(role, request),
  };
}

/** Summarize older turns once the recent ones pass this share of the model's window... */
const SUMMARIZE_AT = 0.8;
/** ...keeping the newest turns that fit in this share verbatim. */
const KEEP_VERBATIM = 0.4;

type MemoryIndex = { model: string; index: VectorIndex<{ projectId: string; tags: string[] }> };

export class Knowledge {
  private index: MemoryIndex | undefined;

  constructor(
    private readonly context: MemoryContext,
    private readonly models: MemoryModels,
    private readonly tickets: TicketRecords,
    private readonly transcript: Transcript,
  ) {}

  async remember(projectId: string, text: string, tags: string[] = []): Promise<Memory> {
    const [embedding] = await this.models.embed([text], projectId);
    const memory: Memory = { _id: this.context.newId(), projectId, text, tags, embedding: embedding!, embeddingModel: this.models.embeddingModelId(projectId), at: now(this.context) };
    await this.context.store.collection("memories").insert(memory);
    // An index not built yet will read this memory from the store when recall first needs it.
    this.addToIndex(memory);
    return memory;
  }

  /** A memory (recorded here or by another client) becomes searchable at once, if the index is built. */
  addToIndex(memory: Memory): void {
    if (this.index?.model === memory.embeddingModel) this.index.index.upsert(memory._id, memory.embedding, { projectId: memory.projectId, tags: memory.tags });
  }

  /** The k memories closest to `query` (cosine), best first; filtered by project and tags. */
  async recall(query: string, options: { projectId?: string; tags?: string[]; k?: number } = {}): Promise<{ memory: Memory; score: number }[]> {
    const k = options.k ?? 5;
    const [vector] = await this.models.embed([query], options.projectId);
    const model = this.models.embeddingModelId(options.projectId);
    const store = this.context.store;
    const hits =
      (await store.searchMemories?.({ vector: vector!, k, embeddingModel: model, projectId: options.projectId, tags: options.tags })) ??
      (await this.knowledgeIndex(model, options.projectId)).index.search(vector!, k, (meta) =>
        (options.projectId === undefined || meta.projectId === options.projectId) && (options.tags ?? []).every((tag) => meta.tags.includes(tag)),
      );
    const docs = new Map((await store.collection("memories").find({ _id: { $in: hits.map((hit) => hit.id) } })).map((doc) => [doc._id, doc]));
    return hits.flatMap((hit) => {
      const memory = docs.get(hit.id);
      return memory ? [{ memory, score: hit.score }] : [];
    });
  }

  /** Loads the memories of embedding model `model` into the k-NN index, once per model. */
  private async knowledgeIndex(model: string, projectId: string | undefined): Promise<MemoryIndex> {
    if (this.index?.model === model) return this.index;
    const memories = await this.context.store.collection("memories").find({ embeddingModel: model });
    const dimensions = memories[0]?.embedding.length ?? (await this.models.embed(["dimensions"], projectId))[0]!.length;
    const index = new VectorIndex<{ projectId: string; tags: string[] }>(dimensions, Math.max(1024, memories.length));
    for (const memory of memories) index.upsert(memory._id, memory.embedding, { projectId: memory.projectId, tags: memory.tags });
    this.index = { model, index };
    return this.index;
  }

  /**
   * The context for `role` working on `ticketId`, within `budget` tokens of the role's model.
   * When the ticket's recent turns pass ~80% of the model's window, the older ones are first
   * summarized by the role's model and the summary replaces them in working memory.
   */
  async packContext(role: Role, ticketId: string, options: { budget: number; query?: string; k?: number }): Promise<PackedContext> {
    const ticket = await this.tickets.existing(ticketId);
    const countTokens = (text: string) => this.models.countTokens(role, text, ticket.projectId);
    await this.compressIfNeeded(role, ticket, countTokens);
    const knowledge = options.k === 0 ? [] : await this.recall(options.query ?? `${ticket.title}\n${ticket.goal}`, { projectId: ticket.projectId, k: options.k ?? 5 });
    return packContext({
      role,
      ticket,
      budget: options.budget,
      recent: this.transcript.recent(ticket.projectId, { ticketId }),
      knowledge: knowledge.map((hit) => ({ text: hit.memory.text, score: hit.score })),
      countTokens,
    });
  }

  private async compressIfNeeded(role: Role, ticket: Ticket, countTokens: (text: string) => Promise<number>): Promise<void> {
    const window = this.models.contextSize(role, ticket.projectId);
    const turns = this.transcript.recent(ticket.projectId, { ticketId: ticket._id });
    const render = (entries: WorkingEntry[]) => renderForCounting(entries.map((entry) => turnMessage(role, entry)));
    if (turns.length < 2 || (await countTokens(render(turns))) <= SUMMARIZE_AT * window) return;
    // Keep the newest turns that fit in KEEP_VERBATIM of the window; summarize everything older.
    let keep = 1;
    while (keep < turns.length - 1 && (await countTokens(render(turns.slice(-(keep + 1))))) <= KEEP_VERBATIM * window) keep++;
    const older = turns.slice(0, turns.length - keep);
    // A lone summary is as short as it gets: summarizing it again would only repeat the call.
    if (older.length === 1 && older[0]!.kind === "summary") return;
    const reply = await this.models.ask(role, {
      messages: [
        { role: "system", content: "Summarize this work log for the same agent to continue from. Keep decisions, file names, test results and open questions. Be brief." },
        { role: "user", content: render(older) },
      ],
      maxTokens: Math.max(64, Math.floor(0.1 * window)),
      temperature: 0,
    }, ticket.projectId);
    await this.transcript.appendWorking({ projectId: ticket.projectId, ticketId: ticket._id, kind: "summary", from: role, text: reply.text, replacesUpTo: coveredUpTo(older), at: now(this.context) });
  }
}

/** The seq up to which `entries` (oldest first) reach: a summary reaches as far as it replaced. */
function coveredUpTo(entries: WorkingEntry[]): number {
  return Math.max(...entries.map((entry) => (entry.kind === "summary" && entry.replacesUpTo !== undefined ? entry.replacesUpTo : entry.seq)));
}
