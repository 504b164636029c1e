// The engine of one data folder: what must have one owner per user and folder, today the store
// (its single writer) and which client's team works on each project, served over its private
// socket (server.ts). It exits after `engine.idleMinutes` with no client, or when stopped, closing
// the store cleanly first. main.ts runs it as a process.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Machine } from "../core/resources/policy";
import { dataFiles } from "../adapters/dataFolder/dataDir";
import { openDataFolderStore } from "../adapters/dataFolder/dataStore";
import { DataFolderSettings } from "../adapters/dataFolder/settings";
import { engineFiles, engineToken } from "../adapters/engine/engineFiles";
import { holdExclusive } from "../adapters/exclusive";
import { describeError, type Logger } from "../core/logger";
import type { SettingsReader } from "../core/orchestrator/settingsReader";
import { ClientMethods, decideDevResult, EngineNotifications, TeamNotifications } from "../protocol/engine";
import type { Store } from "../core/store/port";
import { ProjectClaims } from "./claims";
import { engineHandlers } from "./handlers";
import { ModelHosting } from "./modelHosting";
import { EngineServer, type EngineClient } from "./server";
import { SharedStore } from "./sharedStore";
import { EngineTeam } from "./team";

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
  return serve({ dataDir, token, store, settings, log, idleMs, modelHost, version: options.version, release: () => held !== "unsupported" && held.release() });
}

interface Serving {
  dataDir: string;
  token: string;
  store: Store;
  settings: SettingsReader;
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
    await team.stop().catch((error: unknown) => log.error(`engine: stopping the team: ${describeError(error)}`));
    models.dispose();
    // The store first: once the socket no longer answers, a client may take the store over.
    await store.close().catch((error: unknown) => log.error(`engine: closing the store: ${describeError(error)}`));
    await server.close().catch((error: unknown) => log.warn(`engine: closing the socket: ${describeError(error)}`));
    parts.release();
    markStopped();
  })());
  /** With no client the idle clock runs; any client stops it. The client that started the engine gets time to connect. */
  const followClients = (clients: readonly EngineClient[], wait = idleMs) => {
    team.clientsLeft(clients);
    claims.forget(clients);
    models.forget(clients);
    clearTimeout(idleTimer);
    exitsAt = undefined;
    if (clients.length > 0) return;
    exitsAt = new Date(Date.now() + wait);
    idleTimer = setTimeout(() => exitIfIdle(), wait);
  };
  /** With no client the engine exits, but not under a working pair (engine.keepWorking): it looks again later. */
  const exitIfIdle = () => {
    if (!team.busy()) return void stop();
    exitsAt = new Date(Date.now() + idleMs);
    idleTimer = setTimeout(() => exitIfIdle(), Math.max(idleMs, FIRST_CLIENT_MS));
  };
  const models: ModelHosting = new ModelHosting({
    ...parts.modelHost, log,
    sendToken: (client, streamId, text) => server.notify(client, EngineNotifications.token, { streamId, text }),
    announceState: (state, detail) => server.notifyOthers(undefined, EngineNotifications.hostState, { state, detail }),
  });
  // The team's writes reach every client; the clients' writes reach the team.
  const shared = new SharedStore(store, (collection, doc) => server.notifyOthers(undefined, EngineNotifications.written, { collection, doc }));
  const team = await EngineTeam.open({
    store: shared, log, hosting: models, claims, machine: parts.settings, measure: measureMachine,
    pairsChanged: (pairs, allocations) => server.notifyOthers(undefined, TeamNotifications.pairs, { pairs, allocations }),
    decideDev: (client, project) => server.ask(client, ClientMethods.decideDev, { projectId: project._id, name: project.name }, decideDevResult),
    notify: (client, level, text, projectId) => (client ? server.notify(client, TeamNotifications.notice, { level, text, projectId }) : server.notifyOthers(undefined, TeamNotifications.notice, { level, text, projectId })),
  });
  const server: EngineServer = new EngineServer({
    socket, token: parts.token, version: parts.version, dataFolder: parts.dataDir, log,
    store: { kind: store.kind, location: store.location },
    handlers: engineHandlers({ store, version: parts.version, dataFolder: parts.dataDir, startedAt, idleMinutes: idleMs / 60_000, clients: () => server.connected(), exitsAt: () => exitsAt, stop: () => void stop(),
      announceWrite: (writer, collection, doc) => {
        server.notifyOthers(writer, EngineNotifications.written, { collection, doc });
        shared.clientWrote(collection, doc);
      },
      models, team }, claims),
    onClients: followClients,
  });
  await server.listen();
  followClients([], Math.max(idleMs, FIRST_CLIENT_MS));
  log.info(`engine ${parts.version}: pid ${process.pid}, ${store.kind} store at ${store.location}, socket ${socket}`);
  return { server, store, stop, stopped };
}

/** The cores and memory the Resource Director shares (before the reserve): a container's memory limit when it has one. */
function measureMachine(): Machine {
  const limit = process.constrainedMemory?.() ?? 0;
  const memoryBytes = limit > 0 ? Math.min(os.totalmem(), limit) : os.totalmem();
  return { cores: os.availableParallelism(), memoryBytes };
}
