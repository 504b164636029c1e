// node-llama-cpp inside the model host process: loaded models, their pools of context sequences,
// chat with streaming and cancellation, JSON-schema constrained output, embeddings, token counts.
import type {
  ChatHistoryItem,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaEmbeddingContext,
  LlamaGrammar,
  LlamaModel,
} from "node-llama-cpp" with { "resolution-mode": "import" };
import type * as NodeLlamaCppModule from "node-llama-cpp" with { "resolution-mode": "import" };
import type * as z from "zod";
import type { ChatResult } from "../../../core/models/types";
import type { chatParamsSchema, HostInfo, loadParamsSchema } from "../hostProtocol";

type LoadParams = z.output<typeof loadParamsSchema>;
type ChatParams = z.output<typeof chatParamsSchema>;
type NodeLlamaCpp = typeof NodeLlamaCppModule;

/** A model and its pool: each sequence serves one call at a time; callers queue for a free one. */
class LoadedModel {
  private readonly free: LlamaContextSequence[];
  private readonly waiting: ((sequence: LlamaContextSequence) => void)[] = [];

  constructor(
    readonly params: LoadParams,
    readonly model: LlamaModel,
    readonly context: LlamaContext | undefined,
    readonly embedding: LlamaEmbeddingContext | undefined,
    readonly sequences: LlamaContextSequence[],
  ) {
    this.free = [...sequences];
  }

  get busy(): number {
    return this.sequences.length - this.free.length;
  }

  acquire(): Promise<LlamaContextSequence> {
    const sequence = this.free.shift();
    if (sequence) return Promise.resolve(sequence);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(sequence: LlamaContextSequence): void {
    const next = this.waiting.shift();
    if (next) next(sequence);
    else this.free.push(sequence);
  }

  async dispose(): Promise<void> {
    await this.embedding?.dispose();
    await this.context?.dispose();
    await this.model.dispose();
  }
}

export class LlamaService {
  private llama: Promise<Llama> | undefined;
  private lib: NodeLlamaCpp | undefined;
  private readonly models = new Map<string, LoadedModel>();
  private readonly loading = new Map<string, Promise<LoadedModel>>();
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();

  constructor(private readonly options: { gpu: "auto" | false; log: (message: string) => void }) {}

  private async getLlama(): Promise<Llama> {
    this.llama ??= (async () => {
      // ESM-only package: loaded with a real dynamic import from this CommonJS bundle.
      this.lib = await import("node-llama-cpp");
      return this.lib.getLlama({
        build: "never",
        gpu: this.options.gpu,
        logLevel: this.lib.LlamaLogLevel.warn,
        logger: (level, message) => this.options.log(`[llama ${level}] ${message.trimEnd()}`),
      });
    })();
    return this.llama;
  }

  async load(params: LoadParams): Promise<{ id: string; loadMs: number; trainContextSize: number; embeddingSize?: number }> {
    const started = performance.now();
    const existing = this.models.get(params.id) ?? (await this.loading.get(params.id));
    const loaded = existing ?? (await this.startLoading(params));
    return {
      id: params.id,
      loadMs: existing ? 0 : performance.now() - started,
      trainContextSize: loaded.model.trainContextSize,
      ...(loaded.embedding ? { embeddingSize: loaded.model.embeddingVectorSize } : {}),
    };
  }

  private startLoading(params: LoadParams): Promise<LoadedModel> {
    const promise = (async () => {
      const llama = await this.getLlama();
      const model = await llama.loadModel({ modelPath: params.path, gpuLayers: params.gpuLayers });
      try {
        if (params.embedding) {
          const embedding = await model.createEmbeddingContext({ contextSize: params.contextSize, threads: params.threads });
          return new LoadedModel(params, model, undefined, embedding, []);
        }
        const context = await model.createContext({
          contextSize: params.contextSize,
          sequences: params.sequences,
          threads: params.threads,
        });
        const sequences = Array.from({ length: params.sequences }, () => context.getSequence());
        return new LoadedModel(params, model, context, undefined, sequences);
      } catch (error) {
        await model.dispose();
        throw error;
      }
    })();
    this.loading.set(params.id, promise);
    return promise.then(
      (loaded) => {
        this.loading.delete(params.id);
        this.models.set(params.id, loaded);
        return loaded;
      },
      (error: unknown) => {
        this.loading.delete(params.id);
        throw error;
      },
    );
  }

