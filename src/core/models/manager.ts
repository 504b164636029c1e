// The ModelManager (SPEC-001): routes each agent role to its model, validates structured replies,
// retries a bounded number of times, escalates to the role's fallback, loads small models once
// and keeps them, serializes the heavy model behind one lock and evicts it when idle, and records
// every attempt.
import * as z from "zod";
import { systemClock, type Clock } from "../clock";
import { Emitter, type Disposable } from "../lifecycle";
import { describeError } from "../logger";
import { Mutex } from "./mutex";
import type { ChatCallOptions, ModelBackend } from "./ports";
import { ROLE_NAMES, type ModelEntry, type Registry, type Role } from "./registry";
import { DEFAULT_MAX_TOKENS, type ChatRequest } from "./types";

export class ModelNotConfiguredError extends Error {
  constructor(readonly role: Role, modelId?: string) {
    super(
      (modelId
        ? `The ${ROLE_NAMES[role]} role uses the model "${modelId}", which has no model file yet. `
        : `No model is configured for the ${ROLE_NAMES[role]} role. `) +
        `Run "Redgreen: Select Model Files…" to choose a GGUF file for it, or edit the model registry.`,
    );
  }
}

export class ModelReplyError extends Error {
  constructor(readonly role: Role, readonly attempts: CallRecord[]) {
    const tried = attempts.map((a) => `${a.model}: ${a.outcome}${a.problem ? ` (${a.problem})` : ""}`).join("; ");
    super(`The ${ROLE_NAMES[role]} got no acceptable reply after ${attempts.length} attempts: ${tried}`);
  }
}

export class CancelledError extends Error {}

export type Outcome = "ok" | "invalid" | "unsatisfactory" | "error" | "cancelled";

export interface CallRecord {
  role: Role;
  model: string;
  /** 1-based attempt number across the whole ask, escalations included. */
  attempt: number;
  escalated: boolean;
  outcome: Outcome;
  problem?: string;
  promptTokens: number;
  completionTokens: number;
  firstTokenMs?: number;
  totalMs: number;
  at: number;
  ticketId?: string;
  functionalityId?: string;
}

export interface AskOptions<T> extends ChatCallOptions {
  /** The reply must be JSON valid against this schema; generation is constrained by it too. */
  schema?: z.ZodType<T>;
  /** The caller's own check of a valid reply; false retries, then escalates. */
  isSatisfactory?: (value: T) => boolean;
  ticketId?: string;
  functionalityId?: string;
  /** Start at the role's fallback model (the caller saw the primary fail at this step already). */
  escalate?: boolean;
}

export interface AskResult<T> {
  value: T;
  text: string;
  model: string;
  attempts: CallRecord[];
}

/** What every agent asks of the models: a reply for its role (the ModelManager is one). */
export interface AgentModels {
  ask<T = string>(role: Role, request: ChatRequest, options?: AskOptions<T>): Promise<AskResult<T>>;
}

export interface ModelStats {
  calls: number;
  ok: number;
  promptTokens: number;
  completionTokens: number;
  totalMs: number;
  firstTokenMs: number;
  firstTokenCount: number;
}

export interface ModelManagerOptions {
  /** Threads for local models that do not set their own (read at each load: settings can change). */
  defaultThreads: () => number;
  /** Attempts on each model of a role's chain before escalating or giving up. */
  attemptsPerModel?: number;
  clock?: Clock;
  historySize?: number;
  /**
   * Called before a heavy model is loaded, with its residency (as residencyOf): the engine unloads
   * idle heavy models that memory does not hold beside it.
   */
  makeRoom?: (residency: string) => Promise<void>;
}

type Backends = Partial<Record<ModelEntry["backend"], ModelBackend>>;

const residency = (entry: ModelEntry): string => (entry.backend === "local" ? `file ${entry.path}` : `${entry.url} ${entry.model}`);

export class ModelManager implements Disposable {
  private readonly loaded = new Map<string, Promise<void>>();
  private readonly evictions = new Map<string, { cancel(): void }>();
  /** Calls in flight per model id. */
  private readonly calls = new Map<string, number>();
  private readonly heavyLock = new Mutex();
  private readonly recorded = new Emitter<CallRecord>();
  private readonly history: CallRecord[] = [];
  private readonly stats = new Map<string, ModelStats>();
  private readonly subscriptions: Disposable[] = [];
  private readonly clock: Clock;

