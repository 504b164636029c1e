import * as z from "zod";
import { columnSchema, SEVERITIES, ticketHistoryEntrySchema } from "../core/store/records";
import { defineProtocol } from "./rpc";
import { commonToHost, commonToWebview } from "./viewState";

// The Kanban view: the current project's tickets as cards, a detail panel, and moves that the
// host checks with the ticket state machine before anything changes.

const id = z.string().min(1).max(200);

export const cardSchema = z.object({
  id,
  title: z.string(),
  column: columnSchema,
  severity: z.enum(SEVERITIES),
  /** Hours. */
  estimate: z.number().nullable(),
  pair: z.string().nullable(),
  passRate: z.number().min(0).max(1).nullable(),
  branch: z.string().nullable(),
  functionalityId: z.string(),
  requirementIds: z.array(z.string()),
  /** Tickets this one waits for that are not done yet. */
  waitingFor: z.array(id),
  /** Why the pair stopped on it and waits for the human ("blocked: …", "needs clarification: …"). */
  attention: z.string().max(2000).optional(),
});
export type Card = z.infer<typeof cardSchema>;

export const ticketDetailSchema = cardSchema.extend({
  description: z.string(),
  goal: z.string(),
  acceptanceCriteria: z.array(z.string()),
  filesChanged: z.array(z.string()),
  blockedBy: z.array(id),
  /** Times as epoch milliseconds: dates do not cross the webview boundary. */
  history: z.array(ticketHistoryEntrySchema.extend({ at: z.number() })),
});
export type TicketDetail = z.infer<typeof ticketDetailSchema>;

export const kanbanProtocol = defineProtocol({
  view: "kanban",
  toHost: {
    requests: {
      ...commonToHost.requests,
      board: { params: z.object({ projectId: id }).strict(), result: z.object({ projectId: id, cards: z.array(cardSchema) }) },
      ticket: { params: z.object({ ticketId: id }).strict(), result: ticketDetailSchema },
      /** A human move; refused (with the reason) when the state machine does not allow it. */
      move: {
        params: z.object({ ticketId: id, to: columnSchema }).strict(),
        result: z.object({ card: cardSchema.optional(), refused: z.string().optional() }),
      },
    },
    notifications: { ...commonToHost.notifications },
  },
  toWebview: {
    requests: { ...commonToWebview.requests },
    notifications: {
      ...commonToWebview.notifications,
      /** A ticket changed anywhere (an agent, planning, another view): the board follows. */
      cardChanged: z.object({ projectId: id, card: cardSchema, removed: z.boolean().optional() }),
    },
  },
});
export type KanbanProtocol = typeof kanbanProtocol;
