// A ModelBackend for OpenAI-compatible servers (llama.cpp's server, Ollama, LM Studio, vLLM, or
// Redgreen's own model host endpoint): chat completions with streaming, JSON-schema response
// format, embeddings. Only the URLs the user configured are contacted.
import * as z from "zod";
import { toDisposable, type Disposable } from "../../core/lifecycle";
import { describeError } from "../../core/logger";
import type { ChatCallOptions, ModelBackend, ModelLoadSpec } from "../../core/models/ports";
import { chatRequestSchema, type ChatRequest, type ChatResult } from "../../core/models/types";

interface Remote {
  base: string;
  model: string;
  headers: Record<string, string>;
  /** Whether the server answers /tokenize; learned on the first count, not asked again. */
  tokenizes?: boolean;
}

const modelsSchema = z.object({ data: z.array(z.object({ id: z.string() })) });
const chunkSchema = z.object({
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullable().optional() }).optional(), finish_reason: z.string().nullable().optional() })),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullable().optional(),
});
const embeddingsSchema = z.object({ data: z.array(z.object({ index: z.number(), embedding: z.array(z.number()) })) });

// A server that streams without end (or one event without end) would otherwise grow the
// extension host's memory until it dies. A streamed chunk carries one token in a few hundred
// bytes of JSON, so these caps are far above any honest answer.
const MiB = 2 ** 20;
const MAX_EVENT_BYTES = MiB;
/** At least 16 MiB per response; more for an answer allowed that many tokens (1 KiB each). */
const MIN_RESPONSE_BYTES = 16 * MiB;
const RESPONSE_BYTES_PER_TOKEN = 1024;

interface StreamLimits {
  server: string;
  eventBytes: number;
  responseBytes: number;
}

function streamLimits(server: string, maxTokens: number): StreamLimits {
  return { server, eventBytes: MAX_EVENT_BYTES, responseBytes: Math.max(MIN_RESPONSE_BYTES, maxTokens * RESPONSE_BYTES_PER_TOKEN) };
}

export class OpenAiBackend implements ModelBackend {
  private readonly remotes = new Map<string, Remote>();

  constructor(private readonly env: Record<string, string | undefined> = process.env) {}

  async load(spec: ModelLoadSpec): Promise<{ loadMs: number }> {
    const started = performance.now();
    const base = spec.path.replace(/\/+$/, "");
    const key = spec.apiKeyEnv ? this.env[spec.apiKeyEnv] : undefined;
    if (spec.apiKeyEnv && !key) throw new Error(`Model "${spec.id}" needs an API key in the environment variable ${spec.apiKeyEnv}, which is not set`);
    const remote: Remote = {
      base,
      model: spec.remoteModel ?? spec.id,
      headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    };
    const { data } = modelsSchema.parse(await this.call(remote, "GET", "/models"));
    if (!data.some((m) => m.id === remote.model)) {
      throw new Error(`The server at ${base} does not offer the model "${remote.model}" (it offers: ${data.map((m) => m.id).join(", ") || "none"})`);
    }
    this.remotes.set(spec.id, remote);
    return { loadMs: performance.now() - started };
  }

  unload(id: string): Promise<void> {
    this.remotes.delete(id);
    return Promise.resolve();
  }

