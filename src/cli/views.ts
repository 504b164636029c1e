// Records as the CLI shows them: the JSON of schemas.ts and the text of a terminal.
import path from "node:path";
import type * as z from "zod";
import type { Project, Ticket } from "../core/store/records";
import { COLUMNS } from "../core/store/records";
import { COLUMN_NAMES, stoppedFor } from "../core/tickets/ticketRules";
import type { Paint } from "./output";
import type { boardOutput, cardJson, projectJson } from "./schemas";

export function toProjectJson(project: Project): z.input<typeof projectJson> {
  return {
    id: project._id, name: project.name, root: project.root, priority: project.priority, state: project.state,
    testCommand: project.testCommand, remote: project.remote ?? null, specPath: project.specPath, protectedBranch: project.protectedBranch ?? null,
    specFile: path.join(project.root, project.specPath), createdAt: project.createdAt.toISOString(), updatedAt: project.updatedAt.toISOString(),
  };
}

export const projectRef = (project: Project) => ({ id: project._id, name: project.name });

/** The tickets a board shows: withdrawn ones are history, not work. */
export const live = (tickets: Ticket[]) => tickets.filter((t) => !t.withdrawn);

export function toCard(ticket: Ticket, all: ReadonlyMap<string, Ticket>): z.input<typeof cardJson> {
  return {
    id: ticket._id, title: ticket.title, column: ticket.column, severity: ticket.severity, estimate: ticket.timeEstimate,
    pair: ticket.assignedPair, passRate: ticket.testPassRate, branch: ticket.branch, functionalityId: ticket.functionalityId,
    requirementIds: ticket.requirementIds, blockedBy: ticket.blockedBy.filter((id) => all.get(id)?.column !== "done"),
    waitingForHuman: stoppedFor(ticket) ?? null,
  };
}

export function toBoard(project: Project, tickets: Ticket[]): z.input<typeof boardOutput> {
  const all = new Map(tickets.map((t) => [t._id, t]));
  const shown = live(tickets);
  return {
    project: projectRef(project),
    columns: COLUMNS.map((column) => ({ column, name: COLUMN_NAMES[column], tickets: shown.filter((t) => t.column === column).map((t) => toCard(t, all)) })),
  };
}

/** The board as text: one section per column, one line per ticket, details after the title. */
export function boardText(board: z.input<typeof boardOutput>, paint: Paint): string {
  const lines: string[] = [paint.bold(`${board.project.name}: board`)];
  for (const { name, tickets } of board.columns) {
    lines.push("", paint.bold(`${name} (${tickets.length})`));
    if (tickets.length === 0) lines.push(paint.dim("  (none)"));
    for (const card of tickets) lines.push(...cardLines(card, paint));
  }
  return lines.join("\n");
}

function cardLines(card: z.input<typeof cardJson>, paint: Paint): string[] {
  const details = [
    card.severity,
    card.estimate !== null ? `${card.estimate}h` : undefined,
    card.pair ?? undefined,
    card.passRate !== null ? `${Math.round(card.passRate * 100)}% pass` : undefined,
    card.branch ?? undefined,
  ].filter(Boolean);
  const lines = [`  ${paint.cyan(card.id)}  ${card.title}  ${paint.dim(`[${details.join(" · ")}]`)}`];
  if (card.blockedBy.length > 0) lines.push(`      ${paint.yellow(`waits for ${card.blockedBy.join(", ")}`)}`);
  if (card.waitingForHuman) lines.push(`      ${paint.red(`needs you: ${card.waitingForHuman}`)}`);
  return lines;
}

/** Rows as aligned columns (two spaces apart). */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? [];
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")).join("\n");
}
