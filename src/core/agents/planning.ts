import { featureBranch, type GitOps } from "../gitops/gitOps";
import { describeError } from "../logger";
import type { MemoryManager } from "../memory/memoryManager";
import { assertTransition } from "../projects/project";
import { diffRequirements, type RequirementsDiff } from "../spec/requirements";
import { specHash } from "../spec/spec";
import type { Column, Project, SpecVersion, Ticket } from "../store/records";
import { ArchitectAgent, type PlanResult } from "./architect";
import type { AgentModels } from "../models/manager";

// Planning after approval: approved → planning → executing. A plan that cannot be had leaves the
// project approved (planning can be retried); a failure while applying one puts it on hold.
// The Architect reads existing code first, asks the human (through the PM) what to do with an
// existing DEV, plans, creates tickets and branches, and the PM tells the human.
// Once a project has tickets, an approved spec change re-plans instead: the requirements diff
// against the previously approved spec decides which tickets are added, reopened or withdrawn;
// tickets of untouched requirements are left exactly as they are.

export type DevDecision = "reuse" | "recreate" | "pause";

export interface PlanningDeps {
  memory: MemoryManager;
  models: AgentModels;
  git: GitOps;
  /** A summary of the code already in the repository, or undefined when there is none. */
  scan(root: string): Promise<string | undefined>;
  /** DEV exists already: the human decides. */
  decideDev(project: Project): Promise<DevDecision>;
  maxTokens?: number;
}

export type PlanningOutcome =
  | { kind: "planned"; result: PlanResult }
  | { kind: "replanned"; added: Ticket[]; reopened: string[]; withdrawn: string[] }
  | { kind: "paused" }
  | { kind: "failed"; message: string };

/** One planning run: its project, where it speaks, and whether it has started changing things. */
interface Run {
  project: Project;
  deps: PlanningDeps;
  agents: (text: string) => Promise<unknown>;
  pm: (text: string) => Promise<unknown>;
  /** Set once state, branches or tickets start to change: a failure then needs a human. */
  applying: boolean;
}

export async function planProject(project: Project, spec: string, deps: PlanningDeps): Promise<PlanningOutcome> {
  const { memory } = deps;
  const run: Run = {
    project,
    deps,
    agents: (text) => memory.transcript.record({ kind: "message", projectId: project._id, channel: "agents", from: "architect", text }),
    pm: (text) => memory.transcript.record({ kind: "message", projectId: project._id, channel: "human", from: "pm", text }),
    applying: false,
  };
  try {
    // A project from before the protected branch was recorded gets it at its first planning.
    if (!project.protectedBranch) await memory.projects.recordProtectedBranch(project._id, await deps.git.primary(), "architect");
    const before = await replanBaseline(memory, project._id, spec);
    return before ? await replan(run, spec, before) : await planFromScratch(run, spec);
  } catch (error) {
    const message = `The Architect could not plan "${project.name}": ${describeError(error)}`;
    // Half-applied plans put the project on hold for a human; a plan that never came changes nothing.
    if (run.applying) await memory.projects.transition(project._id, "onHold", "architect", "applying the plan failed").catch(() => undefined);
    await run.pm(`${message}. ${run.applying ? "The project is on hold." : "Run Redgreen: Plan Project to try again."}`).catch(() => undefined);
    return { kind: "failed", message };
  }
}

/**
 * The approved spec the existing tickets were planned from, or undefined for a first plan: the
 * version planning recorded (so an approved version whose planning failed is not skipped), else
 * (projects planned before that was recorded) the newest approved version with another text.
 */
async function replanBaseline(memory: MemoryManager, projectId: string, spec: string): Promise<SpecVersion | undefined> {
  if ((await memory.tickets.of(projectId)).length === 0) return undefined;
  const history = (await memory.projects.specHistory(projectId)).filter((version) => version.approved);
  const planned = (await memory.projects.get(projectId))?.plannedSpecHash;
  const recorded = planned && history.find((version) => version.hash === planned);
  if (recorded) return recorded;
  const hash = specHash(spec);
  return history.filter((version) => version.hash !== hash).at(-1);
}

