import type { GitOps } from "../gitops/gitOps";
import { describeError } from "../logger";
import type { MemoryManager } from "../memory/memoryManager";
import type { Project } from "../store/records";
import { ArchitectAgent, type PlanResult } from "./architect";
import type { PmModels } from "./pm";

// Planning after approval: approved → planning → executing. A plan that cannot be had leaves the
// project approved (planning can be retried); a failure while applying one puts it on hold.
// The Architect reads existing code first, asks the human (through the PM) what to do with an
// existing DEV, plans, creates tickets and branches, and the PM tells the human.

export type DevDecision = "reuse" | "recreate" | "pause";

export interface PlanningDeps {
  memory: MemoryManager;
  models: PmModels;
  git: GitOps;
  /** A summary of the code already in the repository, or undefined when there is none. */
  scan(root: string): Promise<string | undefined>;
  /** DEV exists already: the human decides. */
  decideDev(project: Project): Promise<DevDecision>;
  maxTokens?: number;
}

export type PlanningOutcome = { kind: "planned"; result: PlanResult } | { kind: "paused" } | { kind: "failed"; message: string };

export async function planProject(project: Project, spec: string, deps: PlanningDeps): Promise<PlanningOutcome> {
  const { memory } = deps;
  const agents = (text: string) => memory.record({ kind: "message", projectId: project._id, channel: "agents", from: "architect", text });
  const pm = (text: string) => memory.record({ kind: "message", projectId: project._id, channel: "human", from: "pm", text });
  let applying = false;
  try {
    await agents(`Planning "${project.name}" from the approved spec.`);
    const findings = await deps.scan(project.root);
    if (findings) {
      // Kept for later agents; without an embedding model it stays on the agents' channel only.
      await memory.remember(project._id, findings, ["architecture", "repository"]).catch(() => undefined);
      await agents(`What the repository already contains:\n\n${findings}`);
    }
    let recreateDev = false;
    if (await deps.git.hasDev()) {
      const decision = await deps.decideDev(project);
      await agents(`DEV exists already; the human chose to ${decision} it.`);
      if (decision === "pause") {
        await memory.transitionProject(project._id, "onHold", "human", "DEV exists and the human paused planning");
        return { kind: "paused" };
      }
      recreateDev = decision === "recreate";
    }
    const architect = new ArchitectAgent(deps.models, memory);
    const plan = await architect.plan(project, spec, { findings, maxTokens: deps.maxTokens });
    // Only a usable plan changes anything: the state, the branches, the tickets.
    applying = true;
    await memory.transitionProject(project._id, "planning", "architect", "the plan is ready to apply");
    if (recreateDev) await deps.git.createDev(true);
    const result = await architect.apply(project, spec, plan, deps.git);
    await agents(`Planned ${result.tickets.length} tickets in ${result.areas.length} areas (${result.areas.join(", ")}); branches DEV, ${result.areas.map((a) => `feature/${a}`).join(", ")} and one ticket/<id> per ticket.`);
    if (result.uncovered.length > 0) await pm(`No ticket covers ${result.uncovered.join(", ")} yet. Should the Architect plan them, or are they out of scope?`);
    await memory.transitionProject(project._id, "executing", "architect", `${result.tickets.length} tickets planned`);
    await pm(`The plan is ready: ${result.tickets.length} tickets in ${result.areas.length} areas are on the Kanban board.`);
    return { kind: "planned", result };
  } catch (error) {
    const message = `The Architect could not plan "${project.name}": ${describeError(error)}`;
    // Half-applied plans put the project on hold for a human; a plan that never came changes nothing.
    if (applying) await memory.transitionProject(project._id, "onHold", "architect", "applying the plan failed").catch(() => undefined);
    await pm(`${message}. ${applying ? "The project is on hold." : "Run Redgreen: Plan Project to try again."}`).catch(() => undefined);
    return { kind: "failed", message };
  }
}
