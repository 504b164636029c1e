import * as z from "zod";
import { PRIORITIES, PROJECT_STATES } from "../projects/project";

// The documents Redgreen keeps, one zod schema per collection. Every adapter validates with these
// on write and on read, so a document that does not fit is reported where it was found.
// Ids are strings (UUIDs), not ObjectIds, so documents move between adapters unchanged.
// Times are Dates: MongoDB's TTL indexes only act on BSON dates.

const id = z.string().min(1).max(200);
const at = z.date();
/** When the document may be dropped (retention); absent means kept for good. */
const expiresAt = z.date().optional();

export const COLUMNS = ["backlog", "todo", "inprogress", "review", "done"] as const;
export const columnSchema = z.enum(COLUMNS);
export const SEVERITIES = ["low", "medium", "high", "critical"] as const;

export const projectSchema = z.object({
  _id: id,
  name: z.string().min(1),
  /** The project's folder on disk (a git repository). */
  root: z.string().min(1),
  /** Higher runs first when projects compete for the machine. */
  priority: z.enum(PRIORITIES),
  state: z.enum(PROJECT_STATES),
  /** The command that runs the project's tests, in its folder. */
  testCommand: z.string().min(1),
  remote: z.string().optional(),
  /** The spec file, relative to `root`. */
  specPath: z.string().min(1),
  /** The branch no agent ever writes to (DEV comes from it), recorded at creation or first planning, never inferred again. */
  protectedBranch: z.string().min(1).max(200).optional(),
  /** sha256 of the approved spec the tickets were last planned from: what re-planning diffs against. */
  plannedSpecHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  createdAt: at,
  updatedAt: at,
});

export const ticketHistoryEntrySchema = z.object({
  at,
  by: z.string().min(1),
  from: columnSchema.optional(),
  to: columnSchema.optional(),
  note: z.string().optional(),
});

// SPEC-001's ticket fields, plus what the TDD workflow needs: functionality id, acceptance
// criteria, branch, blocked-by and the history of every move.
export const ticketSchema = z.object({
  _id: id,
  projectId: id,
  functionalityId: z.string().min(1),
  title: z.string().min(1),
  description: z.string(),
  goal: z.string().min(1),
  acceptanceCriteria: z.array(z.string().min(1)),
  /** The spec requirements (R-n) this ticket serves. */
  requirementIds: z.array(z.string().regex(/^R-\d+$/)).default([]),
  column: columnSchema,
  severity: z.enum(SEVERITIES),
  timeEstimate: z.number().nonnegative().nullable(),
  assignedPair: z.string().nullable(),
  filesChanged: z.array(z.string()),
  testPassRate: z.number().min(0).max(1).nullable(),
  branch: z.string().nullable(),
  blockedBy: z.array(id),
  /** Set when re-planning withdrew the ticket (its requirements left the spec); kept for its history. */
  withdrawn: z.boolean().optional(),
  /** Why the ticket waits for the human: set when its pair stops for them, cleared by the move that resumes it. */
  waiting: z.object({ kind: z.enum(["blocked", "needsClarification"]), text: z.string(), since: at }).optional(),
  /** Set when the Resource Director gave its pair's slot to another project (why, since when); cleared when a pair takes it again. */
  directorPause: z.object({ reason: z.string(), since: at }).optional(),
  history: z.array(ticketHistoryEntrySchema),
  createdAt: at,
  updatedAt: at,
});

/** Who speaks: the human or an agent role. */
const speaker = z.string().min(1).max(40);

export const conversationSchema = z.object({
  _id: id,
  projectId: id,
  ticketId: id.optional(),
  functionalityId: z.string().optional(),
  /** "human" is the human–PM chat; "agents" the agent–agent channel. */
  channel: z.enum(["human", "agents"]),
  from: speaker,
  text: z.string(),
  at,
  expiresAt,
});

export const WORKING_KINDS = ["message", "event", "summary"] as const;

export const workingEntrySchema = z.object({
  _id: id,
  projectId: id,
  /** Order of writing, across restarts: the capped collection's natural order, made explicit. */
  seq: z.number().int().nonnegative(),
  ticketId: id.optional(),
  kind: z.enum(WORKING_KINDS),
  from: speaker,
  text: z.string(),
  /** For a summary: the entries up to this seq (same project and ticket) that it replaces. */
  replacesUpTo: z.number().int().nonnegative().optional(),
  at,
});

export const memorySchema = z.object({
  _id: id,
  projectId: id,
  text: z.string().min(1),
  tags: z.array(z.string().min(1)),
  embedding: z.array(z.number()).min(1),
  /** The embedding model that made the vector; vectors of different models are not comparable. */
  embeddingModel: z.string().min(1),
  at,
});

export const agentLogSchema = z.object({
  _id: id,
  projectId: id,
  ticketId: id.optional(),
  functionalityId: z.string().optional(),
  role: speaker,
  level: z.enum(["debug", "info", "warn", "error"]),
  message: z.string(),
  at,
  expiresAt,
});

export const specVersionSchema = z.object({
  _id: id,
  projectId: id,
  version: z.number().int().positive(),
  text: z.string(),
  /** sha256 of `text`: what "the approved version" is compared by. */
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** The commit that recorded this version, when it was committed. */
  commit: z.string().optional(),
  author: speaker,
  approved: z.boolean(),
  at,
});

export const snippetSchema = z.object({
  _id: id,
  projectId: id,
  ticketId: id.optional(),
  path: z.string().min(1),
  language: z.string(),
  code: z.string(),
  tags: z.array(z.string()),
  at,
});

export type Project = z.infer<typeof projectSchema>;
export type Ticket = z.infer<typeof ticketSchema>;
export type Column = z.infer<typeof columnSchema>;
export type Conversation = z.infer<typeof conversationSchema>;
export type WorkingEntry = z.infer<typeof workingEntrySchema>;
export type Memory = z.infer<typeof memorySchema>;
export type AgentLog = z.infer<typeof agentLogSchema>;
export type SpecVersion = z.infer<typeof specVersionSchema>;
export type Snippet = z.infer<typeof snippetSchema>;
