// The ModelBackend that runs GGUF files in the local model host process.
import { Emitter, type Disposable } from "../../core/lifecycle";
import type { ChatCallOptions, ModelBackend, ModelLoadSpec } from "../../core/models/ports";
import * as z from "zod";
import { chatResultSchema, type ChatRequest, type ChatResult } from "../../core/models/types";
import { readGgufFile } from "./ggufFile";
import {
  countResultSchema,
  embedResultSchema,
  HostRequests,
  infoResultSchema,
  loadResultSchema,
  serveResultSchema,
  type HostInfo,
} from "./hostProtocol";
import type { HostState } from "./modelHostProcess";
import type { RequestType } from "vscode-jsonrpc";

/** The way to a model host: its own child process (ModelHostProcess), or the engine's (EngineModelHost). */
export interface ModelHostChannel {
  request<S extends z.ZodType>(
    type: RequestType<unknown, unknown, void>,
    params: unknown,
    resultSchema: S,
    options?: { signal?: AbortSignal; onToken?: (text: string) => void },
  ): Promise<z.output<S>>;
  onDidChangeState(listener: (state: HostState, detail?: string) => void): Disposable;
}

export class LocalModelBackend implements ModelBackend {
  private readonly reset = new Emitter<void>();
  private readonly subscription: Disposable;

  constructor(private readonly host: ModelHostChannel) {
    // A crashed host has lost every model it had loaded.
    this.subscription = host.onDidChangeState((state) => {
      if (state === "crashed") this.reset.fire();
    });
  }

  async load(spec: ModelLoadSpec): Promise<{ loadMs: number }> {
    // Read the header first: a missing, truncated or foreign file gets a clear error here,
    // instead of reaching llama.cpp's loader.
    await readGgufFile(spec.path);
    const result = await this.host.request(
      HostRequests.load,
      { id: spec.id, path: spec.path, contextSize: spec.contextSize, threads: spec.threads, gpuLayers: spec.gpuLayers, sequences: spec.poolSize, embedding: spec.embedding },
      loadResultSchema,
    );
    return { loadMs: result.loadMs };
  }

  async unload(id: string): Promise<void> {
    await this.host.request(HostRequests.unload, { id }, z.unknown());
  }

  chat(id: string, request: ChatRequest, options: ChatCallOptions = {}): Promise<ChatResult> {
    return this.host.request(HostRequests.chat, { ...request, modelId: id }, chatResultSchema, options);
  }

  async embed(id: string, texts: string[]): Promise<number[][]> {
    return (await this.host.request(HostRequests.embed, { modelId: id, texts }, embedResultSchema)).vectors;
  }

  async countTokens(id: string, text: string): Promise<number> {
    return (await this.host.request(HostRequests.countTokens, { modelId: id, text }, countResultSchema)).tokens;
  }

  /** Serves the loaded models as an OpenAI-compatible API on 127.0.0.1 (port 0: any free port). */
  async serve(port: number, token: string): Promise<number> {
    return (await this.host.request(HostRequests.serve, { port, token }, serveResultSchema)).port;
  }

  async stopServing(): Promise<void> {
    await this.host.request(HostRequests.stopServing, {}, z.unknown());
  }

  info(): Promise<HostInfo> {
    return this.host.request(HostRequests.info, {}, infoResultSchema);
  }

  onDidReset(listener: () => void): Disposable {
    return this.reset.event(listener);
  }

  dispose(): void {
    this.subscription.dispose();
    this.reset.dispose();
  }
}
