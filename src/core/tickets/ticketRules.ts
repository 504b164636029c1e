import type { Column, Ticket } from "../store/records";

// The one state machine for ticket moves (SPEC-001's columns). Every move, by an agent, by the
// human on the board or by planning, is checked here; a refused move says why.

const MOVES: Record<Column, readonly Column[]> = {
  backlog: ["todo"],
  todo: ["inprogress", "backlog"],
  inprogress: ["review", "todo"],
  review: ["done", "inprogress"],
  // A done ticket comes back only when re-planning reopens it.
  done: ["todo"],
};

export const COLUMN_NAMES: Record<Column, string> = {
  backlog: "Backlog",
  todo: "To do",
  inprogress: "In progress",
  review: "Review",
  done: "Done",
};

/** Why `ticket` cannot move to `to`, or undefined when it can. */
export function refuseMove(ticket: Pick<Ticket, "_id" | "column" | "blockedBy">, to: Column, blockers: Pick<Ticket, "_id" | "column">[] = []): string | undefined {
  if (ticket.column === to) return `${ticket._id} is already in ${COLUMN_NAMES[to]}`;
  if (!MOVES[ticket.column].includes(to)) {
    const allowed = MOVES[ticket.column].map((column) => COLUMN_NAMES[column]).join(" or ");
    return `${ticket._id} cannot move from ${COLUMN_NAMES[ticket.column]} to ${COLUMN_NAMES[to]}; from ${COLUMN_NAMES[ticket.column]} it can go to ${allowed}`;
  }
  if (to === "inprogress") {
    const open = ticket.blockedBy.filter((id) => blockers.find((b) => b._id === id)?.column !== "done");
    if (open.length > 0) return `${ticket._id} is blocked by ${open.join(", ")}, which ${open.length === 1 ? "is" : "are"} not done`;
  }
  return undefined;
}

/** The history note a pair leaves on a ticket it stopped on for the human. */
export function stopNote(kind: "blocked" | "needsClarification", text: string): string {
  return kind === "blocked" ? `blocked: ${text}` : `needs clarification: ${text}`;
}

/** Why the pair stopped on this ticket and waits for the human, if it did ("blocked: …", "needs clarification: …"). */
export function stoppedFor(ticket: Pick<Ticket, "column" | "waiting">): string | undefined {
  return ticket.column === "inprogress" && ticket.waiting ? stopNote(ticket.waiting.kind, ticket.waiting.text) : undefined;
}

export function canMove(from: Column, to: Column): boolean {
  return MOVES[from].includes(to);
}
