// The message layer every webview shares with the host. Both sides run the same Endpoint over a
// different transport (webview.postMessage on the host, acquireVsCodeApi() in the webview), so the
// rules are the same in both directions: every incoming message is validated against the view's
// protocol, an invalid one is reported and dropped, and every request has an id and a timeout.
import * as z from "zod";
import { Emitter } from "../core/lifecycle";

export interface RequestSpec {
  params: z.ZodType;
  result: z.ZodType;
}

/** What one side may receive: requests it answers and notifications it listens to. */
export interface Inbox {
  requests: Record<string, RequestSpec>;
  notifications: Record<string, z.ZodType>;
}

/** A view's protocol: what the host receives from the webview and what the webview receives. */
export interface Protocol {
  view: string;
  toHost: Inbox;
  toWebview: Inbox;
}

export function defineProtocol<const P extends Protocol>(protocol: P): P {
  return protocol;
}

const messageSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ready") }),
  z.object({ kind: z.literal("request"), id: z.string().min(1), method: z.string(), params: z.unknown() }),
  z.object({
    kind: z.literal("response"),
    id: z.string().min(1),
    result: z.unknown().optional(),
    error: z.string().optional(),
  }),
  z.object({ kind: z.literal("notification"), method: z.string(), params: z.unknown() }),
  // The other side received something it could not accept; it says what, so the host can log it.
  z.object({ kind: z.literal("rejected"), problem: z.string() }),
]);
export type Message = z.infer<typeof messageSchema>;

export type Params<S extends RequestSpec> = z.input<S["params"]>;
export type Result<S extends RequestSpec> = z.output<S["result"]>;
type Handler<S extends RequestSpec> = (params: z.output<S["params"]>) => z.input<S["result"]> | Promise<z.input<S["result"]>>;

export interface EndpointOptions {
  /** Who this side is talking to, for error messages ("the kanban webview"). */
  peer: string;
  post(message: Message): void;
  /** Called with a readable description whenever an incoming message is dropped. */
  onInvalid(problem: string): void;
  requestTimeoutMs(): number;
  /**
   * The host must wait for the webview's "ready" before posting (messages sent earlier are lost);
   * the webview can post at once because the host is always listening.
   */
  waitForReady: boolean;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
  result: z.ZodType;
}

export class RequestError extends Error {}

export class Endpoint<In extends Inbox, Out extends Inbox> {
  private readonly handlers = new Map<string, (params: unknown) => unknown>();
  private readonly listeners = new Map<string, Set<(params: unknown) => void>>();
  private readonly ready$ = new Emitter<void>();
  private readonly pending = new Map<string, Pending>();
  private readonly queue: Message[] = [];
  private ready: boolean;
  private nextId = 1;

  constructor(
    private readonly inbox: In,
    private readonly outbox: Out,
    private readonly options: EndpointOptions,
  ) {
    this.ready = !options.waitForReady;
  }

  get isReady(): boolean {
    return this.ready;
  }

  handle<M extends keyof In["requests"] & string>(method: M, handler: Handler<In["requests"][M]>): void {
    this.handlers.set(method, handler as (params: unknown) => unknown);
  }

  on<M extends keyof In["notifications"] & string>(
    method: M,
    listener: (params: z.output<In["notifications"][M]>) => void,
  ): { dispose(): void } {
    const set = this.listeners.get(method) ?? new Set();
    this.listeners.set(method, set);
    const entry = listener as (params: unknown) => void;
    set.add(entry);
    return { dispose: () => set.delete(entry) };
  }

  onReady(listener: () => void): { dispose(): void } {
    return this.ready$.event(listener);
  }

