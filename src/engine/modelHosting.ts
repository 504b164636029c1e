// The engine's model host: one process per machine (started on the first request), shared by every
// client, so that two windows using one model load it once. Each client names its models by its
// own registry's ids; a load with the same file and options as one already loaded shares it, and
// the model is unloaded only when no client holds it any more (a client that hangs up lets go of
// all it held). Tokens stream back to the client whose chat it is; a crash of the host is told to
// every client, whose models must then be loaded again.
import * as z from "zod";
import type { RequestType } from "vscode-jsonrpc";
import { Emitter, type Disposable } from "../core/lifecycle";
import type { ModelHostChannel } from "../adapters/llm/localBackend";
import { chatParamsSchema, countParamsSchema, embedParamsSchema, HostRequests, loadParamsSchema, unloadParamsSchema } from "../adapters/llm/hostProtocol";
import { ModelHostProcess, type HostState } from "../adapters/llm/modelHostProcess";
import { describeIssues, type Logger } from "../core/logger";
import { HOST_METHODS, type ModelParams } from "../protocol/engine";
import type { EngineClient } from "./server";

/**
 * Who holds models: a client of the socket (ids from 1), or the engine's team on a client's
 * behalf (ids below 0), released with release().
 */
export type ModelHolder = Pick<EngineClient, "id">;

export interface ModelHostingOptions {
  /** dist/modelHost.js */
  entry: string;
  log: Logger;
  gpu: "auto" | false;
  /** Sends a piece of a streamed reply to the client that asked. */
  sendToken(client: ModelHolder, streamId: string, text: string): void;
  /** Tells every client the host's state. */
  announceState(state: HostState, detail: string | undefined): void;
}

interface SharedModel {
  /** The file and options: two loads with the same key share one model. */
  key: string;
  /** `<client id>/<the client's model id>` of every client that holds it. */
  holders: Set<string>;
  /**
   * Loads in flight. The host cannot unload a model it is still loading, so a model nobody holds
   * any more keeps its entry (and its name) until they end, and the last one unloads it.
   */
  loads: number;
}

/** A busy host still answers its info at once; a hung one must not stall the engine's status (and clients connecting). */
const INFO_TIMEOUT_MS = 2000;

const REQUESTS: Record<ModelParams["method"], RequestType<unknown, unknown, void>> = {
  "model/load": HostRequests.load,
  "model/unload": HostRequests.unload,
  "model/chat": HostRequests.chat,
  "model/embed": HostRequests.embed,
  "model/countTokens": HostRequests.countTokens,
  "host/info": HostRequests.info,
  "server/start": HostRequests.serve,
  "server/stop": HostRequests.stopServing,
};

/** Who holds a model: a client, under its own name for it. */
const holder = (clientId: number, modelId: string) => `${clientId}/${modelId}`;

function parsed<S extends z.ZodType>(schema: S, params: unknown, method: string): z.output<S> {
  const result = schema.safeParse(params);
  if (!result.success) throw new Error(`${method}: ${describeIssues(result.error, "params")}`);
  return result.data;
}

export class ModelHosting {
  private host: ModelHostProcess | undefined;
  /** By the host's id for the model. */
  private readonly models = new Map<string, SharedModel>();
  /** Each client's model ids, to the host's. */
  private readonly names = new Map<number, Map<string, string>>();
  private readonly stateChanged = new Emitter<{ state: HostState; detail: string | undefined }>();

  constructor(private readonly options: ModelHostingOptions) {}

  /** The host as the engine's own team reaches it, holding models as `holder` (tokens come straight to the caller). */
  channel(holder: ModelHolder): ModelHostChannel {
    return {
      request: async (type, params, resultSchema, options = {}) => {
        const method = HOST_METHODS.find((name) => name === type.method);
        if (!method) throw new Error(`The engine's model host has no request ${type.method}`);
        const signal = options.signal ?? new AbortController().signal;
        return resultSchema.parse(await this.request(holder, { method, params: params as Record<string, unknown> }, signal, options.onToken));
      },
      onDidChangeState: (listener): Disposable => this.stateChanged.event(({ state, detail }) => listener(state, detail)),
    };
  }

  /** The host process, started on first use; its state is told to every client. */
  private process(): ModelHostProcess {
    if (this.host) return this.host;
    const host = new ModelHostProcess({ entry: this.options.entry, log: this.options.log, gpu: this.options.gpu });
    host.onDidChangeState((state, detail) => {
      // A crashed host has lost every model: clients load theirs again, as new holds.
      if (state === "crashed") this.forgetAll();
      this.options.announceState(state, detail);
      this.stateChanged.fire({ state, detail });
    });
    this.host = host;
    return host;
  }

  /** `onToken` takes the reply's pieces in this process; without it they go to the client as notifications. */
  async request(client: ModelHolder, { method, params }: ModelParams, signal: AbortSignal, onToken?: (text: string) => void): Promise<unknown> {
    switch (method) {
      case "model/load":
        return this.load(client, parsed(loadParamsSchema, params, method));
      case "model/unload":
        return this.unload(client, parsed(unloadParamsSchema, params, method).id);
      case "model/chat": {
        const chat = parsed(chatParamsSchema, params, method);
        const stream = chat.streamId && !onToken ? new TokenRelay((text) => this.options.sendToken(client, chat.streamId!, text)) : undefined;
        try {
          return await this.forward(method, { ...chat, streamId: undefined, modelId: this.hostId(client, chat.modelId) }, { signal, onToken: onToken ?? (stream && ((text) => stream.add(text))) });
        } finally {
          // Every piece goes out before the answer does (one connection keeps their order).
          stream?.flush();
        }
      }
      case "model/embed":
      case "model/countTokens": {
        const call = parsed(method === "model/embed" ? embedParamsSchema : countParamsSchema, params, method);
        return this.forward(method, { ...call, modelId: this.hostId(client, call.modelId) }, { signal });
      }
      default:
        return this.forward(method, params, { signal });
    }
  }

