import type { Project, Ticket } from "../store/records";
import { refuseMove } from "../tickets/ticketRules";

// Which ready ticket a free pair takes next. Here, plainly: tickets already in progress first (a
// restart or a Request Changes picks them up again), then the oldest ready one, across every
// executing project. The Resource Director replaces this order with one by priority and quota.

export interface ReadyTicket {
  project: Project;
  ticket: Ticket;
}

export interface Scheduler {
  /** The ready tickets in the order free pairs should take them. */
  order(ready: readonly ReadyTicket[]): ReadyTicket[];
}

export const oldestReadyFirst: Scheduler = {
  order: (ready) =>
    [...ready].sort((a, b) => Number(b.ticket.column === "inprogress") - Number(a.ticket.column === "inprogress") || a.ticket.createdAt.getTime() - b.ticket.createdAt.getTime()),
};

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
