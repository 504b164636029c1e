// The Kanban board's host side: cards and details from the Memory Manager, human moves checked
// by the ticket state machine, and live updates whenever a ticket changes. A human move on a
// project that is already planned puts it on hold for the PM and the Architect to re-review
// (SPEC-001: the human may edit the board at any time; the agents then re-validate).
import type * as vscode from "vscode";
import { describeError, type Logger } from "../../core/logger";
import type { MemoryManager } from "../../core/memory/memoryManager";
import { TicketMoveError } from "../../core/memory/ticketRecords";
import { COLUMNS, type Ticket } from "../../core/store/records";
import { holdAfterHumanMove } from "../../core/orchestrator/projectRules";
import { canMove, COLUMN_NAMES, refuseMove, stoppedFor } from "../../core/tickets/ticketRules";
import type { Card, CardMove, ColumnInfo, kanbanProtocol, TicketDetail } from "../../protocol/kanban";
import type { WebviewViewHost } from "../../platform/webview/viewHost";
import type { StoreService } from "../store/storeService";

/** The columns in board order, with the names the board shows: the page has no copy of its own. */
export const BOARD_COLUMNS: ColumnInfo[] = COLUMNS.map((id) => ({ id, name: COLUMN_NAMES[id] }));

export function toCard(ticket: Ticket, all: ReadonlyMap<string, Ticket>): Card {
  const attention = stoppedFor(ticket);
  return {
    id: ticket._id, title: ticket.title, column: ticket.column, severity: ticket.severity, estimate: ticket.timeEstimate,
    pair: ticket.assignedPair, passRate: ticket.testPassRate, branch: ticket.branch, functionalityId: ticket.functionalityId,
    requirementIds: ticket.requirementIds, waitingFor: ticket.blockedBy.filter((id) => all.get(id)?.column !== "done"),
    ...(attention ? { attention: attention.slice(0, 2000) } : {}),
    ...(ticket.directorPause && ticket.column === "inprogress" ? { directorPause: { reason: ticket.directorPause.reason.slice(0, 2000), since: ticket.directorPause.since.getTime() } } : {}),
    // The blockers are in the ticket's project; one missing counts as not done, as in `waitingFor`.
    moves: cardMoves(ticket, ticket.blockedBy.flatMap((id) => all.get(id) ?? [])),
  };
}

/**
 * The moves the state machine offers from the ticket's column, judged now with the same rules and
 * blockers that `moveTicket` applies, so the page's hints and buttons match what the host will do.
 */
export function cardMoves(ticket: Pick<Ticket, "_id" | "column" | "blockedBy">, blockers: Pick<Ticket, "_id" | "column">[]): CardMove[] {
  return COLUMNS.filter((to) => canMove(ticket.column, to)).map((to) => {
    const refused = refuseMove(ticket, to, blockers);
    return refused ? { to, refused: refused.slice(0, 2000) } : { to };
  });
}

export function registerKanbanBoard(deps: { view: WebviewViewHost<typeof kanbanProtocol>; store: StoreService; log: Logger; onProjectChanged(): void }): vscode.Disposable {
  const { endpoint } = deps.view;
  const memory = () => deps.store.memory();
  const ticketsById = async (m: MemoryManager, projectId: string) => new Map((await m.tickets.of(projectId)).map((t) => [t._id, t]));
  const ticketOrThrow = async (m: MemoryManager, ticketId: string): Promise<Ticket> => {
    const ticket = await m.tickets.get(ticketId);
    if (!ticket) throw new Error(`No ticket ${ticketId}`);
    return ticket;
  };

  endpoint.handle("board", async ({ projectId }) => {
    const all = await ticketsById(await memory(), projectId);
    return { projectId, columns: BOARD_COLUMNS, cards: [...all.values()].filter((t) => !t.withdrawn).map((t) => toCard(t, all)) };
  });
  endpoint.handle("columns", () => BOARD_COLUMNS);

  endpoint.handle("ticket", async ({ ticketId }): Promise<TicketDetail> => {
    const m = await memory();
    const ticket = await ticketOrThrow(m, ticketId);
    const all = await ticketsById(m, ticket.projectId);
    return {
      ...toCard(ticket, all),
      description: ticket.description, goal: ticket.goal, acceptanceCriteria: ticket.acceptanceCriteria, filesChanged: ticket.filesChanged, blockedBy: ticket.blockedBy,
      history: ticket.history.map((entry) => ({ ...entry, at: entry.at.getTime() })),
    };
  });

  endpoint.handle("move", async ({ ticketId, to }) => {
    const m = await memory();
    const before = await ticketOrThrow(m, ticketId);
    let moved: Ticket;
    try {
      moved = await m.tickets.move(ticketId, to, "human", "moved on the Kanban board");
    } catch (error) {
      if (error instanceof TicketMoveError) return { refused: error.message };
      throw error;
    }
    try {
      if (await holdAfterHumanMove(m, before, moved)) deps.onProjectChanged();
    } catch (error) {
      deps.log.warn(`Putting the project of ${ticketId} on hold after a manual move failed: ${describeError(error)}`);
    }
    return { card: toCard(moved, await ticketsById(m, moved.projectId)) };
  });

  // Live updates: the changed card, and the cards that were waiting for it (their `waitingFor`
  // and `moves` follow their blockers: one done lets them start).
  const live = deps.store.followMemory((m) =>
    m.tickets.onDidChange((ticket) => {
      void (async () => {
        const all = await ticketsById(m, ticket.projectId);
        const affected = [ticket, ...[...all.values()].filter((t) => t.blockedBy.includes(ticket._id))];
        for (const t of affected) endpoint.notify("cardChanged", { projectId: t.projectId, card: toCard(all.get(t._id) ?? t, all), removed: t.withdrawn });
      })().catch((error: unknown) => deps.log.error(`Updating the board: ${describeError(error)}`));
    }),
  );
  return live;
}
