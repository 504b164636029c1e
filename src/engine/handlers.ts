// What the engine answers: its status, a stop, the store it owns (as the store port has it, each
// document checked against its collection's schema on the way in), and which client's team works
// on a project. The engine is the store's single writer; clients reach it only through here.
import * as z from "zod";
import { describeIssues } from "../core/logger";
import { COLLECTIONS, type CollectionName, type Store } from "../core/store/port";
import { claimParams, configureTeamParams, EngineMethods, idleParams, joinTeamParams, modelParams, projectParams, statusResult, storeParams, type EngineStatus, type StoreParams } from "../protocol/engine";
import type { ModelHosting } from "./modelHosting";
import { infoResultSchema } from "../adapters/llm/hostProtocol";
import type { EngineClient, RequestHandler } from "./server";
import type { EngineTeam } from "./team";
import type { ProjectClaims } from "./claims";

export interface EngineState {
  store: Store;
  version: string;
  dataFolder: string;
  startedAt: Date;
  idleMinutes: number;
  clients(): readonly EngineClient[];
  exitsAt(): Date | undefined;
  /** Drains and exits (after the answer is sent). */
  stop(): void;
  /** Tells the other clients (and the engine's team) what `writer` wrote, once durable. */
  announceWrite(writer: EngineClient, collection: CollectionName, doc: { _id: string }): void;
  /** The one model host, shared by every client. */
  models: ModelHosting;
  team: EngineTeam;
}

const none = z.object({}).optional();
const STOP_AFTER_ANSWER_MS = 50;

function handler<S extends z.ZodType>(params: S, run: (params: z.output<S>, client: EngineClient, signal: AbortSignal) => Promise<unknown>): RequestHandler {
  return { params, run };
}

export function engineHandlers(state: EngineState, claims: ProjectClaims): Record<string, RequestHandler> {
  return {
    [EngineMethods.status]: handler(none, () => status(state, claims)),
    [EngineMethods.stop]: handler(none, () => {
      // The answer is written asynchronously: stop once it had time to go out.
      setTimeout(() => state.stop(), STOP_AFTER_ANSWER_MS);
      return Promise.resolve({ stopping: true, pid: process.pid });
    }),
    [EngineMethods.store]: handler(storeParams, async (params, client) => {
      if (params.op !== "insert" && params.op !== "put") return storeOp(state.store, params);
      const collection = params.collection as CollectionName;
      const doc = checked(collection, params.doc);
      await state.store.collection(collection)[params.op](doc as never);
      state.announceWrite(client, collection, doc);
      return null;
    }),
    [EngineMethods.claimProject]: handler(claimParams, (params, client) => Promise.resolve(claims.claim(params.projectId, client))),
    [EngineMethods.model]: handler(modelParams, (params, client, signal) => state.models.request(client, params, signal)),
    [EngineMethods.configureTeam]: handler(configureTeamParams, async (params, client) => {
      await state.team.configure(client, params);
      return null;
    }),
    [EngineMethods.joinTeam]: handler(joinTeamParams, async (params, client) => {
      const project = await state.store.collection("projects").get(params.projectId);
      if (!project) throw new Error(`No project ${params.projectId}`);
      return state.team.join(client, project._id, project.root, params.trusted);
    }),
    [EngineMethods.plan]: handler(projectParams, (params, client) => state.team.plan(client, params.projectId)),
    [EngineMethods.startPairs]: handler(projectParams, (params, client) => Promise.resolve(state.team.startPairs(client, params.projectId))),
    [EngineMethods.pausePairs]: handler(projectParams, (params, client) => state.team.pausePairs(client, params.projectId)),
    [EngineMethods.teamIdle]: handler(idleParams, async (params, _client, signal) => {
      await Promise.race([state.team.idle(params.projectId), new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("cancelled")), { once: true }))]);
      return null;
    }),
  };
}

async function status(state: EngineState, claims: ProjectClaims): Promise<EngineStatus> {
  const host = infoResultSchema.safeParse(await state.models.info().catch(() => undefined));
  return statusResult.parse({
    modelHost: host.success ? { pid: host.data.pid, models: host.data.models.map(({ id, path, busy }) => ({ id, path, busy })), loading: state.models.loading() } : null,
    pid: process.pid,
    version: state.version,
    startedAt: state.startedAt.toISOString(),
    dataFolder: state.dataFolder,
    store: { kind: state.store.kind, location: state.store.location },
    clients: state.clients().map((c) => ({ client: c.client, pid: c.pid, since: c.since.toISOString() })),
    teams: claims.list(),
    idleMinutes: state.idleMinutes,
    exitsAt: state.exitsAt()?.toISOString() ?? null,
    pairs: state.team.pairs(),
    waitingForStart: await state.team.waitingForStart(),
    allocations: state.team.allocations(),
  });
}

/** A document bound for a collection, checked against its schema: the error names the collection and the field. */
function checked(name: string, doc: Record<string, unknown>): { _id: string } {
  const parsed = COLLECTIONS[name as CollectionName].schema.safeParse(doc);
  if (!parsed.success) throw new Error(`Not a valid ${name} document: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** The store's reads, deletes and sweeps (writes go through the handler, which announces them). */
async function storeOp(store: Store, params: Exclude<StoreParams, { op: "insert" | "put" }>): Promise<unknown> {
  if (params.op === "search") return (await store.searchMemories?.(params.query)) ?? null;
  if (params.op === "sweep") return store.sweepExpired();
  const collection = store.collection(params.collection as CollectionName);
  switch (params.op) {
    case "get":
      return (await collection.get(params.id)) ?? null;
    case "find":
      return collection.find(params.filter, params.options);
    case "count":
      return collection.count(params.filter);
    case "delete":
      return collection.delete(params.filter);
  }
}
