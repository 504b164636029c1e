import * as z from "zod";
import { COLUMNS, SEVERITIES, ticketHistoryEntrySchema } from "../core/store/records";
import { PAIR_STEPS } from "../core/tdd/steps";
import { defineProtocol } from "./rpc";
import { commonToHost, commonToWebview } from "./viewState";

// The Kanban view: the current project's tickets as cards, a detail panel, and moves that the
// host checks with the ticket state machine before anything changes.

const id = z.string().min(1).max(200);

/** A board column's id. The page learns the columns, their order and names, from the host. */
export const columnIdSchema = z.enum(COLUMNS);
export type ColumnId = z.infer<typeof columnIdSchema>;

/** A column as the board shows it: the board reply lists them in their order, left to right. */
export const columnInfoSchema = z.object({ id: columnIdSchema, name: z.string().min(1).max(100) });
export type ColumnInfo = z.infer<typeof columnInfoSchema>;

/**
 * A move the state machine offers from the card's column (the detail panel's buttons, the lanes
 * that take the card's drop), as the host judges it now: the page offers and pre-judges moves
 * with these instead of carrying a copy of the rules. Every other column is refused, and the
 * host's answer to the move says why: those reasons are not sent with every card, since they
 * would more than double a 1,000-card board reply that the page never reads.
 */
export const cardMoveSchema = z.object({
  to: columnIdSchema,
  /** Why the host would refuse the move now (a blocker not done); absent when it would make it. */
  refused: z.string().max(2000).optional(),
});
export type CardMove = z.infer<typeof cardMoveSchema>;

export const cardWorkSchema = z.object({
  pair: z.string().max(100),
  step: z.enum(PAIR_STEPS),
  since: z.number(),
  model: z.string().max(200).nullable(),
  stopping: z.boolean(),
});
export type CardWork = z.infer<typeof cardWorkSchema>;

export const cardSchema = z.object({
  id,
  title: z.string(),
  column: columnIdSchema,
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
  /** Why the Resource Director gave its pair's slot to another project, and since when (epoch milliseconds). */
  directorPause: z.object({ reason: z.string().max(2000), since: z.number() }).optional(),
  /** The moves offered from the card's column, in board order. */
  moves: z.array(cardMoveSchema).max(COLUMNS.length - 1),
  /** A pair works on it now: the step, since when (epoch milliseconds), the model it asks, and whether the pair stops at its next step boundary. */
  work: cardWorkSchema.optional(),
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
      board: {
        params: z.object({ projectId: id }).strict(),
        result: z.object({ projectId: id, columns: z.array(columnInfoSchema).min(1), cards: z.array(cardSchema) }),
      },
      /** The columns alone, for the empty state (no project, so no board to ask for). */
      columns: { params: z.object({}).strict(), result: z.array(columnInfoSchema).min(1) },
      ticket: { params: z.object({ ticketId: id }).strict(), result: ticketDetailSchema },
      /** A human move; refused (with the reason) when the state machine does not allow it. */
      move: {
        params: z.object({ ticketId: id, to: columnIdSchema }).strict(),
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
