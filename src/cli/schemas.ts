// The --json shapes, one zod schema per command: the contract scripts rely on. Every command
// checks its output against its schema before printing it, and the tests check what they read.
// Stable: fields are only ever added; times are ISO 8601 strings; absent values are null.
// See README.md in this folder for the table of commands and shapes.
import * as z from "zod";
import { statusResult } from "../protocol/engine";
import { ROLES } from "../core/models/registry";
import { PRIORITIES, PROJECT_STATES } from "../core/projects/project";
import { COLUMNS, SEVERITIES } from "../core/store/records";

const iso = z.iso.datetime();
const column = z.enum(COLUMNS);

export const projectJson = z.object({
  id: z.string(),
  name: z.string(),
  root: z.string(),
  priority: z.enum(PRIORITIES),
  state: z.enum(PROJECT_STATES),
  testCommand: z.string(),
  remote: z.string().nullable(),
  specPath: z.string(),
  /** The branch no agent writes to; null for a project not planned since before it was recorded. */
  protectedBranch: z.string().nullable(),
  /** `root` joined with `specPath`. */
  specFile: z.string(),
  createdAt: iso,
  updatedAt: iso,
});

const projectRef = z.object({ id: z.string(), name: z.string() });

export const initOutput = z.object({ project: projectJson, specFile: z.string() });

export const projectsOutput = z.object({ projects: z.array(projectJson) });

export const trustOutput = z.object({ folders: z.array(z.object({ folder: z.string(), trusted: z.boolean() })) });

export const cardJson = z.object({
  id: z.string(),
  title: z.string(),
  column,
  severity: z.enum(SEVERITIES),
  estimate: z.number().nullable(),
  pair: z.string().nullable(),
  passRate: z.number().nullable(),
  branch: z.string().nullable(),
  functionalityId: z.string(),
  requirementIds: z.array(z.string()),
  /** Tickets this one is blocked by that are not done yet. */
  blockedBy: z.array(z.string()),
  /** Why its pair stopped and waits for the human ("blocked: …", "needs clarification: …"), or null. */
  waitingForHuman: z.string().nullable(),
});

export const statusOutput = z.object({
  project: projectJson,
  spec: z.object({
    approvedVersion: z.number().int().nullable(),
    approvedAt: iso.nullable(),
    /** Whether the file on disk differs from the approved version (null: no approved version, or no file). */
    changedSinceApproval: z.boolean().nullable(),
  }),
  /** Ticket ids per column, withdrawn tickets left out. */
  tickets: z.object(Object.fromEntries(COLUMNS.map((c) => [c, z.array(z.string())])) as Record<(typeof COLUMNS)[number], z.ZodArray<z.ZodString>>),
  waitingForHuman: z.array(z.object({ ticket: z.string(), title: z.string(), pair: z.string().nullable(), reason: z.string() })),
  /** Each pair's ticket: tickets with an assigned pair that are in progress or in review. */
  pairs: z.array(z.object({ pair: z.string(), ticket: z.string(), column })),
  /** The Resource Director's allocation for the project (fractions of the machine's capacity after the reserve); null when no engine runs or the project has no ready work. */
  resources: z.object({ quota: z.number(), share: z.number(), use: z.number(), pairs: z.number().int() }).nullable().default(null),
});

export const boardOutput = z.object({
  project: projectRef,
  columns: z.array(z.object({ column, name: z.string(), tickets: z.array(cardJson) })),
});

export const specApproveOutput = z.object({
  project: projectRef,
  version: z.number().int().positive(),
  /** The commit that recorded the file (null for a version approved before commits were made). */
  commit: z.string().nullable(),
  state: z.enum(PROJECT_STATES),
  /** True when this text was approved already and nothing new was stored. */
  alreadyApproved: z.boolean(),
});

export const specDiffOutput = z.object({
  project: projectRef,
  specFile: z.string(),
  approvedVersion: z.number().int().nullable(),
  changed: z.boolean(),
  /** Unified diff, approved version (a/) to the file on disk (b/); empty when unchanged. */
  diff: z.string(),
});

