// What there is: `projects`, `status [project]` (state, tickets per column, what waits for the
// human, which pair has which ticket) and `board [project]` (the Kanban board as text). They read
// memory only: no git, so they work in folders not trusted yet.
import type { Command } from "commander";
import type * as z from "zod";
import { byPriority, STATE_NAMES } from "../../core/projects/project";
import { specHash } from "../../core/spec/spec";
import type { Project, Ticket } from "../../core/store/records";
import { COLUMNS } from "../../core/store/records";
import { COLUMN_NAMES, stoppedFor } from "../../core/tickets/ticketRules";
import type { MemoryManager } from "../../core/memory/memoryManager";
import { act, JSON_OPTION, PROJECT_ARG } from "../command";
import { resolveProject } from "../projectArg";
import { boardOutput, projectsOutput, statusOutput } from "../schemas";
import { readSpec } from "../specApproval";
import { boardText, live, table, toBoard, toProjectJson } from "../views";
import type { Paint } from "../output";

interface JsonOptions {
  json?: boolean;
}


export function registerProjects(program: Command): void {
  program
    .command("projects")
    .description("list the projects, highest priority first")
    .option(...JSON_OPTION)
    .action(
      act<JsonOptions>(async ({ services, options }) => {
        const projects = (await (await services.memory()).projects.list()).sort(byPriority);
        if (options.json) return services.out.json(projectsOutput, { projects: projects.map(toProjectJson) });
        if (projects.length === 0) return services.out.result("No project yet: create one with redgreen init <folder> --test-command <command>");
        services.out.result(table([["NAME", "PRIORITY", "STATE", "FOLDER"], ...projects.map((p) => [p.name, p.priority, STATE_NAMES[p.state], p.root])]));
      }),
    );

  program
    .command("status")
    .description("a project's state, its tickets by column, what waits for you and which pair has which ticket")
    .argument(...PROJECT_ARG)
    .option(...JSON_OPTION)
    .action(
      act<JsonOptions>(async ({ services, args: [arg], options }) => {
        const memory = await services.memory();
        const status = await projectStatus(memory, await resolveProject(memory, arg));
        if (options.json) return services.out.json(statusOutput, status);
        services.out.result(statusText(status, services.out.paint));
      }),
    );

  program
    .command("board")
    .description("a project's Kanban board: its columns and their tickets")
    .argument(...PROJECT_ARG)
    .option(...JSON_OPTION)
    .action(
      act<JsonOptions>(async ({ services, args: [arg], options }) => {
        const memory = await services.memory();
        const project = await resolveProject(memory, arg);
        const board = toBoard(project, await memory.tickets.of(project._id));
        if (options.json) return services.out.json(boardOutput, board);
        services.out.result(boardText(board, services.out.paint));
      }),
    );
}

type Status = z.input<typeof statusOutput>;

async function projectStatus(memory: MemoryManager, project: Project): Promise<Status> {
  const tickets = live(await memory.tickets.of(project._id));
  const approved = await memory.projects.approvedSpec(project._id);
  const text = await readSpec(project).catch(() => undefined);
  const byColumn = Object.fromEntries(COLUMNS.map((c) => [c, tickets.filter((t) => t.column === c).map((t) => t._id)])) as Status["tickets"];
  const waiting = tickets.flatMap((t: Ticket) => {
    const reason = stoppedFor(t);
    return reason ? [{ ticket: t._id, title: t.title, pair: t.assignedPair, reason }] : [];
  });
  const pairs = tickets.filter((t) => t.assignedPair && (t.column === "inprogress" || t.column === "review")).map((t) => ({ pair: t.assignedPair!, ticket: t._id, column: t.column }));
  return {
    project: toProjectJson(project),
    spec: { approvedVersion: approved?.version ?? null, approvedAt: approved?.at.toISOString() ?? null, changedSinceApproval: approved && text !== undefined ? approved.hash !== specHash(text) : null },
    tickets: byColumn,
    waitingForHuman: waiting,
    pairs,
  };
}

function statusText(status: Status, paint: Paint): string {
  const { project, spec } = status;
  const specLine = spec.approvedVersion === null ? "not approved yet" : `v${spec.approvedVersion} approved${spec.changedSinceApproval ? paint.yellow(" · edited since") : ""}`;
  const lines = [
    `${paint.bold(project.name)}  ${STATE_NAMES[project.state]} · priority ${project.priority}`,
    `  folder: ${project.root}`,
    `  spec:   ${project.specPath}, ${specLine}`,
    `  tickets: ${COLUMNS.map((c) => `${COLUMN_NAMES[c]} ${status.tickets[c].length}`).join(" · ")}`,
  ];
  if (status.waitingForHuman.length > 0) {
    lines.push("", paint.red(`Waiting for you (${status.waitingForHuman.length}):`));
    for (const w of status.waitingForHuman) lines.push(`  ${w.ticket}  ${w.title}: ${w.reason}`);
  }
  if (status.tickets.review.length > 0) lines.push("", `In review: ${status.tickets.review.join(", ")} (redgreen review list)`);
  lines.push("", status.pairs.length > 0 ? "Pairs:" : "Pairs: none at work");
  for (const p of status.pairs) lines.push(`  ${p.pair} → ${p.ticket} (${COLUMN_NAMES[p.column]})`);
  return lines.join("\n");
}
