import * as z from "zod";
import type { GitOps } from "../gitops/gitOps";
import type { MemoryManager } from "../memory/memoryManager";
import { requirementIds } from "../spec/requirements";
import { SEVERITIES, type Project, type Ticket } from "../store/records";
import type { AgentModels } from "../models/manager";
import { principlesFor } from "./principles";

// The Architect's planning: the approved spec becomes functionalities and tickets (JSON
// constrained by a grammar from these zod schemas, then validated), each ticket serving named
// requirements; then DEV, a feature branch per functionality and a ticket branch per ticket.

const ticketPlanSchema = z.object({
  key: z.string().trim().min(1).max(20),
  title: z.string().trim().min(1).max(120),
  description: z.string().trim().max(2000),
  goal: z.string().trim().min(1).max(400),
  acceptanceCriteria: z.array(z.string().trim().min(1).max(300)).min(1).max(8),
  requirementIds: z.array(z.string().regex(/^R-\d+$/)).min(1),
  severity: z.enum(SEVERITIES),
  estimateHours: z.number().min(0.25).max(80),
  /** Keys of tickets in this plan that must be done first. */
  dependsOn: z.array(z.string()).max(10),
});

export const planSchema = z.object({
  functionalities: z
    .array(z.object({ name: z.string().trim().min(1).max(60), tickets: z.array(ticketPlanSchema).min(1).max(40) }))
    .min(1)
    .max(20),
});
export type Plan = z.infer<typeof planSchema>;

// Parsing the spec's requirements lives with the spec; planners have always found it here.
export { requirementIds };

/**
 * Problems that make a valid plan unusable for this spec (then the model is asked again).
 * With `only` (a re-plan for some requirements), a ticket naming any other requirement is one:
 * those requirements have their tickets already.
 */
export function planProblems(plan: Plan, spec: string, only?: readonly string[]): string[] {
  const known = new Set(requirementIds(spec));
  const keys = plan.functionalities.flatMap((functionality) => functionality.tickets.map((t) => t.key));
  const problems: string[] = [];
  const named = [...new Set(plan.functionalities.flatMap((a) => a.tickets.flatMap((t) => t.requirementIds)))];
  const unknown = named.filter((id) => !known.has(id));
  if (unknown.length) problems.push(`tickets name requirements the spec does not have: ${unknown.join(", ")}`);
  const outside = named.filter((id) => known.has(id) && only !== undefined && !only.includes(id));
  if (outside.length) problems.push(`tickets name requirements outside this plan (${only?.join(", ")}): ${outside.join(", ")}`);
  const duplicates = keys.filter((key, i) => keys.indexOf(key) !== i);
  if (duplicates.length) problems.push(`ticket keys are not unique: ${[...new Set(duplicates)].join(", ")}`);
  const dangling = plan.functionalities.flatMap((a) => a.tickets.flatMap((t) => t.dependsOn.filter((d) => !keys.includes(d) || d === t.key)));
  if (dangling.length) problems.push(`dependencies on unknown tickets: ${[...new Set(dangling)].join(", ")}`);
  return problems;
}

export interface PlanResult {
  tickets: Ticket[];
  functionalities: string[];
  /** Requirements asked for (the spec's, or those of a re-plan) that no ticket serves. */
  uncovered: string[];
}

export function projectKey(project: Pick<Project, "name">): string {
  return project.name.toUpperCase().replace(/[^A-Z0-9]+/g, "").slice(0, 10) || "P";
}

/** The next free ticket number: withdrawn and out-of-order tickets keep theirs, so counting would collide. */
function nextTicketNumber(prefix: string, existing: readonly Pick<Ticket, "_id">[]): number {
  const numbers = existing.map((t) => (t._id.startsWith(`${prefix}-`) ? Number(t._id.slice(prefix.length + 1)) : NaN)).filter(Number.isInteger);
  return Math.max(0, ...numbers) + 1;
}

export interface PlanOptions {
  /** What a scan of the existing code found. */
  findings?: string;
  /** Plan these requirements only (a re-plan): the others have their tickets. */
  only?: readonly string[];
  signal?: AbortSignal;
  maxTokens?: number;
}

function functionalityIdOf(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40) || "functionality";
}

export class ArchitectAgent {
  constructor(private readonly models: AgentModels, private readonly memory: MemoryManager) {}

  /** Asks for a plan of `spec` (or of its requirements `only`) and checks it. */
  async plan(project: Project, spec: string, options: PlanOptions = {}): Promise<Plan> {
    const { findings, signal, only } = options;
    const ids = requirementIds(spec);
    const scope = only
      ? `Tickets exist already for the other requirements. Plan tickets for ${only.join(", ")} only: every ticket names only some of ${only.join(", ")}. `
      : "Every ticket names the requirement ids it serves; cover every requirement you can. ";
    const { value } = await this.models.ask(
      "architect",
      {
        messages: [
          { role: "system", content: `${principlesFor("architect")}\n\nYou are the Architect. Split the approved spec of "${project.name}" into functionalities and small tickets, each doable test-first in one session.` },
          {
            role: "user",
            content:
              `Spec:\n\n${spec}\n\n${findings ? `What the repository already contains:\n${findings}\n\n` : ""}` +
              `Requirement ids in the spec: ${ids.join(", ") || "(none)"}. ${scope}` +
              `Give each ticket a short unique key (T1, T2...), and list in dependsOn the keys it needs done first. Answer with JSON only.`,
          },
        ],
        maxTokens: options.maxTokens ?? 3000,
        temperature: 0.2,
      },
      { schema: planSchema, isSatisfactory: (plan) => planProblems(plan, spec, only).length === 0, signal },
    );
    return value;
  }

  /**
   * Turns a plan into tickets (to do) and branches: DEV, feature/<functionality>, ticket/<id>. In a second
   * round DEV and feature branches exist already and are kept; `only` is what this round planned.
   */
  async apply(project: Project, spec: string, plan: Plan, git: GitOps, options: { only?: readonly string[] } = {}): Promise<PlanResult> {
    const prefix = projectKey(project);
    let next = nextTicketNumber(prefix, await this.memory.tickets.of(project._id));
    const idOf = new Map<string, string>();
    for (const functionality of plan.functionalities) for (const t of functionality.tickets) idOf.set(t.key, `${prefix}-${next++}`);
    await git.createDev();
    const tickets: Ticket[] = [];
    for (const functionality of plan.functionalities) {
      const functionalityId = functionalityIdOf(functionality.name);
      await git.ensureFeature(functionalityId);
      for (const t of functionality.tickets) {
        const id = idOf.get(t.key)!;
        const branch = await git.createTicketBranch(id, functionalityId);
        tickets.push(
          await this.memory.tickets.create(
            {
              _id: id, projectId: project._id, functionalityId, title: t.title, description: t.description, goal: t.goal,
              acceptanceCriteria: t.acceptanceCriteria, requirementIds: t.requirementIds, column: "todo", severity: t.severity,
              timeEstimate: t.estimateHours, assignedPair: null, filesChanged: [], testPassRate: null, branch,
              blockedBy: t.dependsOn.map((key) => idOf.get(key)!),
            },
            "architect",
          ),
        );
      }
    }
    const covered = new Set(tickets.flatMap((t) => t.requirementIds));
    return { tickets, functionalities: plan.functionalities.map((a) => functionalityIdOf(a.name)), uncovered: (options.only ?? requirementIds(spec)).filter((id) => !covered.has(id)) };
  }
}
