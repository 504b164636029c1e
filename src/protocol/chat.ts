import * as z from "zod";
import { PM_PHASES } from "../core/agents/pmPhases";
import { defineProtocol } from "./rpc";
import { commonToHost, commonToWebview } from "./viewState";

// The Chat view: the human–PM conversation (streamed replies, stop, approval confirmation, spec
// edit proposals) and the agents' own channel, read-only.

const id = z.string().min(1).max(200);
export const channelSchema = z.enum(["human", "agents"]);
export const pmPhaseSchema = z.enum(PM_PHASES);
export type TurnPhase = z.infer<typeof pmPhaseSchema>;

export const chatEntrySchema = z.object({
  id,
  projectId: id,
  channel: channelSchema,
  from: z.string().min(1),
  text: z.string(),
  /** Epoch milliseconds. */
  at: z.number(),
});
export type ChatEntry = z.infer<typeof chatEntrySchema>;

export const turnActionSchema = z.discriminatedUnion("kind", [
  /** The PM understood "approve": the human confirms with a button before anything happens. */
  z.object({ kind: z.literal("confirmApproval"), approvalId: id }),
  z.object({ kind: z.literal("proposal"), proposalId: id, summary: z.string(), section: z.string() }),
]);
export type TurnAction = z.infer<typeof turnActionSchema>;

export const turnEndedSchema = z.object({
  turnId: id,
  outcome: z.enum(["done", "stopped", "failed"]),
  error: z.object({ message: z.string(), noModel: z.boolean() }).optional(),
  action: turnActionSchema.optional(),
});
export type TurnEnded = z.infer<typeof turnEndedSchema>;

export const chatProtocol = defineProtocol({
  view: "chat",
  toHost: {
    requests: {
      ...commonToHost.requests,
      history: { params: z.object({ projectId: id, channel: channelSchema }).strict(), result: z.object({ entries: z.array(chatEntrySchema) }) },
      /** Starts the PM's turn; `resend` retries the last message without recording it again. */
      send: { params: z.object({ projectId: id, text: z.string().trim().min(1).max(20_000), resend: z.boolean().optional() }).strict(), result: z.object({ turnId: id }) },
      /** Only with the id of an approval the host offered (once): a page cannot approve on its own. */
      approveSpec: { params: z.object({ projectId: id, approvalId: id }).strict(), result: z.object({ version: z.number().int().positive().optional() }) },
      showProposal: { params: z.object({ proposalId: id }).strict(), result: z.object({}) },
      decideProposal: { params: z.object({ proposalId: id, accept: z.boolean() }).strict(), result: z.object({ applied: z.boolean() }) },
    },
    notifications: {
      ...commonToHost.notifications,
      stop: z.object({ turnId: id }).strict(),
    },
  },
  toWebview: {
    requests: { ...commonToWebview.requests },
    notifications: {
      ...commonToWebview.notifications,
      entry: chatEntrySchema,
      turnToken: z.object({ turnId: id, text: z.string() }),
      /** The turn's phase changed (since: epoch milliseconds): the page shows it with its elapsed time. */
      turnPhase: z.object({ turnId: id, phase: pmPhaseSchema, since: z.number() }),
      turnEnded: turnEndedSchema,
    },
  },
});
export type ChatProtocol = typeof chatProtocol;
