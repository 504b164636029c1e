// A client's side of the engine: connects to the data folder's engine, starting it detached when
// none answers (as one watchman or Ollama serves every client of a machine), says hello with the
// user's token, and restarts an engine of another version after asking it to stop. Requests and
// answers are validated by the protocol's zod schemas at this end too.
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import net from "node:net";
import type * as z from "zod";
import { createMessageConnection, SocketMessageReader, SocketMessageWriter, type Disposable, type MessageConnection } from "vscode-jsonrpc/node";
import { describeIssues, type Logger } from "../../core/logger";
import { ENGINE_PROTOCOL, EngineMethods, helloResult, statusResult, stopResult, type HelloResult } from "../../protocol/engine";
import { fromWire, toWire } from "../../protocol/wire";
import { cancellationOf } from "../cancellation";
import { isAlive } from "../exclusive";
import { engineFiles, engineToken, type EngineFiles } from "./engineFiles";

/** How long a client waits for an engine it started to answer. */
const START_TIMEOUT_MS = 15_000;
const POLL_MS = 50;
const HELLO_TIMEOUT_MS = 10_000;

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new EngineUnavailableError(message)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export class EngineUnavailableError extends Error {}

export interface EngineConnectOptions {
  dataDir: string;
  /** dist/engine.js, started with `execPath` when no engine answers; without it, only connects. */
  entry?: string;
  execPath?: string;
  version: string;
  client: "cli" | "editor";
  log: Logger;
}

export class EngineConnection {
  private closed = false;
  /** Rejects once the connection is gone: a request in flight then fails instead of waiting forever. */
  private readonly gone: Promise<never>;
  private readonly lostListeners = new Set<(why: string) => void>();
  /** Listeners by notification method: vscode-jsonrpc keeps one handler per method, this end fans out. */
  private readonly notificationListeners = new Map<string, Set<(raw: unknown) => void>>();

  private constructor(private readonly connection: MessageConnection, private readonly socket: net.Socket, readonly engine: HelloResult) {
    this.gone = new Promise<never>((_resolve, reject) => {
      connection.onClose(() => {
        const byUs = this.closed;
        this.closed = true;
        const why = `The Redgreen engine (pid ${engine.pid}) closed the connection: it stopped or crashed (its log: ${engineFiles(engine.dataFolder).log})`;
        reject(new EngineUnavailableError(why));
        if (!byUs) for (const listener of this.lostListeners) listener(why);
      });
    });
    this.gone.catch(() => undefined);
  }

  /** False once the engine hung up or this client closed the connection. */
  get isOpen(): boolean {
    return !this.closed;
  }

  /** Called once if the engine hangs up (it stopped or crashed), not when this client disposes the connection. */
  onLost(listener: (why: string) => void): Disposable {
    this.lostListeners.add(listener);
    return { dispose: () => this.lostListeners.delete(listener) };
  }

  /** Connects to the data folder's engine, starting it (or a new version of it) when needed. */
  static async open(options: EngineConnectOptions): Promise<EngineConnection> {
    const files = engineFiles(options.dataDir);
    const token = await engineToken(files);
    let connected = await EngineConnection.tryConnect(files, token, options);
    if (connected && connected.engine.version !== options.version && options.entry) {
      await connected.refuseIfShared(options.version);
      options.log.info(`The engine runs version ${connected.engine.version}; this is ${options.version}: restarting it`);
      await connected.stopEngine();
      connected = undefined;
    }
    if (connected) return connected;
    if (!options.entry) throw new EngineUnavailableError(`No Redgreen engine answers for ${options.dataDir}`);
    startDetached(options);
    return EngineConnection.waitForEngine(files, token, options);
  }

  private static async waitForEngine(files: EngineFiles, token: string, options: EngineConnectOptions): Promise<EngineConnection> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last: unknown;
    while (Date.now() < deadline) {
      // An engine starting (or one stopping before it) may hang up on a hello: try again.
      const connected = await EngineConnection.tryConnect(files, token, options).catch((error: unknown) => void (last = error));
      if (connected) return connected;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const tail = (await fs.readFile(files.log, "utf8").catch(() => "")).trim().split("\n").slice(-3).join(" | ");
    const cause = last instanceof Error ? ` (the last attempt: ${last.message})` : "";
    throw new EngineUnavailableError(`The Redgreen engine did not start within ${START_TIMEOUT_MS / 1000} s${cause}${tail ? `; its log (${files.log}) ends: ${tail}` : `: see ${files.log}`}`);
  }