  constructor(
    private registry: Registry,
    private readonly backends: Backends,
    private readonly options: ModelManagerOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    for (const [kind, backend] of Object.entries(backends)) {
      // A backend that lost its models (the host restarted) must load them again on next use.
      this.subscriptions.push(backend.onDidReset(() => this.forgetLoaded(kind as ModelEntry["backend"])));
    }
  }

  /** Replaces the registry (settings or a registry file changed); models no longer listed are unloaded. */
  async setRegistry(registry: Registry): Promise<void> {
    const old = this.registry;
    this.registry = registry;
    for (const entry of old.models) {
      const next = registry.models.find((m) => m.id === entry.id);
      if (!next || JSON.stringify(next) !== JSON.stringify(entry)) await this.unload(entry);
    }
  }

  /** Asks the role's model; see the class comment for retries and escalation. */
  async ask<T = string>(role: Role, request: ChatRequest, options: AskOptions<T> = {}): Promise<AskResult<T>> {
    const primary = this.routeEntry(role);
    // A fallback without a file yet is skipped: escalation needs a model to escalate to.
    const fallbackId = this.registry.roles[role]?.fallback;
    const fallback = this.registry.models.find((m) => m.id === fallbackId);
    const chain = fallback ? (options.escalate ? [fallback] : [primary, fallback]) : [primary];
    // The grammar that constrains generation comes from the same schema that validates the reply.
    const jsonSchema = options.schema ? grammarSafe(z.toJSONSchema(options.schema)) : undefined;
    const perModel = this.options.attemptsPerModel ?? 2;
    const attempts: CallRecord[] = [];
    const call = { ...request, maxTokens: this.outputCap(role, request.maxTokens), ...(jsonSchema ? { jsonSchema } : {}) };
    for (const [step, entry] of chain.entries()) {
      for (let i = 0; i < perModel; i++) {
        const { record, value, text } = await this.attempt(role, entry, call, options, attempts.length + 1, step > 0 || chain[0] !== primary);
        attempts.push(record);
        if (record.outcome === "ok") return { value: value as T, text, model: entry.id, attempts };
        if (record.outcome === "cancelled") throw new CancelledError(`The ${ROLE_NAMES[role]}'s request was cancelled`);
      }
    }
    throw new ModelReplyError(role, attempts);
  }

  /** What the agent asked for, within the role's cap (registry `roles.<role>.maxTokens`). */
  private outputCap(role: Role, asked: number | undefined): number | undefined {
    const cap = this.registry.roles[role]?.maxTokens;
    return cap === undefined ? asked : Math.min(cap, asked ?? DEFAULT_MAX_TOKENS);
  }

  async embed(texts: string[]): Promise<number[][]> {
    const entry = this.routeEntry("embedding");
    return this.using(entry, async () => {
      await this.ensureLoaded(entry);
      return this.backendFor(entry).embed(entry.id, texts);
    });
  }

  /** Exact token count by the role's model's own tokenizer (for context packing). */
  async countTokens(role: Role, text: string): Promise<number> {
    const entry = this.routeEntry(role);
    return this.using(entry, async () => {
      await this.ensureLoaded(entry);
      return this.backendFor(entry).countTokens(entry.id, text);
    });
  }

  /** Counts a use of the model while `work` runs: a model in use is never unloaded for another (unloadIdle). */
  private async using<T>(entry: ModelEntry, work: () => Promise<T>): Promise<T> {
    this.calls.set(entry.id, (this.calls.get(entry.id) ?? 0) + 1);
    try {
      return await work();
    } finally {
      this.calls.set(entry.id, this.calls.get(entry.id)! - 1);
    }
  }

  /** The model that makes embeddings now; vectors from different models are not comparable. */
  embeddingModelId(): string {
    return this.routeEntry("embedding").id;
  }

  /** The id of the model the role asks first (undefined when the role has none yet). */
  modelIdOf(role: Role): string | undefined {
    const route = this.registry.roles[role];
    return route && this.registry.models.some((m) => m.id === route.model) ? route.model : undefined;
  }

  /**
   * What the role's model is, whichever client names it: its file, or its server and model name
   * (undefined when the role has none). The Resource Director prefers work for a model loaded already.
   */
  residencyOf(role: Role): string | undefined {
    const route = this.registry.roles[role];
    const entry = route && this.registry.models.find((m) => m.id === route.model);
    return entry && residency(entry);
  }

  /** The local models of the registry, by residency (as residencyOf), with their files: the memory they take is the engine's to measure. */
  localModels(): { residency: string; path: string; heavy: boolean }[] {
    return this.registry.models.flatMap((m) => (m.backend === "local" ? [{ residency: residency(m), path: m.path, heavy: m.profile === "heavy" }] : []));
  }

