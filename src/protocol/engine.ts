// The engine's protocol: what a client (the CLI today, the editor next) may ask the one Redgreen
// engine of a data folder, over its local socket (vscode-jsonrpc). Both ends validate with these
// schemas; values cross as `toWire` JSON (dates tagged). A connection must say hello, with the
// user's token, before anything else.
import * as z from "zod";
import { COLLECTION_NAMES } from "../core/store/port";
import { PRIORITIES } from "../core/projects/project";
import { PAIR_STEPS, STEP_ROLES, type PairStep } from "../core/tdd/steps";

/** Bumped when a request or its answer changes shape: a client and engine that differ cannot talk. */
export const ENGINE_PROTOCOL = 3;

export const EngineMethods = {
  hello: "engine/hello",
  status: "engine/status",
  stop: "engine/stop",
  store: "store/op",
  claimProject: "project/claim",
  /** A request for the engine's model host (one per machine, shared by every client). */
  model: "model/host",
  /** The client's team: its settings and model registry, which the engine's team uses for the projects it joins. */
  configureTeam: "team/configure",
  /** The client's team works on the project (claimed as project/claim does), if its folder is trusted there. */
  joinTeam: "team/join",
  plan: "team/plan",
  startPairs: "team/startPairs",
  pausePairs: "team/pausePairs",
  /** Answers once the engine's team has nothing running and nothing ready (tests, review). */
  teamIdle: "team/idle",
} as const;

/** What the engine asks a client: the human's answer, where only the human can give it. */
export const ClientMethods = {
  /** A DEV branch exists already: reuse, recreate or pause (asked of the window whose team it is). */
  decideDev: "human/decideDev",
} as const;

export const helloParams = z.object({
  token: z.string().min(32).max(256),
  protocol: z.number().int(),
  version: z.string().min(1).max(64),
  client: z.enum(["cli", "editor"]),
  pid: z.number().int().positive(),
});

const storeInfo = z.object({ kind: z.enum(["embedded", "mongodb"]), location: z.string() });

export const helloResult = z.object({
  protocol: z.number().int(),
  version: z.string(),
  pid: z.number().int(),
  dataFolder: z.string(),
  store: storeInfo,
});
export type HelloResult = z.infer<typeof helloResult>;

export const pairStatus = z.object({
  id: z.string(),
  projectId: z.string().nullable(),
  ticketId: z.string().nullable(),
  since: z.string().nullable(),
  pausing: z.boolean(),
  /** The step under way, since when, and the model it asks (the Tester's for red, the Developer's for green and refactor). */
  step: z.enum(PAIR_STEPS).nullable().default(null),
  stepSince: z.string().nullable().default(null),
  model: z.string().nullable().default(null),
});
export type PairStatusWire = z.infer<typeof pairStatus>;

/** A pair's status as it crosses a process boundary; `modelOf` names the model a role asks (the step's, if any). */
export function pairWire(pair: { id: string; projectId?: string; ticketId?: string; since?: Date; pausing?: boolean; step?: PairStep; stepSince?: Date }, modelOf: (role: "tester" | "developer") => string | undefined): PairStatusWire {
  const role = pair.step && STEP_ROLES[pair.step];
  return {
    id: pair.id, projectId: pair.projectId ?? null, ticketId: pair.ticketId ?? null, since: pair.since?.toISOString() ?? null, pausing: pair.pausing ?? false,
    step: pair.step ?? null, stepSince: pair.stepSince?.toISOString() ?? null, model: (role && modelOf(role)) || null,
  };
}

export const allocationStatus = z.object({
  projectId: z.string(),
  name: z.string(),
  priority: z.enum(PRIORITIES),
  quota: z.number().min(0).max(1),
  share: z.number().min(0).max(1),
  /** Measured: the share its pairs used, averaged over about a quarter of the review cycle. */
  use: z.number().min(0).max(1),
  pairs: z.number().int().nonnegative(),
});
export type AllocationStatus = z.infer<typeof allocationStatus>;

