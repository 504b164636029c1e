// State the host pushes to every Redgreen view: no project yet, or the current project.
import * as z from "zod";
import { PRIORITIES, PROJECT_STATES } from "../core/projects/project";
import { commandIdSchema, type CommandId } from "./commands";
import type { Protocol } from "./rpc";

export const noProjectStateSchema = z.object({
  kind: z.literal("noProject"),
  /** The command that creates a project, present only once such a command is registered. */
  createProjectCommand: commandIdSchema.optional(),
});

export const projectSummarySchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  state: z.enum(PROJECT_STATES),
  priority: z.enum(PRIORITIES),
  specPath: z.string().min(1),
  /** Its pairs wait for Start Pair (Pause Pair, auto-start off, the folder not trusted yet): Start Pair means something, Pause Pair does not. Absent when unknown: both are offered. */
  pairsWaitForStart: z.boolean().optional(),
  /** The Resource Director's allocation (fractions of the machine after the reserve), while the project has ready work or pairs. */
  resources: z.object({ quota: z.number().min(0).max(1), share: z.number().min(0).max(1), use: z.number().min(0).max(1), pairs: z.number().int().nonnegative() }).optional(),
});
export type ProjectSummary = z.infer<typeof projectSummarySchema>;

export const projectStateSchema = z.object({
  kind: z.literal("project"),
  project: projectSummarySchema,
  /** Commands the page may offer as buttons (switch project, new project, select models...). */
  commands: z.array(commandIdSchema),
});

export const viewStateSchema = z.discriminatedUnion("kind", [noProjectStateSchema, projectStateSchema]);
export type ViewState = z.infer<typeof viewStateSchema>;

/** The commands a state offers the user; a page may ask the host to run only these. */
export function offeredCommands(state: ViewState): CommandId[] {
  if (state.kind === "project") return state.commands;
  return state.createProjectCommand ? [state.createProjectCommand] : [];
}

/** What a webview reports about what it shows: lets the host (and its tests) see the rendered page. */
export const renderReportSchema = z.object({
  view: z.string(),
  showing: z.enum(["loading", "noProject", "project"]),
  actions: z.array(commandIdSchema),
  /** What else the page shows, view by view (the chat: its messages, a reply streaming...). */
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type RenderReport = z.infer<typeof renderReportSchema>;

const empty = z.object({}).strict();

/** Requests and notifications every Redgreen view understands; each view's protocol extends them. */
export const commonToHost = {
  requests: {
    getState: { params: empty, result: viewStateSchema },
  },
  notifications: {
    runCommand: z.object({ command: commandIdSchema }).strict(),
  },
};

export const commonToWebview = {
  requests: {
    describe: { params: empty, result: renderReportSchema },
  },
  notifications: {
    state: viewStateSchema,
  },
};

/** The part of a view protocol every project view shares; each view extends it with its own messages. */
export interface ProjectViewProtocol extends Protocol {
  toHost: typeof commonToHost;
  toWebview: typeof commonToWebview;
}