  async chat(id: string, input: ChatRequest, options: ChatCallOptions = {}): Promise<ChatResult> {
    const remote = this.remote(id);
    const request = chatRequestSchema.parse(input);
    const started = performance.now();
    const body = {
      model: remote.model,
      messages: request.messages,
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.jsonSchema ? { response_format: { type: "json_schema", json_schema: { name: "reply", strict: true, schema: request.jsonSchema } } } : {}),
      stream: true,
      stream_options: { include_usage: true },
    };
    let text = "";
    let firstTokenMs: number | undefined;
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    let finish: string | null | undefined;
    // Ours, beside the caller's: a stream over its limits is dropped, not left to drain.
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    try {
      const response = await this.fetch(remote, "POST", "/chat/completions", body, signal);
      for await (const data of serverSentEvents(response, streamLimits(remote.base, request.maxTokens))) {
        if (data === "[DONE]") break;
        const chunk = chunkSchema.parse(JSON.parse(data));
        const piece = chunk.choices[0]?.delta?.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
        if (piece) {
          firstTokenMs ??= performance.now() - started;
          text += piece;
          options.onToken?.(piece);
        }
      }
    } catch (error) {
      if (!options.signal?.aborted) throw error;
    } finally {
      stop.abort();
    }
    const cancelled = options.signal?.aborted ?? false;
    return {
      text,
      promptTokens: usage?.prompt_tokens ?? 0,
      completionTokens: usage?.completion_tokens ?? 0,
      ...(firstTokenMs !== undefined ? { firstTokenMs } : {}),
      totalMs: performance.now() - started,
      stopReason: cancelled ? "cancelled" : finish === "length" ? "maxTokens" : "eos",
    };
  }

  async embed(id: string, texts: string[]): Promise<number[][]> {
    const remote = this.remote(id);
    const { data } = embeddingsSchema.parse(await this.call(remote, "POST", "/embeddings", { model: remote.model, input: texts }));
    return [...data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
  }

  /** Exact where the server tokenizes (llama.cpp's and Redgreen's do), otherwise an estimate. */
  async countTokens(id: string, text: string): Promise<number> {
    const remote = this.remote(id);
    if (remote.tokenizes !== false) {
      try {
        const origin = new URL(remote.base).origin;
        const response = await fetch(`${origin}/tokenize`, { method: "POST", headers: remote.headers, body: JSON.stringify({ model: remote.model, content: text }) });
        if (response.ok) {
          const tokens = z.object({ tokens: z.array(z.unknown()) }).parse(await response.json()).tokens.length;
          remote.tokenizes = true;
          return tokens;
        }
        if (response.status === 404) remote.tokenizes = false;
      } catch {
        // Unreachable or not a tokenizer answer this time: estimate below, try again next time.
      }
    }
    return Math.ceil(text.length / 3.5);
  }

  onDidReset(_listener: () => void): Disposable {
    // A server keeps its models; nothing to reload.
    return toDisposable(() => undefined);
  }

  private remote(id: string): Remote {
    const remote = this.remotes.get(id);
    if (!remote) throw new Error(`Model "${id}" is not loaded`);
    return remote;
  }

  private async call(remote: Remote, method: string, path: string, body?: unknown): Promise<unknown> {
    return (await this.fetch(remote, method, path, body)).json();
  }

  private async fetch(remote: Remote, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${remote.base}${path}`, {
        method,
        headers: remote.headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new Error(`Cannot reach the model server at ${remote.base}: ${cause ?? describeError(error)}`);
    }
    if (!response.ok) {
      const detail = await response.text().catch(() => "");
      let message = detail.slice(0, 300);
      try {
        message = z.object({ error: z.object({ message: z.string() }) }).parse(JSON.parse(detail)).error.message;
      } catch {
        // Not an OpenAI error body: keep the text.
      }
      throw new Error(`The model server at ${remote.base} answered ${method} ${path} with ${response.status}: ${message}`);
    }
    return response;
  }
}

/** The `data:` payloads of a server-sent event stream; throws once the stream exceeds `limits`. */
async function* serverSentEvents(response: Response, limits: StreamLimits): AsyncGenerator<string> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = "";
  let received = 0;
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    received += bytes.length;
    if (received > limits.responseBytes) throw new Error(`The model server at ${limits.server} sent over ${mebibytes(limits.responseBytes)} in one response; the request was stopped`);
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      if (end > limits.eventBytes) throw eventTooLarge(limits);
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split("\n").filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart()).join("\n");
      if (data) yield data;
    }
    // What is left is one unfinished event. Its length in characters is at most its size in
    // bytes, so an event counted over the limit this way is over it in bytes too.
    if (buffer.length > limits.eventBytes) throw eventTooLarge(limits);
  }
}

function eventTooLarge(limits: StreamLimits): Error {
  return new Error(`The model server at ${limits.server} sent one event over ${mebibytes(limits.eventBytes)}; the request was stopped`);
}

function mebibytes(bytes: number): string {
  return `${Math.round((bytes / MiB) * 10) / 10} MiB`;
}