  /** The engine's connection after hello, or undefined when nothing listens on the socket. */
  private static async tryConnect(files: EngineFiles, token: string, options: EngineConnectOptions): Promise<EngineConnection | undefined> {
    const socket = await connectSocket(files.socket);
    if (!socket) return undefined;
    const connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    // vscode-jsonrpc leaves a request pending when the socket closes; disposing rejects it.
    connection.onClose(() => connection.dispose());
    connection.listen();
    try {
      const hello = connection.sendRequest(EngineMethods.hello, { token, protocol: ENGINE_PROTOCOL, version: options.version, client: options.client, pid: process.pid });
      const raw = await withTimeout(hello, HELLO_TIMEOUT_MS, `The engine at ${files.socket} did not answer hello within ${HELLO_TIMEOUT_MS / 1000} s`);
      return new EngineConnection(connection, socket, helloResult.parse(fromWire(raw)));
    } catch (error) {
      connection.dispose();
      socket.destroy();
      throw error;
    }
  }

  /** Sends a request and checks the answer against its schema; `signal` cancels it at the engine too. */
  async request<S extends z.ZodType>(method: string, params: unknown, result: S, signal?: AbortSignal): Promise<z.output<S>> {
    if (this.closed) throw new EngineUnavailableError("The connection to the Redgreen engine is closed (the engine stopped?)");
    signal?.throwIfAborted();
    const cancel = cancellationOf(signal);
    let raw: unknown;
    try {
      raw = await Promise.race([this.connection.sendRequest(method, toWire(params ?? {}), cancel.token), this.gone]);
    } finally {
      cancel.dispose();
    }
    const parsed = result.safeParse(fromWire(raw));
    if (!parsed.success) throw new EngineUnavailableError(`The engine's answer to ${method} is malformed: ${describeIssues(parsed.error)}`);
    return parsed.data;
  }

  /**
   * Follows a notification from the engine; each is checked against its schema, and one that is
   * malformed is logged and dropped.
   */
  onNotification<S extends z.ZodType>(method: string, params: S, listener: (params: z.output<S>) => void, log: Logger): Disposable {
    let listeners = this.notificationListeners.get(method);
    if (!listeners) {
      const created = new Set<(raw: unknown) => void>();
      this.notificationListeners.set(method, (listeners = created));
      if (!this.closed) this.connection.onNotification(method, (raw: unknown) => { for (const each of [...created]) each(raw); });
    }
    const checked = (raw: unknown) => {
      const parsed = params.safeParse(fromWire(raw));
      if (parsed.success) listener(parsed.data);
      else log.warn(`The engine sent a malformed ${method}: ${describeIssues(parsed.error)}`);
    };
    listeners.add(checked);
    return { dispose: () => listeners.delete(checked) };
  }

  /** Answers the engine's requests of `method` (the human's answers); params are checked, a malformed request refused. */
  onRequest<S extends z.ZodType>(method: string, params: S, answer: (params: z.output<S>) => Promise<unknown>): Disposable {
    return this.connection.onRequest(method, async (raw: unknown) => {
      const parsed = params.safeParse(fromWire(raw));
      if (!parsed.success) throw new Error(`The engine sent a malformed ${method}: ${describeIssues(parsed.error)}`);
      return toWire(await answer(parsed.data));
    });
  }

  /** An engine of another version is replaced only when this client is its only one: never under another's team. */
  private async refuseIfShared(version: string): Promise<void> {
    const status = await this.request(EngineMethods.status, {}, statusResult);
    const others = status.clients.filter((c) => c.pid !== process.pid).length;
    if (others === 0 && status.teams.length === 0) return;
    this.dispose();
    throw new EngineUnavailableError(`The engine (pid ${status.pid}) runs Redgreen ${status.version}, this is ${version}, and ${others} other client(s) use it: close them or run redgreen engine stop, then try again`);
  }

  /** Asks the engine to stop and waits until its process is gone (its store closed) or, in this process, its socket. */
  async stopEngine(): Promise<void> {
    await this.request(EngineMethods.stop, {}, stopResult);
    this.dispose();
    const { pid, dataFolder } = this.engine;
    const socket = engineFiles(dataFolder).socket;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const probe = await connectSocket(socket);
      probe?.destroy();
      if (!probe && (pid === process.pid || !isAlive(pid))) return;
      if (Date.now() > deadline) throw new EngineUnavailableError(`The engine (pid ${pid}) did not stop within ${START_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  dispose(): void {
    this.closed = true;
    this.connection.dispose();
    this.socket.destroy();
  }
}

/** A connected socket, or undefined when no engine listens there (no file, or a dead engine's). */
function connectSocket(path: string): Promise<net.Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path });
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      // No file, a dead engine's file, or an engine hanging up while it stops.
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED" || error.code === "ECONNRESET") resolve(undefined);
      else reject(error);
    });
  });
}

/** Starts the engine in its own session, outliving this client; its output goes to its log file. */
function startDetached(options: EngineConnectOptions): void {
  options.log.info(`Starting the Redgreen engine for ${options.dataDir}`);
  const child = spawn(options.execPath ?? process.execPath, [options.entry!, "--data", options.dataDir], {
    detached: true,
    stdio: "ignore",
    env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
  });
  child.on("error", (error) => options.log.error(`The engine could not be started: ${error.message}`));
  child.unref();
}