  request<M extends keyof Out["requests"] & string>(
    method: M,
    params: Params<Out["requests"][M]>,
  ): Promise<Result<Out["requests"][M]>> {
    const spec = ownEntry(this.outbox.requests, method);
    if (!spec) return Promise.reject(new RequestError(`Unknown request "${method}"`));
    const id = `${this.nextId++}`;
    const timeoutMs = this.options.requestTimeoutMs();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestError(`Request "${method}" to ${this.options.peer} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, result: spec.result });
      this.send({ kind: "request", id, method, params });
    });
  }

  notify<M extends keyof Out["notifications"] & string>(method: M, params: z.input<Out["notifications"][M]>): void {
    this.send({ kind: "notification", method, params });
  }

  /** Tells the host this side is listening. Only the webview calls it. */
  announceReady(): void {
    this.options.post({ kind: "ready" });
  }

  /**
   * The other side went away (a hidden webview view loses its page). Requests in flight can no
   * longer be answered, so they fail now instead of at their timeout; later messages wait for the
   * next "ready".
   */
  disconnect(reason: string): void {
    if (this.options.waitForReady) this.ready = false;
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new RequestError(`${this.options.peer} closed before answering (${reason})`));
      this.pending.delete(id);
    }
  }

  dispose(): void {
    this.disconnect("disposed");
    this.handlers.clear();
    this.listeners.clear();
    this.ready$.dispose();
    this.queue.length = 0;
  }

  /** Entry point for everything that arrives from the other side. Never throws. */
  receive(raw: unknown): void {
    const parsed = messageSchema.safeParse(raw);
    if (!parsed.success) {
      this.reject(`a message that is not a valid envelope: ${z.prettifyError(parsed.error)}`);
      return;
    }
    const message = parsed.data;
    switch (message.kind) {
      case "ready":
        return this.becomeReady();
      case "request":
        return void this.answer(message.id, message.method, message.params);
      case "response":
        return this.settle(message.id, message.result, message.error);
      case "notification":
        return this.dispatch(message.method, message.params);
      case "rejected":
        this.options.onInvalid(`${this.options.peer} rejected a message: ${message.problem}`);
    }
  }

  private send(message: Message): void {
    if (this.ready) this.options.post(message);
    else this.queue.push(message);
  }

  private becomeReady(): void {
    this.ready = true;
    for (const message of this.queue.splice(0)) this.options.post(message);
    this.ready$.fire();
  }

  private reject(problem: string, replyTo?: string): void {
    this.options.onInvalid(`Dropped ${problem} (from ${this.options.peer})`);
    if (replyTo) this.send({ kind: "response", id: replyTo, error: problem });
    // Only the webview tells the host: the host is where problems are logged.
    else if (!this.options.waitForReady) this.options.post({ kind: "rejected", problem });
  }

  private async answer(id: string, method: string, rawParams: unknown): Promise<void> {
    const spec = ownEntry(this.inbox.requests, method);
    const handler = this.handlers.get(method);
    if (!spec || !handler) return this.reject(`request "${method}", which this side does not handle`, id);
    const params = spec.params.safeParse(rawParams);
    if (!params.success) {
      return this.reject(`request "${method}" with invalid params: ${z.prettifyError(params.error)}`, id);
    }
    try {
      this.send({ kind: "response", id, result: await handler(params.data) });
    } catch (error) {
      this.send({ kind: "response", id, error: error instanceof Error ? error.message : String(error) });
    }
  }

  private settle(id: string, rawResult: unknown, error: string | undefined): void {
    const pending = this.pending.get(id);
    if (!pending) return this.reject(`a response to unknown request id "${id}"`);
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (error !== undefined) return pending.reject(new RequestError(error));
    const result = pending.result.safeParse(rawResult);
    if (result.success) return pending.resolve(result.data);
    const problem = `an invalid result: ${z.prettifyError(result.error)}`;
    this.options.onInvalid(`Dropped ${problem} (from ${this.options.peer})`);
    pending.reject(new RequestError(`${this.options.peer} answered with ${problem}`));
  }

  private dispatch(method: string, rawParams: unknown): void {
    const schema = ownEntry(this.inbox.notifications, method);
    if (!schema) return this.reject(`notification "${method}", which is not in the protocol`);
    const params = schema.safeParse(rawParams);
    if (!params.success) {
      return this.reject(`notification "${method}" with invalid params: ${z.prettifyError(params.error)}`);
    }
    for (const listener of [...(this.listeners.get(method) ?? [])]) {
      try {
        listener(params.data);
      } catch (error) {
        this.options.onInvalid(`A listener for "${method}" failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/**
 * A protocol table's entry for a name that arrived in a message, or undefined: a name every
 * object has ("constructor", "__proto__", "toString") is data, never the object's own machinery.
 */
export function ownEntry<T extends object>(table: T, name: string): T[keyof T] | undefined {
  return Object.hasOwn(table, name) ? table[name as keyof T] : undefined;
}
