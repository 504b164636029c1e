import type { MemoryManager } from "../memory/memoryManager";
import { canTransition } from "../projects/project";
import { specHash } from "../spec/spec";
import type { ProjectState } from "../projects/project";
import type { Project, Ticket } from "../store/records";
import { COLUMN_NAMES } from "../tickets/ticketRules";

// SPEC-001's rules for a project's life, in one place for every face: the human's pause and
// resume, and what puts a planned project on hold (a saved change to the approved spec, a move by
// hand on its board). Each says in the chat what happened and what the human can do.

/** States in which the board follows a plan: a move by hand there needs the Architect's re-review. */
const PLANNED: ReadonlySet<ProjectState> = new Set(["approved", "planning", "executing"]);

const tellHuman = (memory: MemoryManager, projectId: string, text: string) => memory.transcript.record({ kind: "message", projectId, channel: "human", from: "pm", text });

/** The human moved a ticket by hand: a planned project goes on hold for a re-review. Whether it did. */
export async function holdAfterHumanMove(memory: MemoryManager, before: Ticket, moved: Ticket): Promise<boolean> {
  const project = await memory.projects.get(moved.projectId);
  if (!project || !PLANNED.has(project.state)) return false;
  const what = `${moved._id} from ${COLUMN_NAMES[before.column]} to ${COLUMN_NAMES[moved.column]}`;
  await memory.projects.transition(project._id, "onHold", "human", `the human moved ${what}`);
  await memory.transcript.record({ kind: "message", projectId: project._id, channel: "agents", from: "pm", text: `The human moved ${what} by hand. Architect, please re-validate the plan and the dependencies around ${moved._id}.` });
  await tellHuman(memory, project._id, `You moved ${what}. I put "${project.name}" on hold while the Architect and I re-review the board; run **Redgreen: Resume Project** when you want the agents to go on.`);
  return true;
}

/** A saved spec that differs from the approved version puts the project on hold; the held project, or undefined. */
export async function holdAfterSpecEdit(memory: MemoryManager, project: Project, text: string): Promise<Project | undefined> {
  if (!canTransition(project.state, "onHold")) return undefined;
  const approved = await memory.projects.approvedSpec(project._id);
  if (!approved || approved.hash === specHash(text)) return undefined;
  const held = await memory.projects.transition(project._id, "onHold", "human", `the approved spec v${approved.version} was edited`);
  await tellHuman(memory, project._id, `The approved spec (v${approved.version}) was edited, so I put "${project.name}" on hold. Shall I re-plan with the new version? Approve the spec to continue.`);
  return held;
}

/** The human's pause of a whole project: its pairs stop at their next step boundary. */
export async function pauseProject(memory: MemoryManager, project: Project): Promise<Project> {
  if (project.state !== "executing") throw new ProjectRuleError(`"${project.name}" is not executing (it is ${project.state}): there is nothing to pause`);
  const held = await memory.projects.transition(project._id, "onHold", "human", "paused by the human");
  await tellHuman(memory, project._id, `"${project.name}" is paused: the agents stop at their next step. **Resume** goes on where they were.`);
  return held;
}

/**
 * On hold → going again. With the approved spec unchanged, the agents go on with the board as it
 * is; with no tickets yet, planning starts (the project is approved again). A changed spec must be
 * approved first.
 */
export async function resumeProject(memory: MemoryManager, project: Project, specText: string | undefined): Promise<Project> {
  if (project.state !== "onHold") throw new ProjectRuleError(`"${project.name}" is not on hold (it is ${project.state})`);
  const approved = await memory.projects.approvedSpec(project._id);
  if (!approved || specText === undefined || specHash(specText) !== approved.hash) {
    throw new ProjectRuleError(`The spec of "${project.name}" differs from its approved version: approve it first (the Architect then re-plans)`);
  }
  const tickets = (await memory.tickets.of(project._id)).filter((t) => !t.withdrawn);
  if (tickets.length === 0) return memory.projects.transition(project._id, "approved", "human", "resumed by the human");
  const running = await memory.projects.transition(project._id, "executing", "human", "resumed by the human");
  await tellHuman(memory, project._id, `"${project.name}" is running again with the board as it is.`);
  return running;
}

/** A project rule refused what the human asked; the message says why and what to do. */
export class ProjectRuleError extends Error {}
