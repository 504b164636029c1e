// State the host pushes to every Redgreen view. Only the "no project" state exists until projects
// are built; later states join this union.
import * as z from "zod";
import type { Protocol } from "./rpc";

export const commandIdSchema = z.string().regex(/^redgreen\.[A-Za-z.]+$/, "must be a redgreen.* command id");

export const noProjectStateSchema = z.object({
  kind: z.literal("noProject"),
  /** The command that creates a project, present only once such a command is registered. */
  createProjectCommand: commandIdSchema.optional(),
});

export const viewStateSchema = z.discriminatedUnion("kind", [noProjectStateSchema]);
export type ViewState = z.infer<typeof viewStateSchema>;

/** The commands a state offers the user; a page may ask the host to run only these. */
export function offeredCommands(state: ViewState): string[] {
  return state.createProjectCommand ? [state.createProjectCommand] : [];
}

/** What a webview reports about what it shows: lets the host (and its tests) see the rendered page. */
export const renderReportSchema = z.object({
  view: z.string(),
  showing: z.enum(["loading", "noProject"]),
  actions: z.array(commandIdSchema),
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