  /** Unloads this manager's heavy models of that residency that no call uses now (memory is wanted for another); true when none is left loaded. */
  async unloadIdle(residencyOfModel: string): Promise<boolean> {
    const entries = this.registry.models.filter((m) => m.profile === "heavy" && this.loaded.has(m.id) && residency(m) === residencyOfModel);
    const idle = entries.filter((m) => !this.calls.get(m.id));
    // At once: unload() forgets each model before it awaits, so no call starts on one meanwhile.
    await Promise.all(idle.map((entry) => this.unload(entry)));
    return idle.length === entries.length;
  }

  /** Whether a call (a chat, a count, an embedding) uses a model of that residency now. */
  inUse(residencyOfModel: string): boolean {
    return this.registry.models.some((m) => residency(m) === residencyOfModel && (this.calls.get(m.id) ?? 0) > 0);
  }

  /** The residency (as residencyOf) of every model this manager has loaded. */
  loadedResidencies(): string[] {
    return this.registry.models.filter((m) => this.loaded.has(m.id)).map(residency);
  }

  contextSize(role: Role): number {
    return this.routeEntry(role).contextSize;
  }

  onDidRecord(listener: (record: CallRecord) => void): Disposable {
    return this.recorded.event(listener);
  }

  /** Totals per model and the most recent attempts, for the dashboard and the status bar. */
  snapshot(): { models: Record<string, ModelStats>; recent: CallRecord[]; loaded: string[] } {
    return {
      models: Object.fromEntries([...this.stats].map(([id, s]) => [id, { ...s }])),
      recent: [...this.history],
      loaded: [...this.loaded.keys()],
    };
  }

  private routeEntry(role: Role): ModelEntry {
    const route = this.registry.roles[role];
    if (!route) throw new ModelNotConfiguredError(role);
    const entry = this.registry.models.find((m) => m.id === route.model);
    if (!entry) throw new ModelNotConfiguredError(role, route.model);
    return entry;
  }

  private backendFor(entry: ModelEntry): ModelBackend {
    const backend = this.backends[entry.backend];
    if (!backend) throw new Error(`Model "${entry.id}" needs the ${entry.backend} backend, which is not available`);
    return backend;
  }

  private ensureLoaded(entry: ModelEntry): Promise<void> {
    let loading = this.loaded.get(entry.id);
    if (!loading) {
      const backend = this.backendFor(entry);
      // Memory first: a heavy model loads once the idle ones memory does not hold beside it are gone.
      const room = entry.profile === "heavy" && this.options.makeRoom ? this.options.makeRoom(residency(entry)) : Promise.resolve();
      loading = room.then(() => backend
        .load({
          id: entry.id,
          path: entry.backend === "local" ? entry.path : entry.url,
          contextSize: entry.contextSize,
          threads: entry.backend === "local" ? (entry.threads ?? this.options.defaultThreads()) : this.options.defaultThreads(),
          gpuLayers: entry.backend === "local" ? entry.gpuLayers : 0,
          poolSize: entry.profile === "heavy" ? 1 : entry.poolSize,
          embedding: entry.embedding,
          ...(entry.backend === "openai" ? { remoteModel: entry.model, ...(entry.apiKeyEnv ? { apiKeyEnv: entry.apiKeyEnv } : {}) } : {}),
        }))
        .then(() => undefined);
      this.loaded.set(entry.id, loading);
      loading.catch(() => this.loaded.delete(entry.id));
    }
    return loading;
  }

  private async attempt<T>(
    role: Role,
    entry: ModelEntry,
    request: ChatRequest,
    options: AskOptions<T>,
    attempt: number,
    escalated: boolean,
  ): Promise<{ record: CallRecord; value?: T; text: string }> {
    const started = this.clock.now();
    const base = {
      role, model: entry.id, attempt, escalated, at: started,
      ...(options.ticketId ? { ticketId: options.ticketId } : {}),
      ...(options.functionalityId ? { functionalityId: options.functionalityId } : {}),
    };
    const heavy = entry.profile === "heavy";
    const release = heavy ? await this.heavyLock.acquire() : () => undefined;
    this.cancelEviction(entry.id);
    this.calls.set(entry.id, (this.calls.get(entry.id) ?? 0) + 1);
    try {
      await this.ensureLoaded(entry);
      const result = await this.backendFor(entry).chat(
        entry.id,
        request,
        { ...(options.onToken ? { onToken: options.onToken } : {}), ...(options.signal ? { signal: options.signal } : {}) },
      );
      const measured = {
        promptTokens: result.promptTokens,
        completionTokens: result.completionTokens,
        totalMs: result.totalMs,
        ...(result.firstTokenMs !== undefined ? { firstTokenMs: result.firstTokenMs } : {}),
      };
      if (result.stopReason === "cancelled") return { record: this.record({ ...base, ...measured, outcome: "cancelled" }), text: result.text };
      const checked = checkReply(result.text, options);
      return { record: this.record({ ...base, ...measured, ...checked.outcome }), value: checked.value, text: result.text };
    } catch (error) {
      return {
        record: this.record({ ...base, outcome: "error", problem: describeError(error), promptTokens: 0, completionTokens: 0, totalMs: this.clock.now() - started }),
        text: "",
      };
    } finally {
      this.calls.set(entry.id, this.calls.get(entry.id)! - 1);
      if (heavy) this.scheduleEviction(entry);
      release();
    }
  }