export const reviewTicketJson = z.object({
  ticket: z.string(),
  title: z.string(),
  project: projectRef,
  functionalityId: z.string(),
  branch: z.string(),
  /** The branch it merges into. */
  target: z.string(),
  pair: z.string().nullable(),
});

export const reviewListOutput = z.object({ tickets: z.array(reviewTicketJson) });

export const fileChangeJson = z.object({ status: z.enum(["added", "modified", "deleted"]), path: z.string() });

export const reviewDiffOutput = z.object({
  ticket: z.string(),
  branch: z.string(),
  target: z.string(),
  /** Where the branch forked from its target: the left side. */
  base: z.string(),
  head: z.string(),
  files: z.array(fileChangeJson),
  /** Changed files that act later, outside the sandbox (CI definitions): approval needs --confirm-ci. */
  flagged: z.array(z.string()),
  diff: z.string(),
});

export const reviewApproveOutput = z.object({
  ticket: z.string(),
  column,
  branch: z.string(),
  target: z.string(),
  commit: z.string(),
  confirmedFiles: z.array(z.string()),
  /** What completing the functionality (feature branch into DEV) did after the merge. */
  completion: z.object({ kind: z.string(), detail: z.string() }),
});

export const requestChangesOutput = z.object({ ticket: z.string(), column, comment: z.string() });

export const modelsListOutput = z.object({
  models: z.array(z.object({
    id: z.string(),
    backend: z.enum(["local", "openai"]),
    /** The GGUF file (local) or the server's base URL (openai). */
    location: z.string(),
    remoteModel: z.string().nullable(),
    contextSize: z.number().int(),
    profile: z.enum(["small", "heavy"]),
    embedding: z.boolean(),
    roles: z.array(z.enum(ROLES)),
  })),
  roles: z.array(z.object({
    role: z.enum(ROLES),
    model: z.string(),
    fallback: z.string().nullable(),
    /** Whether the registry defines the model the role names (the defaults name models without files). */
    defined: z.boolean(),
  })),
  layers: z.array(z.object({ source: z.string(), file: z.string().nullable(), status: z.enum(["loaded", "absent", "skipped", "invalid"]), problem: z.string().nullable() })),
  dropped: z.array(z.object({ id: z.string(), source: z.string(), reason: z.enum(["remote", "apiKey", "userModel"]), url: z.string().nullable() })),
});

export const logsOutput = z.object({
  project: projectRef,
  entries: z.array(z.object({
    at: iso,
    kind: z.enum(["log", "message"]),
    from: z.string(),
    level: z.enum(["debug", "info", "warn", "error"]).nullable(),
    channel: z.enum(["human", "agents"]).nullable(),
    ticketId: z.string().nullable(),
    text: z.string(),
  })),
});

export const planOutput = z.object({
  project: projectRef,
  outcome: z.enum(["planned", "replanned", "paused", "failed"]),
  message: z.string().nullable(),
  tickets: z.number().int(),
});

export const runOutput = z.object({
  project: projectRef,
  state: z.string(),
  /** Ticket ids per column when the team stopped, withdrawn tickets left out. */
  tickets: z.object(Object.fromEntries(COLUMNS.map((c) => [c, z.array(z.string())])) as Record<(typeof COLUMNS)[number], z.ZodArray<z.ZodString>>),
  waitingForHuman: z.array(z.object({ ticket: z.string(), title: z.string(), reason: z.string() })),
  /** 0: every ticket in review or done; 2: something waits for the human; 130: interrupted. */
  exitCode: z.union([z.literal(0), z.literal(2), z.literal(130)]),
});

export const projectStateOutput = z.object({ project: projectRef, state: z.string() });

/** `engine status`: whether the data folder's engine runs, and what it says of itself. */
export const engineStatusOutput = z.object({ dataFolder: z.string(), running: z.boolean(), engine: statusResult.nullable() });

/** `engine stop`: which engine stopped, if one ran. */
export const engineStopOutput = z.object({ dataFolder: z.string(), stopped: z.boolean(), pid: z.number().int().nullable() });
