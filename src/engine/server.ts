// The engine's socket: a Unix domain socket in the user's private engine folder (a named pipe on
// Windows), never a network port. Each connection is a vscode-jsonrpc channel that must first say
// hello with the user's token; every request is validated by its zod schema before it runs, and a
// malformed one is answered with what was wrong (and logged) while the engine goes on serving.
import { promises as fs } from "node:fs";
import net from "node:net";
import type * as z from "zod";
import { createMessageConnection, ErrorCodes, ResponseError, SocketMessageReader, SocketMessageWriter, type MessageConnection } from "vscode-jsonrpc/node";
import { sameToken } from "../adapters/engine/engineFiles";
import { describeError, describeIssues, type Logger } from "../core/logger";
import { ENGINE_PROTOCOL, EngineMethods, helloParams, type HelloResult } from "../protocol/engine";
import { ownEntry } from "../protocol/rpc";
import { fromWire, toWire } from "../protocol/wire";

/** A client that said hello with the right token. */
export interface EngineClient {
  id: number;
  client: "cli" | "editor";
  pid: number;
  since: Date;
  /** Whether it speaks this engine's protocol (else it may only ask for the status or a stop). */
  current: boolean;
}

export interface RequestHandler<S extends z.ZodType = z.ZodType> {
  params: S;
  /** `signal` aborts when the client cancels the request or hangs up. */
  run(params: z.output<S>, client: EngineClient, signal: AbortSignal): Promise<unknown>;
}

export interface EngineServerOptions {
  socket: string;
  store: HelloResult["store"];
  token: string;
  version: string;
  dataFolder: string;
  log: Logger;
  handlers: Record<string, RequestHandler>;
  /** Clients came or went (the engine's idle clock follows this). */
  onClients(clients: readonly EngineClient[]): void;
}

/** Methods a client of another protocol version may still call: enough to stop an old engine. */
const ANY_VERSION = new Set<string>([EngineMethods.status, EngineMethods.stop]);
const UNAUTHORIZED = -32001;
const HANG_UP_MS = 100;

export class EngineServer {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly clients = new Map<number, EngineClient>();
  private readonly connections = new Map<MessageConnection, net.Socket>();
  /** The connection of each client that said hello, to notify it. */
  private readonly channels = new Map<number, MessageConnection>();
  private nextId = 1;

  constructor(private readonly options: EngineServerOptions) {}

