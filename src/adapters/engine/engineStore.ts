// The editor's way to its store: the data folder's engine (started from the extension's own
// dist/engine.js when none answers), its store over the socket, and the engine's project claims,
// so that every window and the CLI of a data folder share one store and one team per project.
import path from "node:path";
import type { Logger } from "../../core/logger";
import type { Store } from "../../core/store/port";
import * as z from "zod";
import type { DevDecision, PlanningOutcome } from "../../core/agents/planning";
import type { Disposable } from "../../core/lifecycle";
import { ClientMethods, claimResult, decideDevParams, EngineMethods, noticeParams, pairsParams, projectParams, startPairsResult, statusResult, TeamNotifications } from "../../protocol/engine";
import { resolveDataDir } from "../dataFolder/dataDir";
import { EngineConnection } from "./engineClient";
import { RemoteStore } from "./remoteStore";

/** Which engine an editor connects to, and how it starts one. */
export interface EditorEngine {
  /** `redgreen.engine.dataFolder`: empty means `$REDGREEN_DATA`, else the OS user data folder (as the CLI). */
  dataFolder: string;
  /** The folder holding engine.js (the extension's dist/). */
  distFolder: string;
  version: string;
  log: Logger;
}

export interface EngineStoreOptions extends EditorEngine {
  /** The engine hung up (stopped or crashed): the store is gone until opened again. */
  onLost(why: string): void;
}

/** Connects an editor to its data folder's engine, starting the engine when none answers. */
export function connectEditor(options: EditorEngine): Promise<EngineConnection> {
  return EngineConnection.open({
    dataDir: resolveDataDir(options.dataFolder || undefined),
    entry: path.join(options.distFolder, "engine.js"),
    version: options.version,
    client: "editor",
    log: options.log,
  });
}

/** The store, and the engine it goes through with its project claims (what features/store/storeService calls an EngineLink). */
export async function openEngineStore(options: EngineStoreOptions) {
  const connection = await connectEditor(options);
  connection.onLost((why) => options.onLost(why));
  const engine = {
    pid: connection.engine.pid,
    dataFolder: connection.engine.dataFolder,
    /** Undefined when this client may change the project (it holds it now), else who holds it. */
    claim: async (projectId: string): Promise<{ holderPid: number } | undefined> => {
      const claim = await connection.request(EngineMethods.claimProject, { projectId }, claimResult);
      return claim.granted ? undefined : { holderPid: claim.holderPid ?? 0 };
    },
  };
  const store: Store = new RemoteStore(connection, options.log);
  return { store, engine: { ...engine, team: engineTeamLink(connection, options.log) } };
}

/** A planning outcome as it crosses the socket: its kind is checked; the rest is the engine's record. */
const planningOutcome = z.object({ kind: z.enum(["planned", "replanned", "paused", "failed"]), message: z.string().optional() }).loose();

/** The engine's team as a client reaches it. */
export type EngineTeamLink = ReturnType<typeof engineTeamLink>;

/** The engine's team, reached over a client's connection (a window's, or the command line's `run`). */
export function engineTeamLink(connection: EngineConnection, log: Logger) {
  const onProject = (method: string) => (projectId: string) => connection.request(method, projectParams.parse({ projectId }), z.unknown());
  return {
    configure: async (settings: Record<string, unknown>, registry: Record<string, unknown>) => void (await connection.request(EngineMethods.configureTeam, { settings, registry }, z.null())),
    join: async (projectId: string, trusted: boolean): Promise<{ holderPid: number } | undefined> => {
      const claim = await connection.request(EngineMethods.joinTeam, { projectId, trusted }, claimResult);
      return claim.granted ? undefined : { holderPid: claim.holderPid ?? 0 };
    },
    plan: async (projectId: string) => planningOutcome.parse(await onProject(EngineMethods.plan)(projectId)) as PlanningOutcome,
    startPairs: async (projectId: string) => startPairsResult.parse(await onProject(EngineMethods.startPairs)(projectId)),
    pausePairs: async (projectId: string) => z.boolean().parse(await onProject(EngineMethods.pausePairs)(projectId)),
    idle: async (projectId?: string) => void (await connection.request(EngineMethods.teamIdle, projectId ? { projectId } : {}, z.null())),
    pairs: async () => (await connection.request(EngineMethods.status, {}, statusResult)).pairs,
    allocations: async () => (await connection.request(EngineMethods.status, {}, statusResult)).allocations,
    waitingForStart: async () => (await connection.request(EngineMethods.status, {}, statusResult)).waitingForStart,
    onDecideDev: (answer: (projectId: string, name: string) => Promise<DevDecision>): Disposable =>
      connection.onRequest(ClientMethods.decideDev, decideDevParams, ({ projectId, name }) => answer(projectId, name)),
    onNotice: (listener: (notice: z.infer<typeof noticeParams>) => void): Disposable => connection.onNotification(TeamNotifications.notice, noticeParams, listener, log),
    onPairsChanged: (listener: () => void): Disposable => connection.onNotification(TeamNotifications.pairs, pairsParams, listener, log),
  };
}
