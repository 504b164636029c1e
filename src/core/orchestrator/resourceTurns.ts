import { describeError, type Logger } from "../logger";
import type { MemoryManager } from "../memory/memoryManager";
import type { Priority } from "../projects/project";
import { ResourceDirector, type Decision, type DirectorView, type Pause } from "../resources/director";
import { policyOf, type Allocation } from "../resources/policy";
import type { Project, Ticket } from "../store/records";
import type { SettingsReader } from "./settingsReader";

// The orchestrator's side of the Resource Director: it asks for the decisions, keeps the
// allocation the clients are shown, says why a pair yields its slot, and records the pause on the
// ticket until a pair takes it again.

/** A busy project's allocation as the clients show it (fractions of NOS). */
export interface AllocationState {
  projectId: string;
  name: string;
  priority: Priority;
  quota: number;
  share: number;
  /** Measured (see ResourceDirector.useOf). */
  use: number;
  pairs: number;
}

export interface ResourceTurnsDeps {
  memory: MemoryManager;
  log: Logger;
  /** The machine's settings (the policy). */
  settings(): SettingsReader;
  /** A share moved by a whole percent, or a use by five. */
  onChanged?(): void;
}

export class ResourceTurns {
  private readonly director = new ResourceDirector(() => policyOf(this.deps.settings()));
  private allocations: (Allocation & { name: string })[] = [];
  private summary = "";

  constructor(private readonly deps: ResourceTurnsDeps) {}

  /** The Director's decision; its allocation is kept for the clients. */
  decide(view: DirectorView): Decision {
    const decision = this.director.decide(view);
    this.allocations = decision.allocations.map((a) => ({ ...a, name: view.projects.find((p) => p.projectId === a.projectId)?.name ?? a.projectId }));
    const summary = this.allocations.map((a) => `${a.projectId}:${Math.round(a.share * 100)}:${Math.round(this.director.useOf(a.projectId) * 20)}`).join(",");
    if (summary !== this.summary) this.deps.onChanged?.();
    this.summary = summary;
    return decision;
  }

  /** How often the orchestrator passes by itself: four times per review cycle (the settings may change). */
  tickMs(): number {
    return policyOf(this.deps.settings()).reviewMs / 4;
  }

  states(pairsOf: (projectId: string) => number): AllocationState[] {
    return this.allocations.map(({ projectId, name, priority, quota, share }) => ({ projectId, name, priority, quota, share, use: this.director.useOf(projectId), pairs: pairsOf(projectId) }));
  }

  /** Says on the agents' channel (and in the log) why a pair yields its slot. */
  announce(pause: Pause): void {
    const shares = this.allocations.map((a) => `${a.name} ${Math.round(a.share * 100)} %`).join(", ");
    const text = `Pausing ${pause.ticketId} at its next step: ${pause.reason}. It resumes when its project's turn comes. (Shares of the machine: ${shares}.)`;
    this.deps.log.info(`Resource Director: ${text}`);
    void this.deps.memory.transcript.record({ kind: "message", channel: "agents", projectId: pause.projectId, ticketId: pause.ticketId, from: "resource-director", text }).catch((error: unknown) => this.deps.log.warn(`Recording a Resource Director decision: ${describeError(error)}`));
  }

  /** Once the pair stopped: the ticket says on its card why and since when, while it is still in progress and waits for nobody. */
  async record(ticketId: string, reason: string): Promise<void> {
    const { memory, log } = this.deps;
    try {
      const ticket = await memory.tickets.get(ticketId);
      if (ticket?.column !== "inprogress" || ticket.waiting) return;
      await memory.tickets.update(ticketId, { directorPause: { reason, since: new Date() } }, "resource-director", `paused by the Resource Director: ${reason}`);
    } catch (error) {
      log.warn(`Recording the Resource Director's pause of ${ticketId}: ${describeError(error)}`);
    }
  }

  /** A pair takes the ticket again: it is paused no longer. */
  async resume(project: Project, ticket: Ticket): Promise<void> {
    if (ticket.directorPause) await this.deps.memory.tickets.update(ticket._id, { directorPause: undefined }, "resource-director", `resumed: ${project.name}'s turn`);
  }
}
