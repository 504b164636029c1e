import * as assert from "node:assert/strict";
import { COLUMNS, type Column } from "../../src/core/store/records";
import { canMove, refuseMove } from "../../src/core/tickets/ticketRules";

const ticket = (column: Column, blockedBy: string[] = []) => ({ _id: "T-1", column, blockedBy });

describe("ticket state machine", () => {
  it("allows exactly SPEC-001's moves between columns", () => {
    const allowed = COLUMNS.flatMap((from) => COLUMNS.filter((to) => canMove(from, to)).map((to) => `${from}>${to}`));
    assert.deepEqual(allowed.sort(), ["backlog>todo", "done>todo", "inprogress>review", "inprogress>todo", "review>done", "review>inprogress", "todo>backlog", "todo>inprogress"]);
  });

  it("says why a move is refused", () => {
    assert.equal(refuseMove(ticket("todo"), "done"), "T-1 cannot move from To do to Done; from To do it can go to In progress or Backlog");
    assert.equal(refuseMove(ticket("review"), "review"), "T-1 is already in Review");
    assert.equal(refuseMove(ticket("todo"), "inprogress"), undefined);
  });

  it("keeps a ticket out of progress while a ticket it depends on is not done", () => {
    const blocked = ticket("todo", ["T-0", "T-9"]);
    assert.equal(refuseMove(blocked, "inprogress", [{ _id: "T-0", column: "done" }, { _id: "T-9", column: "review" }]), "T-1 is blocked by T-9, which is not done");
    assert.equal(refuseMove(blocked, "inprogress", [{ _id: "T-0", column: "done" }, { _id: "T-9", column: "done" }]), undefined);
    assert.match(refuseMove(blocked, "inprogress", []) ?? "", /blocked by T-0, T-9, which are not done/);
  });
});
