// `plan`, `run`, `pause` and `resume`: the team from a terminal, through the same orchestrator and
// project rules as the editor. `run` works until no ticket is ready and says by its exit code
// what is left: 0 every ticket is in review or done, 2 something waits for the human. Ctrl-C
// stops the pairs at their next step boundary (nothing verified is lost); a second one ends at once.
import { Option, type Command } from "commander";
import { promises as fs } from "node:fs";
import { createInterface } from "node:readline/promises";
import type { DevDecision, PlanningOutcome } from "../../core/agents/planning";
import type { EngineTeamLink } from "../../adapters/engine/engineStore";
import type { MemoryManager } from "../../core/memory/memoryManager";
import type { HumanPort } from "../../core/orchestrator/human";
import type { Orchestrator } from "../../core/orchestrator/orchestrator";
import { pauseProject, resumeProject } from "../../core/orchestrator/projectRules";
import { STATE_NAMES } from "../../core/projects/project";
import { specFileOf } from "../../core/spec/specFile";
import { COLUMNS, type Project, type Ticket } from "../../core/store/records";
import { stoppedFor } from "../../core/tickets/ticketRules";
import { act, JSON_OPTION, PROJECT_ARG } from "../command";
import { EXIT, ExitCode } from "../errors";
import type { Output } from "../output";
import { resolveProject } from "../projectArg";
import { planOutput, projectStateOutput, runOutput } from "../schemas";
import type { CliServices } from "../services";
import { live, projectRef } from "../views";

interface TeamOptions {
  json?: boolean;
  dev?: DevDecision;
}

const devOption = () => new Option("--dev <decision>", "when a DEV branch exists already and nobody is at a terminal (default: pause)").choices(["reuse", "recreate", "pause"]);

/** The terminal as the team's human: a question on a terminal, else the --dev flag (pause, the safe default). */
function terminalHuman(out: Output, dev: DevDecision | undefined): HumanPort {
  return {
    decideDev: async (project) => {
      if (dev) return dev;
      if (!process.stdin.isTTY) return "pause";
      const prompt = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = (await prompt.question(`"${project.name}": a DEV branch exists already. Reuse it, recreate it from main, or pause? [reuse/recreate/pause] `)).trim().toLowerCase();
        return answer === "reuse" || answer === "recreate" ? answer : "pause";
      } finally {
        prompt.close();
      }
    },
    notify: (_level, text) => out.progress(text),
  };
}

/** What waits for the human: tickets a pair stopped on, and the project itself when nothing can run. */
function waiting(tickets: Ticket[]): { ticket: string; title: string; reason: string }[] {
  return live(tickets).flatMap((t) => {
    const reason = stoppedFor(t);
    return reason ? [{ ticket: t._id, title: t.title, reason }] : [];
  });
}

function byColumn(tickets: Ticket[]): Record<(typeof COLUMNS)[number], string[]> {
  const shown = live(tickets);
  return Object.fromEntries(COLUMNS.map((c) => [c, shown.filter((t) => t.column === c).map((t) => t._id)])) as Record<(typeof COLUMNS)[number], string[]>;
}

/** The agents' channel and ticket moves of one project, as progress on stderr. */
function follow(memory: MemoryManager, project: Project, out: Output): { dispose(): void } {
  const said = memory.transcript.onDidRecordMessage((message) => {
    if (message.projectId === project._id && message.channel === "agents") out.progress(`${message.ticketId ?? project.name} ${message.from}: ${message.text}`);
  });
  const moved = memory.tickets.onDidChange((ticket) => {
    if (ticket.projectId === project._id && ticket.history.at(-1)?.to) out.progress(`${ticket._id} → ${ticket.column}`);
  });
  return { dispose: () => { said.dispose(); moved.dispose(); } };
}

/** A project's team as `plan` and `run` drive it: the engine's (joined for this command), or with --in-process an orchestrator here. */
interface CommandTeam {
  plan(): Promise<PlanningOutcome>;
  /** Resolves when nothing of the project runs or is ready. */
  idle(): Promise<void>;
  /** The pairs stop at their next step boundary; resolves once they did. */
  stopAtStep(): Promise<void>;
  /** The pairs stop now (in the engine: at their next step, this command gone). */
  stopNow(): void;
}

function inProcessTeam(team: Orchestrator, projectId: string): CommandTeam {
  return {
    plan: () => team.plan(projectId),
    idle: async () => {
      await team.start().idle();
      await team.stop();
    },
    stopAtStep: () => team.stop(),
    stopNow: () => team.dispose(),
  };
}

function engineTeam(link: EngineTeamLink, services: CliServices, projectId: string): CommandTeam {
  return {
    plan: () => link.plan(projectId),
    // A Ctrl-C's pause in the engine ended with the command that asked (the engine forgets it).
    idle: () => link.idle(projectId),
    stopAtStep: async () => void (await link.pausePairs(projectId)),
    stopNow: () => void services.close(),
  };
}

/** `work`: pairs take tickets (`run`); without it only planning runs (`plan`). */
async function commandTeam(services: CliServices, project: Project, options: TeamOptions, work: boolean): Promise<CommandTeam> {
  const human = terminalHuman(services.out, options.dev);
  if (services.inProcess) return inProcessTeam(await services.orchestrator(project, human), project._id);
  return engineTeam(await services.engineTeam(project, human, work), services, project._id);
}