async function planFromScratch(run: Run, spec: string): Promise<PlanningOutcome> {
  const { project, deps, agents, pm } = run;
  const { memory } = deps;
  await agents(`Planning "${project.name}" from the approved spec.`);
  const findings = await deps.scan(project.root);
  if (findings) {
    // Kept for later agents; without an embedding model it stays on the agents' channel only.
    await memory.knowledge.remember(project._id, findings, ["architecture", "repository"]).catch(() => undefined);
    await agents(`What the repository already contains:\n\n${findings}`);
  }
  let recreateDev = false;
  if (await deps.git.hasDev()) {
    const decision = await deps.decideDev(project);
    await agents(`DEV exists already; the human chose to ${decision} it.`);
    if (decision === "pause") {
      await memory.projects.transition(project._id, "onHold", "human", "DEV exists and the human paused planning");
      return { kind: "paused" };
    }
    recreateDev = decision === "recreate";
  }
  const architect = new ArchitectAgent(deps.models, memory);
  const plan = await architect.plan(project, spec, { findings, maxTokens: deps.maxTokens });
  // Only a usable plan changes anything: the state, the branches, the tickets.
  run.applying = true;
  await memory.projects.transition(project._id, "planning", "architect", "the plan is ready to apply");
  if (recreateDev) await deps.git.createDev(true);
  const result = await architect.apply(project, spec, plan, deps.git);
  await agents(`Planned ${result.tickets.length} tickets in ${result.functionalities.length} functionalities (${result.functionalities.join(", ")}); branches DEV, ${result.functionalities.map(featureBranch).join(", ")} and one ticket/<id> per ticket.`);
  if (result.uncovered.length > 0) await pm(`No ticket covers ${result.uncovered.join(", ")} yet. Should the Architect plan them, or are they out of scope?`);
  await memory.projects.markPlanned(project._id, specHash(spec));
  await memory.projects.transition(project._id, "executing", "architect", `${result.tickets.length} tickets planned`);
  await pm(`The plan is ready: ${result.tickets.length} tickets in ${result.functionalities.length} functionalities are on the Kanban board.`);
  return { kind: "planned", result };
}

/**
 * Re-planning after an approved spec change. DEV is not asked about: it is the one the first
 * plan made. Nothing changes until the plan for added requirements (if any) is usable.
 */
async function replan(run: Run, spec: string, before: SpecVersion): Promise<PlanningOutcome> {
  const { project, deps, agents, pm } = run;
  const { memory } = deps;
  // Checked before the model is asked: a plan that cannot be applied would only waste its time.
  const current = (await memory.projects.get(project._id)) ?? project;
  assertTransition(project.name, current.state, "planning");
  const diff = diffRequirements(before.text, spec);
  await agents(`Re-planning "${project.name}" for the spec changed since v${before.version}: ${describeDiff(diff)}.`);
  const architect = new ArchitectAgent(deps.models, memory);
  const plan = diff.added.length > 0 ? await architect.plan(project, spec, { only: diff.added, findings: await deps.scan(project.root), maxTokens: deps.maxTokens }) : undefined;

  run.applying = true;
  await memory.projects.transition(project._id, "planning", "architect", `the spec changed since v${before.version}`);
  const live = (await memory.tickets.of(project._id)).filter((ticket) => !ticket.withdrawn);
  const { withdrawn, kept } = await settleRemoved(run, live, diff.removed);
  const reopened = await reopenChanged(memory, kept, diff.changed);
  const result = plan && (await architect.apply(project, spec, plan, deps.git, { only: diff.added }));
  const added = result?.tickets ?? [];

  if (unchanged(diff)) {
    await agents(`Re-planned "${project.name}": no requirement changed, so every ticket stays as it is.`);
    await memory.projects.markPlanned(project._id, specHash(spec));
    await memory.projects.transition(project._id, "executing", "architect", "no requirement changed");
    await pm(`The approved change to the spec of "${project.name}" changes no requirement: every ticket stays as it is and work goes on.`);
    return { kind: "replanned", added, reopened, withdrawn };
  }
  const summary = describeChanges(added, reopened, withdrawn);
  await agents(`Re-planned "${project.name}": ${summary}.`);
  if (result && result.uncovered.length > 0) await pm(`No ticket covers ${result.uncovered.join(", ")} yet. Should the Architect plan them, or are they out of scope?`);
  await memory.projects.markPlanned(project._id, specHash(spec));
  await memory.projects.transition(project._id, "executing", "architect", `re-planned: ${summary}`);
  await pm(`I re-planned "${project.name}" for the approved spec change: ${summary}. The Kanban board shows it.`);
  return { kind: "replanned", added, reopened, withdrawn };
}

function unchanged(diff: RequirementsDiff): boolean {
  return diff.added.length + diff.changed.length + diff.removed.length === 0;
}

function describeDiff(diff: RequirementsDiff): string {
  if (unchanged(diff)) return "no requirement changed";
  const parts = [["added", diff.added], ["changed", diff.changed], ["removed", diff.removed]] as const;
  return parts.filter(([, ids]) => ids.length > 0).map(([what, ids]) => `${what} ${ids.join(", ")}`).join("; ");
}

