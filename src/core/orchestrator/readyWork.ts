import type { Project, Ticket } from "../store/records";
import { refuseMove } from "../tickets/ticketRules";

// The work pairs may take. Which of it they take, and in what order, the Resource Director decides.

export interface ReadyTicket {
  project: Project;
  ticket: Ticket;
}

/**
 * A project's tickets a pair may take: in progress and not waiting for the human (resumed work),
 * or to do with every blocker done. Withdrawn tickets and those in review or done are not work.
 */
export function readyTickets(project: Project, tickets: readonly Ticket[]): ReadyTicket[] {
  const live = tickets.filter((t) => !t.withdrawn);
  return live
    .filter((t) => (t.column === "inprogress" && !t.waiting) || (t.column === "todo" && refuseMove(t, "inprogress", live) === undefined))
    .map((ticket) => ({ project, ticket }));
}