/** Runs until idle; Ctrl-C stops at a step boundary, a second Ctrl-C at once. How many times it was interrupted. */
async function untilIdle(team: CommandTeam, out: Output): Promise<number> {
  let interrupts = 0;
  let stopping: Promise<void> = Promise.resolve();
  const onInterrupt = () => {
    interrupts++;
    if (interrupts === 1) out.progress("Stopping the pairs at their next step (Ctrl-C again to stop at once)…");
    // A second Ctrl-C may hang up before the engine answered the first.
    if (interrupts === 1) stopping = team.stopAtStep().catch(() => undefined);
    else team.stopNow();
  };
  process.on("SIGINT", onInterrupt);
  try {
    await team.idle().catch((error: unknown) => {
      // Stopped at once: the engine's connection is gone with the wait on it.
      if (interrupts < 2) throw error;
    });
    if (interrupts === 1) await stopping;
    return interrupts;
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

async function run(services: CliServices, arg: string | undefined, options: TeamOptions): Promise<void> {
  const memory = await services.memory();
  const project = await resolveProject(memory, arg);
  await services.requireTrusted(project.root, "run its team");
  await services.claimProject(project);
  const team = await commandTeam(services, project, options, true);
  const progress = follow(memory, project, services.out);
  const interrupts = await untilIdle(team, services.out).finally(() => progress.dispose());
  // Stopped at once through the engine: the connection is gone, and the summary with it.
  if (interrupts > 1 && !services.inProcess) throw new ExitCode(EXIT.interrupted);
  const interrupted = interrupts > 0;
  const now = (await memory.projects.get(project._id)) ?? project;
  const tickets = await memory.tickets.of(project._id);
  const open = live(tickets).filter((t) => t.column !== "review" && t.column !== "done");
  const exitCode = interrupted ? EXIT.interrupted : open.length === 0 && live(tickets).length > 0 ? EXIT.ok : EXIT.waitsForHuman;
  if (options.json) services.out.json(runOutput, { project: projectRef(now), state: now.state, tickets: byColumn(tickets), waitingForHuman: waiting(tickets), exitCode });
  else services.out.result(runSummary(now, tickets, exitCode));
  if (exitCode !== EXIT.ok) throw new ExitCode(exitCode);
}

function runSummary(project: Project, tickets: Ticket[], exitCode: number): string {
  const columns = byColumn(tickets);
  const lines = [`"${project.name}" is ${STATE_NAMES[project.state]}: ${COLUMNS.map((c) => `${columns[c].length} ${c}`).join(", ")}.`];
  for (const wait of waiting(tickets)) lines.push(`${wait.ticket} (${wait.title}) ${wait.reason}`);
  if (exitCode === EXIT.waitsForHuman && tickets.length === 0) lines.push(`Nothing to run: the project is ${STATE_NAMES[project.state]} (approve its spec with redgreen spec approve).`);
  else if (exitCode === EXIT.waitsForHuman) lines.push("Something waits for you: answer in the editor's chat, move the ticket, or resume the project.");
  if (exitCode === EXIT.ok) lines.push("Every ticket is in review or done: redgreen review list.");
  return lines.join("\n");
}

async function plan(services: CliServices, arg: string | undefined, options: TeamOptions): Promise<void> {
  const memory = await services.memory();
  const project = await resolveProject(memory, arg);
  await services.requireTrusted(project.root, "plan it");
  await services.claimProject(project);
  const outcome = await (await commandTeam(services, project, options, false)).plan();
  const tickets = live(await memory.tickets.of(project._id)).length;
  const message = outcome.kind === "failed" ? outcome.message : null;
  if (options.json) services.out.json(planOutput, { project: projectRef(project), outcome: outcome.kind, message, tickets });
  else services.out.result(outcome.kind === "failed" ? `Planning "${project.name}" failed: ${message}` : `"${project.name}": ${outcome.kind}, ${tickets} tickets.`);
  if (outcome.kind === "failed") throw new ExitCode(EXIT.error);
}

async function changeState(services: CliServices, arg: string | undefined, options: TeamOptions, to: "pause" | "resume"): Promise<void> {
  const memory = await services.memory();
  const project = await resolveProject(memory, arg);
  await services.claimProject(project);
  const text = to === "resume" ? await fs.readFile(specFileOf(project), "utf8").catch(() => undefined) : undefined;
  const changed = to === "pause" ? await pauseProject(memory, project) : await resumeProject(memory, project, text);
  if (options.json) services.out.json(projectStateOutput, { project: projectRef(changed), state: changed.state });
  else services.out.result(`"${changed.name}" is ${STATE_NAMES[changed.state]}.`);
}

export function registerTeam(program: Command): void {
  program.command("plan").description("the Architect plans the project's approved spec into tickets and branches (re-plans a changed one)")
    .argument(...PROJECT_ARG).addOption(devOption()).option(...JSON_OPTION)
    .action(act<TeamOptions>(({ services, args: [arg], options }) => plan(services, arg, options)));
  program.command("run").description("the team works (planning an approved spec first) until no ticket is ready; exit 0: all in review or done, 2: something waits for you")
    .argument(...PROJECT_ARG).addOption(devOption()).option(...JSON_OPTION)
    .action(act<TeamOptions>(({ services, args: [arg], options }) => run(services, arg, options)));
  program.command("pause").description("put an executing project on hold: its pairs stop at their next step")
    .argument(...PROJECT_ARG).option(...JSON_OPTION)
    .action(act<TeamOptions>(({ services, args: [arg], options }) => changeState(services, arg, options, "pause")));
  program.command("resume").description("take a project off hold (its spec must be as approved)")
    .argument(...PROJECT_ARG).option(...JSON_OPTION)
    .action(act<TeamOptions>(({ services, args: [arg], options }) => changeState(services, arg, options, "resume")));
}