export const statusResult = z.object({
  pid: z.number().int(),
  version: z.string(),
  startedAt: z.string(),
  dataFolder: z.string(),
  store: storeInfo,
  clients: z.array(z.object({ client: z.enum(["cli", "editor"]), pid: z.number().int(), since: z.string() })),
  /** Which client holds each project (the command changing it: a run, a review, …). */
  teams: z.array(z.object({ projectId: z.string(), clientPid: z.number().int() })),
  idleMinutes: z.number(),
  /** The one model host, once started: its pid and the models loaded (shared by every client). */
  modelHost: z
    .object({
      pid: z.number().int(),
      models: z.array(z.object({ id: z.string(), path: z.string(), busy: z.number().int() })),
      /** Loads in flight (a model being read into memory is not among `models` yet). */
      loading: z.number().int().nonnegative().default(0),
    })
    .nullable()
    .default(null),
  /** When the engine exits if nothing connects meanwhile; null while a client is connected. */
  exitsAt: z.string().nullable(),
  /** The engine's pairs: the ticket each works on, since when, and whether it stops at its next step. */
  pairs: z.array(pairStatus).default([]),
  /** The executing projects whose pairs wait for Start Pair (paused by Pause Pair, auto-start off, not joined trusted yet); absent from an older engine. */
  waitingForStart: z.array(z.string()).optional(),
  /** The Resource Director's last allocation: each busy project's quota and share of the machine (fractions of NOS), and its pairs at work. */
  allocations: z.array(allocationStatus).default([]),
});
export type EngineStatus = z.infer<typeof statusResult>;

export const stopResult = z.object({ stopping: z.literal(true), pid: z.number().int() });

const collection = z.enum(COLLECTION_NAMES as [string, ...string[]]);
const filter = z.record(z.string(), z.unknown());
const findOptions = z.object({
  sort: z.record(z.string(), z.union([z.literal(1), z.literal(-1)])).optional(),
  limit: z.number().int().nonnegative().optional(),
  skip: z.number().int().nonnegative().optional(),
});

/** One operation on the engine's store, as the store port has it. */
export const storeParams = z.discriminatedUnion("op", [
  z.object({ op: z.literal("insert"), collection, doc: z.record(z.string(), z.unknown()) }),
  z.object({ op: z.literal("put"), collection, doc: z.record(z.string(), z.unknown()) }),
  z.object({ op: z.literal("get"), collection, id: z.string() }),
  z.object({ op: z.literal("find"), collection, filter: filter.optional(), options: findOptions.optional() }),
  z.object({ op: z.literal("count"), collection, filter: filter.optional() }),
  z.object({ op: z.literal("delete"), collection, filter }),
  z.object({
    op: z.literal("search"),
    query: z.object({ vector: z.array(z.number()).min(1), k: z.number().int().positive(), embeddingModel: z.string(), projectId: z.string().optional(), tags: z.array(z.string()).optional() }),
  }),
  z.object({ op: z.literal("sweep") }),
]);
export type StoreParams = z.infer<typeof storeParams>;

export const EngineNotifications = {
  /** To every other client, after a write the engine made durable (insert or put). */
  written: "store/written",
  /** To the client whose chat streams: a piece of the reply. */
  token: "model/token",
  /** To every client: the model host's state changed (after a crash every model must be loaded again). */
  hostState: "model/hostState",
} as const;

/** What a client may ask the model host, as the host's own protocol names it (adapters/llm/hostProtocol). */
export const HOST_METHODS = ["model/load", "model/unload", "model/chat", "model/embed", "model/countTokens", "host/info", "server/start", "server/stop"] as const;
export const modelParams = z.object({ method: z.enum(HOST_METHODS), params: z.record(z.string(), z.unknown()) });
export type ModelParams = z.infer<typeof modelParams>;
export const tokenParams = z.object({ streamId: z.string(), text: z.string() });
export const hostStateParams = z.object({ state: z.enum(["starting", "ready", "crashed", "stopped"]), detail: z.string().optional() });

export const writtenParams = z.object({ collection, doc: z.object({ _id: z.string() }).loose() });

/** One client changes a project at a time: another is refused, naming the first. */
export const claimParams = z.object({ projectId: z.string().min(1) });
export const claimResult = z.object({ granted: z.boolean(), holderPid: z.number().int().nullable() });

/** A client's team settings (each key checked by the engine against core/settings) and its registry (checked by parseRegistry). */
export const configureTeamParams = z.object({ settings: z.record(z.string(), z.unknown()), registry: z.record(z.string(), z.unknown()) });
export const joinTeamParams = z.object({ projectId: z.string().min(1), trusted: z.boolean() });
export const projectParams = z.object({ projectId: z.string().min(1) });
/** Idle of one project, or of the whole team without one. */
export const idleParams = z.object({ projectId: z.string().min(1).optional() });
export const startPairsResult = z.enum(["started", "running"]);
export const decideDevParams = z.object({ projectId: z.string(), name: z.string() });
export const decideDevResult = z.enum(["reuse", "recreate", "pause"]);

export const TeamNotifications = {
  /** To the window whose team it is (every editor when none): something the human should know now. */
  notice: "human/notice",
  /** To every client: a pair took a ticket or let it go. */
  pairs: "team/pairs",
} as const;
export const pairsParams = z.object({ pairs: z.array(pairStatus), allocations: z.array(allocationStatus).default([]) });
export const noticeParams = z.object({ level: z.enum(["info", "warn"]), text: z.string(), projectId: z.string() });
