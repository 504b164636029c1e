// Runs the model host as a child process and talks to it over vscode-jsonrpc. A crash of the host
// (native fault, out of memory, SIGKILL) fails the calls in flight with a clear error and restarts
// the host with exponential backoff; the extension host itself is never affected.
import { spawn, type ChildProcess } from "node:child_process";
import * as z from "zod";
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
  type RequestType,
} from "vscode-jsonrpc/node";
import { Emitter, type Disposable } from "../../core/lifecycle";
import { describeError, type Logger } from "../../core/logger";
import { HostNotifications, tokenNotificationSchema } from "./hostProtocol";
import { TokenStreams } from "./tokenStreams";
import { cancellationOf } from "../cancellation";

export class ModelHostCrashedError extends Error {}

export interface ModelHostOptions {
  /** dist/modelHost.js */
  entry: string;
  log: Logger;
  /** Node to run it with: in desktop VS Code, Electron as Node (ELECTRON_RUN_AS_NODE). */
  execPath?: string;
  gpu?: "auto" | false;
  /** First restart delay; doubles per crash in a row, up to 30 s. */
  restartDelayMs?: number;
}

export type HostState = "starting" | "ready" | "crashed" | "stopped";

interface InFlight {
  reject(error: Error): void;
}

export class ModelHostProcess implements Disposable {
  private child: ChildProcess | undefined;
  private connection: Promise<MessageConnection> | undefined;
  private readonly inFlight = new Set<InFlight>();
  private readonly streams = new TokenStreams();
  private readonly stateChanged = new Emitter<{ state: HostState; detail: string | undefined }>();
  private crashesInARow = 0;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  state: HostState = "stopped";

  constructor(private readonly options: ModelHostOptions) {}

  onDidChangeState(listener: (state: HostState, detail?: string) => void): Disposable {
    return this.stateChanged.event(({ state, detail }) => listener(state, detail));
  }

  /** Sends a request, validating the answer; starts the host if needed. */
  async request<S extends z.ZodType>(
    type: RequestType<unknown, unknown, void>,
    params: unknown,
    resultSchema: S,
    options: { signal?: AbortSignal; onToken?: (text: string) => void } = {},
  ): Promise<z.output<S>> {
    const connection = await this.ensureStarted();
    const cancel = cancellationOf(options.signal);
    const streamId = this.streams.open(options.onToken);
    if (streamId) params = { ...(params as object), streamId };
    let entry!: InFlight;
    const crashed = new Promise<never>((_, reject) => {
      entry = { reject };
      this.inFlight.add(entry);
    });
    try {
      const raw = await Promise.race([connection.sendRequest(type, params, cancel.token), crashed]);
      const result = resultSchema.safeParse(raw);
      if (!result.success) throw new Error(`The model host answered ${type.method} with an invalid result: ${z.prettifyError(result.error)}`);
      return result.data;
    } catch (error) {
      if (error instanceof ModelHostCrashedError) throw error;
      throw new Error(describeError(error));
    } finally {
      this.inFlight.delete(entry);
      this.streams.close(streamId);
      cancel.dispose();
    }
  }

  private ensureStarted(): Promise<MessageConnection> {
    if (this.stopped) return Promise.reject(new Error("The model host was stopped"));
    this.connection ??= this.start();
    return this.connection;
  }

  private start(): Promise<MessageConnection> {
    this.setState("starting");
    const child = spawn(this.options.execPath ?? process.execPath, [this.options.entry], {
      env: {
        ...process.env,
        ELECTRON_RUN_AS_NODE: "1",
        REDGREEN_MODEL_HOST_GPU: this.options.gpu === "auto" ? "auto" : "false",
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child = child;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) if (line.trim()) this.options.log.debug(`[model host] ${line}`);
    });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    connection.onNotification(HostNotifications.token, (raw: unknown) => {
      const token = tokenNotificationSchema.safeParse(raw);
      if (token.success) this.streams.deliver(token.data.streamId, token.data.text);
      else this.options.log.warn(`The model host sent an invalid token notification: ${z.prettifyError(token.error)}`);
    });
    // A broken pipe after a crash is reported through the exit handler, not as an error.
    connection.onError(() => undefined);
    connection.listen();
    child.once("exit", (code, signal) => {
      // Fail the calls in flight with the real cause before the connection fails them vaguely.
      this.onExit(child, code, signal);
      connection.dispose();
    });
    return new Promise((resolve, reject) => {
      child.once("spawn", () => {
        this.setState("ready", `pid ${child.pid}`);
        resolve(connection);
      });
      child.once("error", (error) => {
        // Forget the failed start, so that the next call tries again.
        if (this.child === child) {
          this.child = undefined;
          this.connection = undefined;
          this.setState("stopped", error.message);
        }
        reject(new Error(`Could not start the model host (${this.options.execPath ?? process.execPath}): ${error.message}`));
      });
    });
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.connection = undefined;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const error = new ModelHostCrashedError(
      `The model host process ${how} while working; this call was lost. The host restarts by itself; try again.`,
    );
    for (const call of [...this.inFlight]) call.reject(error);
    this.inFlight.clear();
    if (this.stopped) return this.setState("stopped");
    const delay = Math.min(30_000, (this.options.restartDelayMs ?? 1000) * 2 ** this.crashesInARow++);
    this.options.log.error(`The model host ${how}; restarting it in ${(delay / 1000).toFixed(1)} s`);
    this.setState("crashed", how);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.connection ??= this.start();
      this.connection.then(
        // A host that stays up for a minute resets the backoff.
        () => setTimeout(() => { if (this.state === "ready") this.crashesInARow = 0; }, 60_000).unref(),
        (startError: unknown) => this.options.log.error(describeError(startError)),
      );
    }, delay);
  }

  private setState(state: HostState, detail?: string): void {
    this.state = state;
    this.stateChanged.fire({ state, detail });
  }

  /** Kills the host (for tests of crash handling, and by the user's "restart model host"). */
  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    this.child?.kill(signal);
  }

  dispose(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child) {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
      timer.unref();
      child.once("exit", () => clearTimeout(timer));
    }
  }
}