  private cancelEviction(id: string): void {
    this.evictions.get(id)?.cancel();
    this.evictions.delete(id);
  }

  private scheduleEviction(entry: ModelEntry): void {
    this.cancelEviction(entry.id);
    this.evictions.set(
      entry.id,
      this.clock.setTimeout(() => {
        this.evictions.delete(entry.id);
        void this.heavyLock.acquire().then(async (release) => {
          try {
            await this.unload(entry);
          } finally {
            release();
          }
        });
      }, entry.idleTtlSeconds * 1000),
    );
  }

  private async unload(entry: ModelEntry): Promise<void> {
    const loading = this.loaded.get(entry.id);
    if (!loading) return;
    this.loaded.delete(entry.id);
    this.cancelEviction(entry.id);
    try {
      await loading;
      await this.backendFor(entry).unload(entry.id);
    } catch {
      // It was not loaded (or the backend is gone): nothing to release.
    }
  }

  private forgetLoaded(kind: ModelEntry["backend"]): void {
    for (const entry of this.registry.models) {
      if (entry.backend === kind) {
        this.loaded.delete(entry.id);
        this.cancelEviction(entry.id);
      }
    }
  }

  private record(record: CallRecord): CallRecord {
    this.history.push(record);
    if (this.history.length > (this.options.historySize ?? 1000)) this.history.shift();
    const stats = this.stats.get(record.model) ?? { calls: 0, ok: 0, promptTokens: 0, completionTokens: 0, totalMs: 0, firstTokenMs: 0, firstTokenCount: 0 };
    stats.calls++;
    if (record.outcome === "ok") stats.ok++;
    stats.promptTokens += record.promptTokens;
    stats.completionTokens += record.completionTokens;
    stats.totalMs += record.totalMs;
    if (record.firstTokenMs !== undefined) {
      stats.firstTokenMs += record.firstTokenMs;
      stats.firstTokenCount++;
    }
    this.stats.set(record.model, stats);
    this.recorded.fire(record);
    return record;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const id of [...this.evictions.keys()]) this.cancelEviction(id);
    this.recorded.dispose();
  }
}

/** Parses and validates a reply; grammars constrain generation but are never trusted alone. */
function checkReply<T>(text: string, options: AskOptions<T>): { value?: T; outcome: { outcome: Outcome; problem?: string } } {
  let value: unknown = text;
  if (options.schema) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { outcome: { outcome: "invalid", problem: `not JSON: ${text.slice(0, 80)}` } };
    }
    const parsed = options.schema.safeParse(json);
    if (!parsed.success) return { outcome: { outcome: "invalid", problem: z.prettifyError(parsed.error).replace(/\n/g, " ") } };
    value = parsed.data;
  }
  if (options.isSatisfactory && !options.isSatisfactory(value as T)) {
    return { value: value as T, outcome: { outcome: "unsatisfactory", problem: "the caller's check rejected the reply" } };
  }
  return { value: value as T, outcome: { outcome: "ok" } };
}

/**
 * llama.cpp turns a string's maxLength into a rule repeated that many times and refuses the
 * grammar from 2,000 repetitions on (measured: "exceeds sane defaults"). Long limits are dropped
 * from the schema that constrains generation; the zod schema still enforces them on the reply,
 * and the request's maxTokens bounds the output meanwhile.
 */
export const GRAMMAR_MAX_LENGTH = 1000;

export function grammarSafe(schema: unknown): Record<string, unknown> {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== "object") return node;
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if ((key === "maxLength" || key === "maxItems") && typeof value === "number" && value > GRAMMAR_MAX_LENGTH) continue;
      copy[key] = walk(value);
    }
    return copy;
  };
  return walk(schema) as Record<string, unknown>;
}