function describeChanges(added: Ticket[], reopened: string[], withdrawn: string[]): string {
  const part = (ids: string[], what: string) => `${ids.length} ${ids.length === 1 ? "ticket" : "tickets"} ${what}${ids.length ? ` (${ids.join(", ")})` : ""}`;
  return [part(added.map((t) => t._id), "added"), part(reopened, "reopened"), part(withdrawn, "withdrawn")].join(", ");
}

/**
 * Tickets whose requirements all left the spec are withdrawn (kept, flagged, for their history);
 * tickets that also serve kept requirements only stop naming the removed ones. Returns the
 * tickets still in play, as they are now.
 */
async function settleRemoved(run: Run, tickets: Ticket[], removed: readonly string[]): Promise<{ withdrawn: string[]; kept: Ticket[] }> {
  const { memory } = run.deps;
  const withdrawn: string[] = [];
  const kept: Ticket[] = [];
  for (const ticket of tickets) {
    const gone = ticket.requirementIds.filter((id) => removed.includes(id));
    const serves = ticket.requirementIds.filter((id) => !removed.includes(id));
    if (gone.length === 0) {
      kept.push(ticket);
    } else if (serves.length === 0) {
      await memory.tickets.update(ticket._id, { withdrawn: true }, "architect", `withdrawn: ${gone.join(", ")} left the spec`);
      await closeWorktree(run, ticket);
      withdrawn.push(ticket._id);
    } else {
      kept.push(await memory.tickets.update(ticket._id, { requirementIds: serves }, "architect", `${gone.join(", ")} left the spec; serves ${serves.join(", ")} now`));
    }
  }
  return { withdrawn, kept: await releaseBlocked(memory, kept, withdrawn) };
}

/** The ticket's branch stays; a worktree that will not go must not undo the withdrawal. */
async function closeWorktree(run: Run, ticket: Ticket): Promise<void> {
  await run.deps.git.closeTicket(ticket._id).catch((error: unknown) =>
    run.deps.memory.transcript.record({ kind: "event", projectId: ticket.projectId, ticketId: ticket._id, from: "architect", level: "warn", text: `the worktree of withdrawn ${ticket._id} could not be removed: ${describeError(error)}` }),
  );
}

/** A withdrawn ticket is never done: the tickets it blocked would wait for it forever. */
async function releaseBlocked(memory: MemoryManager, tickets: Ticket[], withdrawn: readonly string[]): Promise<Ticket[]> {
  const released: Ticket[] = [];
  for (const ticket of tickets) {
    const gone = ticket.blockedBy.filter((id) => withdrawn.includes(id));
    released.push(
      gone.length === 0
        ? ticket
        : await memory.tickets.update(ticket._id, { blockedBy: ticket.blockedBy.filter((id) => !withdrawn.includes(id)) }, "architect", `no longer waits for ${gone.join(", ")} (withdrawn)`),
    );
  }
  return released;
}

/** The moves the ticket state machine allows from each column back to "to do". */
const BACK_TO_TODO: Partial<Record<Column, Column[]>> = {
  inprogress: ["todo"],
  review: ["inprogress", "todo"],
  done: ["todo"],
};

/**
 * Tickets serving a changed requirement go back to "to do" (work on them may no longer fit);
 * those not started yet only get a note. Returns the ids of the reopened tickets.
 */
async function reopenChanged(memory: MemoryManager, tickets: Ticket[], changed: readonly string[]): Promise<string[]> {
  const affected = tickets.map((ticket) => ({ ticket, ids: ticket.requirementIds.filter((id) => changed.includes(id)) })).filter((a) => a.ids.length > 0);
  // Review → in progress needs the ticket's blockers done: take that hop before any blocker is reopened.
  const reviewFirst = [...affected].sort((a, b) => Number(a.ticket.column !== "review") - Number(b.ticket.column !== "review"));
  const reopened = new Set<string>();
  for (const { ticket, ids } of reviewFirst) {
    const way = BACK_TO_TODO[ticket.column];
    if (!way) {
      await memory.tickets.update(ticket._id, {}, "architect", `${ids.join(", ")} changed`);
      continue;
    }
    for (const to of way) await memory.tickets.move(ticket._id, to, "architect", `reopened: ${ids.join(", ")} changed`);
    reopened.add(ticket._id);
  }
  return affected.filter(({ ticket }) => reopened.has(ticket._id)).map(({ ticket }) => ticket._id);
}