  async unload(id: string): Promise<void> {
    const loaded = this.models.get(id);
    this.models.delete(id);
    await loaded?.dispose();
  }

  private get(id: string): LoadedModel {
    const loaded = this.models.get(id);
    if (!loaded) throw new Error(`Model "${id}" is not loaded in the model host`);
    return loaded;
  }

  async chat(params: ChatParams, signal: AbortSignal, onText: (text: string) => void): Promise<ChatResult> {
    const loaded = this.get(params.modelId);
    if (!loaded.context) throw new Error(`Model "${params.modelId}" is an embedding model; it cannot chat`);
    const grammar = params.jsonSchema ? await this.grammarFor(params.jsonSchema) : undefined;
    const sequence = await loaded.acquire();
    const started = performance.now();
    let firstTokenMs: number | undefined;
    const meter = sequence.tokenMeter;
    const before = { input: meter.usedInputTokens, output: meter.usedOutputTokens };
    const { LlamaChatSession } = this.lib!;
    const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      const messages = [...params.messages];
      const last = messages.pop()!;
      if (last.role !== "user") throw new Error("The last message of a chat must be the user's");
      session.setChatHistory(messages.map(toHistoryItem));
      const { responseText, stopReason } = await session.promptWithMeta(last.content, {
        maxTokens: params.maxTokens,
        temperature: params.temperature,
        ...(params.seed !== undefined ? { seed: params.seed } : {}),
        ...(grammar ? { grammar } : {}),
        signal,
        stopOnAbortSignal: true,
        onTextChunk: (text) => {
          firstTokenMs ??= performance.now() - started;
          onText(text);
        },
      });
      return {
        text: responseText,
        promptTokens: meter.usedInputTokens - before.input,
        completionTokens: meter.usedOutputTokens - before.output,
        ...(firstTokenMs !== undefined ? { firstTokenMs } : {}),
        totalMs: performance.now() - started,
        stopReason: stopReason === "abort" ? "cancelled" : stopReason === "maxTokens" ? "maxTokens" : "eos",
      };
    } finally {
      session.dispose({ disposeSequence: false });
      await sequence.clearHistory();
      loaded.release(sequence);
    }
  }

  private grammarFor(schema: Record<string, unknown>): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let grammar = this.grammars.get(key);
    if (!grammar) {
      // The schema comes from our own zod schemas; node-llama-cpp's typing wants its own schema type.
      grammar = this.getLlama().then((llama) => llama.createGrammarForJsonSchema(schema as never));
      this.grammars.set(key, grammar);
      grammar.catch(() => this.grammars.delete(key));
    }
    return grammar;
  }

  async embed(modelId: string, texts: string[]): Promise<number[][]> {
    const loaded = this.get(modelId);
    if (!loaded.embedding) throw new Error(`Model "${modelId}" was not loaded as an embedding model`);
    const vectors: number[][] = [];
    for (const text of texts) vectors.push(Array.from((await loaded.embedding.getEmbeddingFor(text)).vector));
    return vectors;
  }

  countTokens(modelId: string, text: string): number {
    return this.get(modelId).model.tokenize(text).length;
  }

  async info(): Promise<HostInfo> {
    const llama = this.llama ? await this.llama : undefined;
    const memory = process.memoryUsage();
    return {
      pid: process.pid,
      gpu: llama?.gpu ?? false,
      threads: llama?.cpuMathCores ?? 0,
      memory: { rss: memory.rss, heapUsed: memory.heapUsed },
      models: [...this.models.entries()].map(([id, m]) => ({
        id,
        path: m.params.path,
        sequences: m.sequences.length,
        busy: m.busy,
      })),
    };
  }
}

function toHistoryItem(message: { role: "system" | "user" | "assistant"; content: string }): ChatHistoryItem {
  if (message.role === "system") return { type: "system", text: message.content };
  if (message.role === "user") return { type: "user", text: message.content };
  return { type: "model", response: [message.content] };
}