  /** Listens on the socket; a socket file left by a dead engine is replaced (the caller holds the engine's lock). */
  async listen(): Promise<void> {
    const { socket } = this.options;
    if (process.platform !== "win32") await fs.rm(socket, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ path: socket, readableAll: false, writableAll: false }, () => resolve());
    });
    if (process.platform !== "win32") await fs.chmod(socket, 0o600);
  }

  connected(): readonly EngineClient[] {
    return [...this.clients.values()];
  }

  /** Notifies every client of this protocol but `except` (the one whose request caused it, if any). */
  notifyOthers(except: EngineClient | undefined, method: string, params: unknown): void {
    for (const client of this.clients.values()) if (client.id !== except?.id) this.notify(client, method, params);
  }

  /** Notifies one client, if it is still here and speaks this protocol. */
  notify(client: Pick<EngineClient, "id">, method: string, params: unknown): void {
    const connection = this.channels.get(client.id);
    if (!connection || !this.clients.get(client.id)?.current) return;
    const failed = (error: unknown) => this.options.log.warn(`engine: a notification to a client failed: ${describeError(error)}`);
    try {
      // A connection closing (or closed by a stop) throws at once rather than rejecting.
      connection.sendNotification(method, toWire(params)).catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  /** Asks one client and checks its answer; rejects when the client is gone or hangs up first. */
  async ask<S extends z.ZodType>(client: Pick<EngineClient, "id">, method: string, params: unknown, result: S): Promise<z.output<S>> {
    const connection = this.channels.get(client.id);
    if (!connection) throw new Error(`The client that was asked (${method}) is gone`);
    const parsed = result.safeParse(fromWire(await connection.sendRequest(method, toWire(params))));
    if (!parsed.success) throw new Error(`A client's answer to ${method} is malformed: ${describeIssues(parsed.error)}`);
    return parsed.data;
  }

  async close(): Promise<void> {
    // The server closes only once every connection has ended: end them all.
    for (const [connection, socket] of this.connections) {
      connection.dispose();
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    this.connections.set(connection, socket);
    let client: EngineClient | undefined;
    /** Requests in progress: a client that hangs up cancels them (a chat stops generating). */
    const running = new Set<AbortController>();
    connection.onRequest(async (method, params, token) => {
      if (method === EngineMethods.hello) {
        if (client) return this.refuse(socket, `a second hello from pid ${client.pid}`);
        client = this.hello(params, socket);
        this.channels.set(client.id, connection);
        return this.helloResult();
      }
      if (!client) return this.refuse(socket, `${method} before hello`);
      const abort = new AbortController();
      running.add(abort);
      const cancelled = token.onCancellationRequested(() => abort.abort());
      try {
        return await this.dispatch(client, method, params, abort.signal);
      } finally {
        cancelled.dispose();
        running.delete(abort);
      }
    });
    connection.onError(([error]) => this.options.log.warn(`engine: a client's message could not be read: ${describeError(error)}`));
    connection.onClose(() => {
      for (const abort of running) abort.abort();
      // The engine's own questions to this client (ask) are rejected rather than left waiting.
      connection.dispose();
      this.connections.delete(connection);
      if (client) this.channels.delete(client.id);
      if (client && this.clients.delete(client.id)) this.options.onClients(this.connected());
    });
    socket.on("error", () => connection.dispose());
    connection.listen();
  }

  private hello(params: unknown, socket: net.Socket): EngineClient {
    const parsed = helloParams.safeParse(params);
    if (!parsed.success) this.refuse(socket, `a malformed hello (${describeIssues(parsed.error)})`);
    const hello = parsed.data;
    if (!sameToken(hello.token, this.options.token)) this.refuse(socket, `a wrong token from pid ${hello.pid}`);
    const client: EngineClient = { id: this.nextId++, client: hello.client, pid: hello.pid, since: new Date(), current: hello.protocol === ENGINE_PROTOCOL };
    this.clients.set(client.id, client);
    this.options.log.info(`engine: ${client.client} pid ${client.pid} connected (protocol ${hello.protocol}, version ${hello.version})`);
    this.options.onClients(this.connected());
    return client;
  }

  private helloResult(): HelloResult {
    const { version, dataFolder, store } = this.options;
    return { protocol: ENGINE_PROTOCOL, version, pid: process.pid, dataFolder, store };
  }

  /** Logs why, answers with an error and hangs up once the answer is out. */
  private refuse(socket: net.Socket, why: string): never {
    this.options.log.warn(`engine: refused ${why}`);
    // The answer is written asynchronously: hang up once it had time to go out.
    setTimeout(() => socket.end(), HANG_UP_MS).unref();
    throw new ResponseError(UNAUTHORIZED, `Refused: ${why}. Clients must say hello with the token in the engine folder first.`);
  }

  private async dispatch(client: EngineClient, method: string, params: unknown, signal: AbortSignal): Promise<unknown> {
    const handler = ownEntry(this.options.handlers, method);
    if (!handler) throw new ResponseError(ErrorCodes.MethodNotFound, `The engine has no request ${method}`);
    if (!client.current && !ANY_VERSION.has(method)) {
      throw new ResponseError(ErrorCodes.InvalidRequest, `This engine speaks protocol ${ENGINE_PROTOCOL}: stop it (engine/stop) and start the client's own version`);
    }
    const parsed = handler.params.safeParse(fromWire(params));
    if (!parsed.success) {
      const why = describeIssues(parsed.error, "params");
      this.options.log.warn(`engine: refused a malformed ${method} from pid ${client.pid}: ${why}`);
      throw new ResponseError(ErrorCodes.InvalidParams, `${method}: ${why}`);
    }
    try {
      return toWire(await handler.run(parsed.data, client, signal)) ?? null;
    } catch (error) {
      if (error instanceof ResponseError) throw error;
      throw new ResponseError(ErrorCodes.InternalError, describeError(error), { name: error instanceof Error ? error.name : "Error" });
    }
  }
}
