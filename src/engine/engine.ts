// The engine of one data folder: what must have one owner per user and folder, today the store
// (its single writer) and which client's team works on each project, served over its private
// socket (server.ts). It exits after `engine.idleMinutes` with no client, or when stopped, closing
// the store cleanly first. main.ts runs it as a process.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { dataFiles } from "../adapters/dataFolder/dataDir";
import { openDataFolderStore } from "../adapters/dataFolder/dataStore";
import { DataFolderSettings } from "../adapters/dataFolder/settings";
import { engineFiles, engineToken } from "../adapters/engine/engineFiles";
import { holdExclusive } from "../adapters/exclusive";
import { describeError, type Logger } from "../core/logger";
import { EngineNotifications } from "../protocol/engine";
import type { Store } from "../core/store/port";
import { engineHandlers, ProjectClaims } from "./handlers";
import { ModelHosting } from "./modelHosting";
import { EngineServer, type EngineClient } from "./server";

/** How long a new engine waits for its first client, whatever the idle setting (0 included). */
const FIRST_CLIENT_MS = 15_000;

export interface EngineOptions {
  dataDir: string;
  log: Logger;
  version: string;
  /** Overrides the setting (tests): how long the engine waits with no client before it exits. */
  idleMs?: number;
  /** The model host's bundle; dist/modelHost.js beside dist/engine.js by default. */
  modelHostEntry?: string;
}

export interface RunningEngine {
  server: EngineServer;
  store: Store;
  /** Closes the socket and the store; resolves once both are closed. */
  stop(): Promise<void>;
  /** Resolves when the engine has stopped, whoever stopped it. */
  stopped: Promise<void>;
}

/** Starts the data folder's engine, or says that one runs already (another process holds it). */
export async function startEngine(options: EngineOptions): Promise<RunningEngine | "running"> {
  const dataDir = path.resolve(options.dataDir);
  const { log } = options;
  const files = engineFiles(dataDir);
  const token = await engineToken(files);
  // Per user and real folder: another user cannot take the name, a symbolic link cannot make two.
  const held = await holdExclusive(`engine ${os.userInfo().uid} ${await fs.realpath(dataDir)}`);
  if (held === "taken") return "running";
  const settings = new DataFolderSettings(dataFiles(dataDir).settings, log);
  const store = await openDataFolderStore(dataDir, settings, log).catch((error: unknown) => {
    if (held !== "unsupported") held.release();
    throw error;
  });
  const idleMs = options.idleMs ?? settings.get("engine.idleMinutes") * 60_000;
  const modelHost = { entry: options.modelHostEntry ?? path.join(__dirname, "modelHost.js"), gpu: settings.get("models.gpu") === "auto" ? ("auto" as const) : (false as const) };
  return serve({ dataDir, token, store, log, idleMs, modelHost, version: options.version, release: () => held !== "unsupported" && held.release() });
}

interface Serving {
  dataDir: string;
  token: string;
  store: Store;
  log: Logger;
  idleMs: number;
  version: string;
  modelHost: { entry: string; gpu: "auto" | false };
  release(): void;
}

async function serve(parts: Serving): Promise<RunningEngine> {
  const { store, log, idleMs } = parts;
  const { socket } = engineFiles(parts.dataDir);
  const claims = new ProjectClaims();
  const startedAt = new Date();
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let exitsAt: Date | undefined;
  let stopping: Promise<void> | undefined;
  let markStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  const stop = (): Promise<void> => (stopping ??= (async () => {
    clearTimeout(idleTimer);
    log.info(`engine: stopping (pid ${process.pid})`);
    models.dispose();
    // The store first: once the socket no longer answers, a client may take the store over.
    await store.close().catch((error: unknown) => log.error(`engine: closing the store: ${describeError(error)}`));
    await server.close().catch((error: unknown) => log.warn(`engine: closing the socket: ${describeError(error)}`));
    parts.release();
    markStopped();
  })());
  /** With no client the idle clock runs; any client stops it. The client that started the engine gets time to connect. */
  const followClients = (clients: readonly EngineClient[], wait = idleMs) => {
    claims.forget(clients);
    models.forget(clients);
    clearTimeout(idleTimer);
    exitsAt = undefined;
    if (clients.length > 0) return;
    exitsAt = new Date(Date.now() + wait);
    idleTimer = setTimeout(() => void stop(), wait);
  };
  const models: ModelHosting = new ModelHosting({
    ...parts.modelHost, log,
    sendToken: (client, streamId, text) => server.notify(client, EngineNotifications.token, { streamId, text }),
    announceState: (state, detail) => server.notifyOthers(undefined, EngineNotifications.hostState, { state, detail }),
  });
  const server: EngineServer = new EngineServer({
    socket, token: parts.token, version: parts.version, dataFolder: parts.dataDir, log,
    store: { kind: store.kind, location: store.location },
    handlers: engineHandlers({ store, version: parts.version, dataFolder: parts.dataDir, startedAt, idleMinutes: idleMs / 60_000, clients: () => server.connected(), exitsAt: () => exitsAt, stop: () => void stop(),
      announceWrite: (writer, collection, doc) => server.notifyOthers(writer, EngineNotifications.written, { collection, doc }), models }, claims),
    onClients: followClients,
  });
  await server.listen();
  followClients([], Math.max(idleMs, FIRST_CLIENT_MS));
  log.info(`engine ${parts.version}: pid ${process.pid}, ${store.kind} store at ${store.location}, socket ${socket}`);
  return { server, store, stop, stopped };
}
