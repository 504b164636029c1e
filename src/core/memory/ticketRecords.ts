import { refuseMove } from "../tickets/ticketRules";
import type { Column, Ticket } from "../store/records";
import { Aggregate } from "./aggregate";
import { now, stripUndefined, type MemoryContext } from "./records";
import type { Transcript } from "./transcript";

// Tickets: created by the Architect, changed by the engine, moved by anyone the rules allow.

/** A ticket move the state machine refuses; the message says why. */
export class TicketMoveError extends Error {}

export type TicketChange = Partial<Omit<Ticket, "_id" | "projectId" | "column" | "history" | "createdAt" | "updatedAt">>;

/** Announces a ticket created, moved or changed. */
export class TicketRecords extends Aggregate<"tickets"> {
  constructor(context: MemoryContext, transcript: Transcript) {
    super(context, transcript, "tickets", "ticket");
  }

  async create(ticket: Omit<Ticket, "createdAt" | "updatedAt" | "history">, by: string): Promise<Ticket> {
    const at = now(this.context);
    const created: Ticket = { ...ticket, history: [{ at, by, to: ticket.column, note: "created" }], createdAt: at, updatedAt: at };
    await this.collection.insert(created);
    this.changed.fire(created);
    return created;
  }

  /** Changes a ticket's fields (not its column: that is a move), with a history line saying why. */
  async update(ticketId: string, change: TicketChange, by: string, note: string): Promise<Ticket> {
    const ticket = await this.existing(ticketId);
    const at = now(this.context);
    const updated: Ticket = { ...ticket, ...change, updatedAt: at, history: [...ticket.history, { at, by, note }] };
    await this.collection.put(stripUndefined(updated));
    await this.transcript.record({ kind: "event", projectId: ticket.projectId, ticketId, functionalityId: ticket.functionalityId, from: by, text: `${ticketId}: ${note}` });
    this.changed.fire(updated);
    return updated;
  }

  /** Moves a ticket to another column, appending the move to its history and the agent log. */
  async move(ticketId: string, to: Column, by: string, note?: string): Promise<Ticket> {
    const ticket = await this.existing(ticketId);
    const blockers = ticket.blockedBy.length ? await this.collection.find({ _id: { $in: ticket.blockedBy } }) : [];
    const refused = refuseMove(ticket, to, blockers);
    if (refused) throw new TicketMoveError(refused);
    const at = now(this.context);
    // A move is what resumes a ticket that waited for the human: it waits no longer; nor is it
    // paused by the Resource Director any more (a pair takes it as any ticket of its new column).
    const moved: Ticket = stripUndefined({ ...ticket, waiting: undefined, directorPause: undefined, column: to, updatedAt: at, history: [...ticket.history, stripUndefined({ at, by, from: ticket.column, to, note })] });
    await this.collection.put(moved);
    this.changed.fire(moved);
    await this.transcript.record({ kind: "event", projectId: ticket.projectId, ticketId, functionalityId: ticket.functionalityId, from: by, text: `moved ${ticketId} from ${ticket.column} to ${to}${note ? `: ${note}` : ""}` });
    return moved;
  }

  /** A project's tickets, oldest first. */
  of(projectId: string): Promise<Ticket[]> {
    return this.collection.find({ projectId }, { sort: { createdAt: 1 } });
  }
}
