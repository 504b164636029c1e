// A client's way to the engine's model host (one per machine): the host protocol's requests go
// through the engine's socket, streamed tokens come back as notifications, and the host's state
// (a crash loses every model) is followed so that the ModelManager loads its models again. The
// connection is opened on the first request, and again on the next one after the engine went.
import type * as z from "zod";
import type { RequestType } from "vscode-jsonrpc";
import { Emitter, type Disposable } from "../../core/lifecycle";
import type { Logger } from "../../core/logger";
import { EngineMethods, EngineNotifications, hostStateParams, HOST_METHODS, tokenParams, type ModelParams } from "../../protocol/engine";
import type { ModelHostChannel } from "../llm/localBackend";
import type { HostState } from "../llm/modelHostProcess";
import { TokenStreams } from "../llm/tokenStreams";
import type { EngineConnection } from "./engineClient";

export class EngineModelHost implements ModelHostChannel, Disposable {
  state: HostState = "stopped";
  private connection: Promise<EngineConnection> | undefined;
  private live: EngineConnection | undefined;
  private readonly streams = new TokenStreams();
  private readonly stateChanged = new Emitter<{ state: HostState; detail: string | undefined }>();
  private following: Disposable[] = [];
  private disposed = false;

  /**
   * `open` gives the connection; `owned`: this host opened it for itself and closes it on dispose
   * (the editor's), else it is shared with the store and closed by its owner (the CLI's).
   */
  constructor(private readonly open: () => Promise<EngineConnection>, private readonly log: Logger, private readonly owned: boolean) {}

  onDidChangeState(listener: (state: HostState, detail?: string) => void): Disposable {
    return this.stateChanged.event(({ state, detail }) => listener(state, detail));
  }

  async request<S extends z.ZodType>(
    type: RequestType<unknown, unknown, void>,
    params: unknown,
    resultSchema: S,
    options: { signal?: AbortSignal; onToken?: (text: string) => void } = {},
  ): Promise<z.output<S>> {
    const method = HOST_METHODS.find((name) => name === type.method);
    if (!method) throw new Error(`The engine's model host has no request ${type.method}`);
    const connection = await this.connect();
    const streamId = this.streams.open(options.onToken);
    try {
      const request: ModelParams = { method, params: { ...(params as Record<string, unknown>), ...(streamId ? { streamId } : {}) } };
      return await connection.request(EngineMethods.model, request, resultSchema, options.signal);
    } finally {
      this.streams.close(streamId);
    }
  }

  private connect(): Promise<EngineConnection> {
    if (this.disposed) return Promise.reject(new Error("The model host connection was closed"));
    // A connection that went before its loss could be followed (or a shared one closed) is replaced.
    if (this.live && !this.live.isOpen) this.connection = this.live = undefined;
    this.connection ??= this.open().then(
      (connection) => this.follow(connection),
      (error: unknown) => {
        this.connection = undefined;
        throw error;
      },
    );
    return this.connection;
  }

  private follow(connection: EngineConnection): EngineConnection {
    for (const following of this.following) following.dispose();
    this.live = connection;
    this.following = [
      connection.onNotification(EngineNotifications.token, tokenParams, ({ streamId, text }) => this.streams.deliver(streamId, text), this.log),
      connection.onNotification(EngineNotifications.hostState, hostStateParams, ({ state, detail }) => this.setState(state, detail), this.log),
      // The engine went, and every model with it: the next request starts or finds another (see connect).
      connection.onLost((why) => this.setState("crashed", why)),
    ];
    this.setState("ready", `through the engine, pid ${connection.engine.pid}`);
    return connection;
  }

  /**
   * Lets go of the engine (its data folder changed, say): every model is forgotten, as after a
   * crash, and the next request connects to whichever engine the settings name then.
   */
  reconnect(why: string): void {
    this.release();
    this.setState("crashed", why);
  }

  /** Stops following the connection, and closes it when this host opened it. */
  private release(): void {
    for (const following of this.following) following.dispose();
    this.following = [];
    const previous = this.connection;
    this.connection = this.live = undefined;
    if (this.owned) void previous?.then((connection) => connection.dispose(), () => undefined);
  }

  private setState(state: HostState, detail: string | undefined): void {
    this.state = state;
    this.stateChanged.fire({ state, detail });
  }

  dispose(): void {
    this.disposed = true;
    this.release();
    this.stateChanged.dispose();
  }
}
