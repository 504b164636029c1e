// The Kanban board's host side: cards and details from the Memory Manager, human moves checked
// by the ticket state machine, and live updates whenever a ticket changes. A human move on a
// project that is already planned puts it on hold for the PM and the Architect to re-review
// (SPEC-001: the human may edit the board at any time; the agents then re-validate).
import type * as vscode from "vscode";
import type { PairStatusWire } from "../../protocol/engine";
import { describeError, type Logger } from "../../core/logger";
import type { MemoryManager } from "../../core/memory/memoryManager";
import { TicketMoveError } from "../../core/memory/ticketRecords";
import { COLUMNS, type Ticket } from "../../core/store/records";
import { holdAfterHumanMove } from "../../core/orchestrator/projectRules";
import { canMove, COLUMN_NAMES, refuseMove, stoppedFor } from "../../core/tickets/ticketRules";
import type { Card, CardMove, CardWork, ColumnInfo, kanbanProtocol, TicketDetail } from "../../protocol/kanban";
import type { WebviewViewHost } from "../../platform/webview/viewHost";
import type { StoreService } from "../store/storeService";

/** The columns in board order, with the names the board shows: the page has no copy of its own. */
export const BOARD_COLUMNS: ColumnInfo[] = COLUMNS.map((id) => ({ id, name: COLUMN_NAMES[id] }));

/** The work each pair is doing, by ticket: what a running card shows. */
export function workByTicket(pairs: readonly PairStatusWire[]): Map<string, CardWork> {
  const work = new Map<string, CardWork>();
  for (const pair of pairs) {
    if (!pair.ticketId || !pair.step || !pair.stepSince) continue;
    work.set(pair.ticketId, { pair: pair.id, step: pair.step, since: Date.parse(pair.stepSince), model: pair.model, stopping: pair.pausing });
  }
  return work;
}

export function toCard(ticket: Ticket, all: ReadonlyMap<string, Ticket>, work?: CardWork): Card {
  const attention = stoppedFor(ticket);
  return {
    id: ticket._id, title: ticket.title, column: ticket.column, severity: ticket.severity, estimate: ticket.timeEstimate,
    pair: ticket.assignedPair, passRate: ticket.testPassRate, branch: ticket.branch, functionalityId: ticket.functionalityId,
    requirementIds: ticket.requirementIds, waitingFor: ticket.blockedBy.filter((id) => all.get(id)?.column !== "done"),
    ...(attention ? { attention: attention.slice(0, 2000) } : {}),
    ...(ticket.directorPause && ticket.column === "inprogress" ? { directorPause: { reason: ticket.directorPause.reason.slice(0, 2000), since: ticket.directorPause.since.getTime() } } : {}),
    // The blockers are in the ticket's project; one missing counts as not done, as in `waitingFor`.
    moves: cardMoves(ticket, ticket.blockedBy.flatMap((id) => all.get(id) ?? [])),
    ...(work && ticket.column === "inprogress" ? { work } : {}),
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

/** What the pairs do, by ticket, as last read: cards changed by a ticket event keep showing it. */
class PairsWork {
  private work = new Map<string, CardWork>();

  constructor(private readonly pairs: BoardPairs, private readonly log: Logger) {}

  of(ticketId: string): CardWork | undefined {
    return this.work.get(ticketId);
  }

  /** Reads the pairs' work again; a failed read keeps the last one (the cards still load). Returns the ids whose work changed. */
  async read(): Promise<string[]> {
    let pairs: PairStatusWire[];
    try {
      pairs = await this.pairs.list();
    } catch (error) {
      this.log.warn(`Reading what the pairs do: ${describeError(error)}`);
      return [];
    }
    const next = workByTicket(pairs);
    const before = this.work;
    this.work = next;
    return [...new Set([...before.keys(), ...next.keys()])].filter((id) => JSON.stringify(before.get(id)) !== JSON.stringify(next.get(id)));
  }
}

export interface BoardPairs {
  list(): Promise<PairStatusWire[]>;
  onDidChange: vscode.Event<void>;
}

export function registerKanbanBoard(deps: { view: WebviewViewHost<typeof kanbanProtocol>; store: StoreService; pairs: BoardPairs; log: Logger; onProjectChanged(): void }): vscode.Disposable {
  const { endpoint } = deps.view;
  const work = new PairsWork(deps.pairs, deps.log);
  const memory = () => deps.store.memory();
  const ticketsById = async (m: MemoryManager, projectId: string) => new Map((await m.tickets.of(projectId)).map((t) => [t._id, t]));
  const ticketOrThrow = async (m: MemoryManager, ticketId: string): Promise<Ticket> => {
    const ticket = await m.tickets.get(ticketId);
    if (!ticket) throw new Error(`No ticket ${ticketId}`);
    return ticket;
  };

  endpoint.handle("board", async ({ projectId }) => {
    const [all] = await Promise.all([memory().then((m) => ticketsById(m, projectId)), work.read()]);
    return { projectId, columns: BOARD_COLUMNS, cards: [...all.values()].filter((t) => !t.withdrawn).map((t) => toCard(t, all, work.of(t._id))) };
  });
  endpoint.handle("columns", () => BOARD_COLUMNS);

  endpoint.handle("ticket", async ({ ticketId }): Promise<TicketDetail> => {
    const m = await memory();
    const ticket = await ticketOrThrow(m, ticketId);
    const all = await ticketsById(m, ticket.projectId);
    return {
      ...toCard(ticket, all, work.of(ticket._id)),
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
    return { card: toCard(moved, await ticketsById(m, moved.projectId), work.of(moved._id)) };
  });

  // Live updates: the changed card, and the cards that were waiting for it (their `waitingFor`
  // and `moves` follow their blockers: one done lets them start).
  const live = deps.store.followMemory((m) =>
    m.tickets.onDidChange((ticket) => {
      void (async () => {
        const all = await ticketsById(m, ticket.projectId);
        const affected = [ticket, ...[...all.values()].filter((t) => t.blockedBy.includes(ticket._id))];
        for (const t of affected) endpoint.notify("cardChanged", { projectId: t.projectId, card: toCard(all.get(t._id) ?? t, all, work.of(t._id)), removed: t.withdrawn });
      })().catch((error: unknown) => deps.log.error(`Updating the board: ${describeError(error)}`));
    }),
  );
  // A pair began a step, took a ticket or let it go: the cards whose work changed follow.
  const pairsFollowed = deps.pairs.onDidChange(() => {
    void (async () => {
      const changed = await work.read();
      if (changed.length === 0) return;
      const m = await memory();
      for (const id of changed) {
        const ticket = await m.tickets.get(id);
        if (ticket) endpoint.notify("cardChanged", { projectId: ticket.projectId, card: toCard(ticket, await ticketsById(m, ticket.projectId), work.of(id)) });
      }
    })().catch((error: unknown) => deps.log.error(`Updating the board's running cards: ${describeError(error)}`));
  });
  return { dispose: () => { live.dispose(); pairsFollowed.dispose(); } };
}