  private forward(method: ModelParams["method"], params: unknown, options: { signal?: AbortSignal; onToken?: (text: string) => void } = {}): Promise<unknown> {
    // The client checks the answer against the host protocol's schema.
    return this.process().request(REQUESTS[method], params, z.unknown(), options);
  }

  private async load(client: ModelHolder, params: z.output<typeof loadParamsSchema>): Promise<unknown> {
    const hostId = this.hold(client, params);
    const model = this.models.get(hostId)!;
    model.loads++;
    const loading = this.forward("model/load", { ...params, id: hostId }).finally(() => model.loads--);
    const result = (await loading.catch(async (error: unknown) => {
      // Only this call's hold goes: the client may hold the name elsewhere by now.
      if (this.names.get(client.id)?.get(params.id) === hostId) this.names.get(client.id)!.delete(params.id);
      await this.letGo(client.id, params.id, hostId);
      throw error;
    })) as Record<string, unknown>;
    // The client may have hung up, unloaded, or loaded the name again with other options meanwhile.
    const current = this.models.get(hostId) === model;
    const stillHeld = current && model.holders.has(holder(client.id, params.id));
    if (current && model.holders.size === 0 && model.loads === 0) await this.drop(hostId);
    if (!stillHeld) throw new Error(`Model "${params.id}" was unloaded while it loaded`);
    return { ...result, id: params.id };
  }

  /** The host's id for a client's model: an existing model with the same file and options, or a new one. */
  private hold(client: ModelHolder, params: z.output<typeof loadParamsSchema>): string {
    const key = JSON.stringify([params.path, params.contextSize, params.threads, params.gpuLayers, params.sequences, params.embedding]);
    const names = this.names.get(client.id) ?? new Map<string, string>();
    this.names.set(client.id, names);
    let hostId = [...this.models].find(([, model]) => model.key === key)?.[0];
    if (!hostId) {
      hostId = params.id;
      for (let n = 2; this.models.has(hostId); n++) hostId = `${params.id}#${n}`;
      this.models.set(hostId, { key, holders: new Set(), loads: 0 });
    }
    const previous = names.get(params.id);
    if (previous && previous !== hostId) void this.letGo(client.id, params.id, previous);
    names.set(params.id, hostId);
    this.models.get(hostId)!.holders.add(holder(client.id, params.id));
    return hostId;
  }

  private hostId(client: ModelHolder, modelId: string): string {
    const hostId = this.names.get(client.id)?.get(modelId);
    if (!hostId) throw new Error(`Model "${modelId}" is not loaded in the model host`);
    return hostId;
  }

  private async unload(client: ModelHolder, modelId: string): Promise<null> {
    const hostId = this.names.get(client.id)?.get(modelId);
    this.names.get(client.id)?.delete(modelId);
    if (hostId) await this.letGo(client.id, modelId, hostId);
    return null;
  }

  /** Unloads a model nobody holds, once no load of it is in flight. */
  private async drop(hostId: string): Promise<void> {
    this.models.delete(hostId);
    await this.forward("model/unload", { id: hostId }).catch((error: unknown) => this.options.log.warn(`engine: unloading ${hostId}: ${String(error)}`));
  }

  /** Drops a client's hold; the last one unloads the model. */
  private async letGo(clientId: number, modelId: string, hostId: string): Promise<void> {
    const model = this.models.get(hostId);
    model?.holders.delete(holder(clientId, modelId));
    // A load in flight unloads it when it ends (see load).
    if (!model || model.holders.size > 0 || model.loads > 0) return;
    await this.drop(hostId);
  }

  /** Clients that hung up let go of every model they held (the team's holds go with release()). */
  forget(present: readonly EngineClient[]): void {
    const ids = new Set(present.map((client) => client.id));
    for (const clientId of [...this.names.keys()]) if (clientId > 0 && !ids.has(clientId)) this.release({ id: clientId });
  }

  /** Lets go of every model `holder` held. */
  release(holder: ModelHolder): void {
    const names = this.names.get(holder.id);
    this.names.delete(holder.id);
    for (const [modelId, hostId] of names ?? []) void this.letGo(holder.id, modelId, hostId);
  }

  private forgetAll(): void {
    this.models.clear();
    this.names.clear();
  }

  /** Loads in flight, for the engine's status. */
  loading(): number {
    return [...this.models.values()].reduce((sum, model) => sum + model.loads, 0);
  }

  /** The host's pid and models, for the engine's status; undefined before it started, or when it does not answer within INFO_TIMEOUT_MS. */
  async info(): Promise<unknown> {
    return this.host?.state === "ready" ? this.forward("host/info", {}, { signal: AbortSignal.timeout(INFO_TIMEOUT_MS) }) : undefined;
  }

  dispose(): void {
    this.stateChanged.dispose();
    this.host?.dispose();
  }
}

/** Pieces of a reply sent at most every RELAY_MS: a fast model's tokens share a message, a slow model's go out one by one at once. */
const RELAY_MS = 15;

class TokenRelay {
  private pending = "";
  private lastSent = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly send: (text: string) => void) {}

  add(text: string): void {
    this.pending += text;
    const wait = this.lastSent + RELAY_MS - performance.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending) return;
    this.send(this.pending);
    this.pending = "";
    this.lastSent = performance.now();
  }
}
