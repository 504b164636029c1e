// What there is: `projects`, `status [project]` (state, tickets per column, what waits for the
// human, which pair has which ticket) and `board [project]` (the Kanban board as text). They read
// memory only: no git, so they work in folders not trusted yet.
import type { Command } from "commander";
import type * as z from "zod";
import { byPriority, PRIORITIES, STATE_NAMES } from "../../core/projects/project";
import { specHash } from "../../core/spec/spec";
import type { Project, Ticket } from "../../core/store/records";
import { COLUMNS } from "../../core/store/records";
import { COLUMN_NAMES, stoppedFor } from "../../core/tickets/ticketRules";
import type { MemoryManager } from "../../core/memory/memoryManager";
import { act, JSON_OPTION, PROJECT_ARG } from "../command";
import { CliError } from "../errors";
import { resolveProject } from "../projectArg";
import { boardOutput, projectsOutput, statusOutput } from "../schemas";
import { readSpec } from "../specApproval";
import { boardText, live, table, toBoard, toProjectJson } from "../views";
import type { Paint } from "../output";
import { EngineMethods, statusResult, type AllocationStatus } from "../../protocol/engine";
import type { CliServices } from "../services";
import { runningEngine } from "./engine";

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
        const status = await projectStatus(memory, await resolveProject(memory, arg), await allocations(services));
        if (options.json) return services.out.json(statusOutput, status);
        services.out.result(statusText(status, services.out.paint));
      }),
    );

  registerPriority(program);

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

/** `redgreen priority <project> <tier>`. */
function registerPriority(program: Command): void {
  program
    .command("priority")
    .description("set a project's priority (critical, high, medium, low): the Resource Director weighs it at its next decision")
    .argument(...PROJECT_ARG)
    .argument("<tier>", "critical, high, medium or low")
    .option(...JSON_OPTION)
    .action(
      act<JsonOptions>(async ({ services, args: [arg, tier], options }) => {
        const priority = PRIORITIES.find((p) => p === tier);
        if (!priority) throw new CliError(`"${tier}" is not a priority: use critical, high, medium or low`);
        const memory = await services.memory();
        const project = await memory.projects.setPriority((await resolveProject(memory, arg))._id, priority, "human");
        if (options.json) return services.out.json(projectsOutput, { projects: [toProjectJson(project)] });
        services.out.result(`${project.name}: priority ${priority}. Its pairs take or yield slots at their next step.`);
      }),
    );
}

type Status = z.input<typeof statusOutput>;

/** The engine's allocation of every busy project, when an engine runs. */
async function allocations(services: CliServices): Promise<AllocationStatus[]> {
  const engine = await runningEngine(services);
  return engine ? (await engine.request(EngineMethods.status, {}, statusResult)).allocations : [];
}

async function projectStatus(memory: MemoryManager, project: Project, allocated: AllocationStatus[]): Promise<Status> {
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
    resources: allocated.filter((a) => a.projectId === project._id).map(({ quota, share, use, pairs: at }) => ({ quota, share, use, pairs: at }))[0] ?? null,
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
    `  machine: ${status.resources ? `quota ${Math.round(status.resources.quota * 100)} % · share ${Math.round(status.resources.share * 100)} % · use ${Math.round(status.resources.use * 100)} % · ${status.resources.pairs} pair${status.resources.pairs === 1 ? "" : "s"} at work` : "no share now (no ready work, or no engine running)"}`,
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
