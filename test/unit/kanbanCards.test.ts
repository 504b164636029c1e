import * as assert from "node:assert/strict";
import * as z from "zod";
import type { Column, Ticket } from "../../src/core/store/records";
import { BOARD_COLUMNS, toCard, workByTicket } from "../../src/features/kanban/kanbanBoard";
import { cardSchema, kanbanProtocol, type Card } from "../../src/protocol/kanban";

// The cards the host sends the Kanban page: the page keeps no copy of the state machine, so each
// card says where it may go now and why not elsewhere.

const at = new Date(0);
const ticket = (id: string, column: Column, blockedBy: string[] = []): Ticket => ({
  _id: id, projectId: "P", functionalityId: "catalogue", title: `Ticket ${id}`, description: "", goal: "a goal", acceptanceCriteria: [],
  requirementIds: [], column, severity: "medium", timeEstimate: null, assignedPair: null, filesChanged: [], testPassRate: null,
  branch: null, blockedBy, history: [], createdAt: at, updatedAt: at,
});
const byId = (...tickets: Ticket[]) => new Map(tickets.map((t) => [t._id, t]));

describe("Kanban cards", () => {
  it("names the columns in board order", () => {
    assert.deepEqual(BOARD_COLUMNS.map((c) => `${c.id}:${c.name}`), ["backlog:Backlog", "todo:To do", "inprogress:In progress", "review:Review", "done:Done"]);
    kanbanProtocol.toHost.requests.columns.result.parse(BOARD_COLUMNS);
  });

  it("offers the state machine's moves from the card's column, in board order", () => {
    const moves = (column: Column) => cardSchema.parse(toCard(ticket("T-1", column), byId())).moves;
    assert.deepEqual(moves("todo"), [{ to: "backlog" }, { to: "inprogress" }]);
    assert.deepEqual(moves("review"), [{ to: "inprogress" }, { to: "done" }]);
    assert.deepEqual(moves("done"), [{ to: "todo" }]);
  });

  it("offers a blocked ticket's start but refuses it until its blockers are done", () => {
    const blocked = ticket("T-2", "todo", ["T-1", "T-0"]);
    const start = (all: Map<string, Ticket>) => cardSchema.parse(toCard(blocked, all)).moves.find((m) => m.to === "inprogress");
    // T-0 is in no map: a blocker the host cannot find counts as not done, as in waitingFor.
    assert.deepEqual(start(byId(blocked, ticket("T-1", "review"))), { to: "inprogress", refused: "T-2 is blocked by T-1, T-0, which are not done" });
    assert.deepEqual(start(byId(blocked, ticket("T-1", "done"), ticket("T-0", "done"))), { to: "inprogress" });
  });

  it("says on a card that the Resource Director paused its pair, why and since when", () => {
    const since = new Date(Date.UTC(2026, 11, 7, 9, 30));
    const paused = { ...ticket("T-3", "inprogress"), directorPause: { reason: "Pay (critical) is owed a slot", since } };
    assert.deepEqual(cardSchema.parse(toCard(paused, byId(paused))).directorPause, { reason: "Pay (critical) is owed a slot", since: since.getTime() });
    assert.equal(cardSchema.parse(toCard(ticket("T-4", "inprogress"), byId())).directorPause, undefined);
    const moved = { ...paused, column: "review" as const };
    assert.equal(cardSchema.parse(toCard(moved, byId(moved))).directorPause, undefined, "only a ticket in progress is paused");
  });

  it("shows on a running card its pair's step, since when and its model; not once the ticket left In progress", () => {
    const since = "2026-12-07T21:30:00.000Z";
    const work = workByTicket([
      { id: "pair-1", projectId: "p", ticketId: "T-5", since, pausing: false, step: "green", stepSince: since, model: "coder-7b" },
      { id: "pair-2", projectId: "p", ticketId: "T-6", since, pausing: true, step: null, stepSince: null, model: null },
      { id: "pair-3", projectId: null, ticketId: null, since: null, pausing: false, step: null, stepSince: null, model: null },
    ]);
    assert.deepEqual([...work.keys()], ["T-5"], "a pair with no step yet shows nothing");
    const running = ticket("T-5", "inprogress");
    assert.deepEqual(cardSchema.parse(toCard(running, byId(running), work.get("T-5"))).work, { pair: "pair-1", step: "green", since: Date.parse(since), model: "coder-7b", stopping: false });
    const reviewed = ticket("T-5", "review");
    assert.equal(cardSchema.parse(toCard(reviewed, byId(reviewed), work.get("T-5"))).work, undefined);
  });

  it("sends cards the protocol accepts, in replies and live updates", () => {
    const all = byId(ticket("T-1", "review"), ticket("T-2", "todo", ["T-1"]));
    const cards = [...all.values()].map((t) => toCard(t, all));
    kanbanProtocol.toHost.requests.board.result.parse({ projectId: "P", columns: BOARD_COLUMNS, cards });
    kanbanProtocol.toWebview.notifications.cardChanged.parse({ projectId: "P", card: cards[1] });
    // A card without its moves is an old host's: the page rejects it rather than guess.
    const bare: Partial<Card> = { ...cards[0]! };
    delete bare.moves;
    assert.equal(z.array(cardSchema).safeParse([bare]).success, false);
  });
});
