import { assertTransition, byPriority, STATE_NAMES, type Priority, type ProjectState } from "../projects/project";
import { specHash } from "../spec/spec";
import type { Project, SpecVersion } from "../store/records";
import { Aggregate } from "./aggregate";
import { now, stripUndefined, type MemoryContext } from "./records";
import type { Transcript } from "./transcript";

// Projects and the versions of their specs.

/** Announces a project created, changed in state or planned: views and the orchestrator follow it. */
export class ProjectRecords extends Aggregate<"projects"> {
  constructor(context: MemoryContext, transcript: Transcript) {
    super(context, transcript, "projects", "project");
  }

  async create(project: Omit<Project, "createdAt" | "updatedAt">, by: string): Promise<Project> {
    const at = now(this.context);
    const created = stripUndefined({ ...project, createdAt: at, updatedAt: at });
    await this.collection.insert(created);
    this.changed.fire(created);
    // The project exists once inserted; its log line must not make a caller undo a project that exists.
    await this.transcript.record({ kind: "event", projectId: created._id, from: by, text: `created project "${created.name}" in ${created.root} (${created.state})` }).catch(() => undefined);
    return created;
  }

  /** Moves a project to another state if its life cycle allows it, and logs why. */
  async transition(projectId: string, to: ProjectState, by: string, reason: string): Promise<Project> {
    const project = await this.existing(projectId);
    assertTransition(project.name, project.state, to);
    const moved = { ...project, state: to, updatedAt: now(this.context) };
    await this.collection.put(moved);
    await this.transcript.record({ kind: "event", projectId, from: by, text: `project "${project.name}": ${STATE_NAMES[project.state]} → ${STATE_NAMES[to]} (${reason})` });
    this.changed.fire(moved);
    return moved;
  }

  /** Records that the project's tickets now follow the approved spec with this hash. */
  async markPlanned(projectId: string, specHash: string): Promise<void> {
    const planned = { ...(await this.existing(projectId)), plannedSpecHash: specHash, updatedAt: now(this.context) };
    await this.collection.put(planned);
    this.changed.fire(planned);
  }

  /** Records the project's protected branch (a project created before it was recorded, at its first planning). */
  async recordProtectedBranch(projectId: string, branch: string, by: string): Promise<Project> {
    const recorded = { ...(await this.existing(projectId)), protectedBranch: branch, updatedAt: now(this.context) };
    await this.collection.put(recorded);
    await this.transcript.record({ kind: "event", projectId, from: by, text: `protected branch of "${recorded.name}": ${branch}` });
    this.changed.fire(recorded);
    return recorded;
  }

  /** A new priority: the Resource Director weighs it at its next decision (its pairs yield or take slots at their next step). */
  async setPriority(projectId: string, priority: Priority, by: string): Promise<Project> {
    const before = await this.existing(projectId);
    const changed = { ...before, priority, updatedAt: now(this.context) };
    await this.collection.put(changed);
    await this.transcript.record({ kind: "event", projectId, from: by, text: `priority of "${changed.name}": ${before.priority} → ${priority}` });
    this.changed.fire(changed);
    return changed;
  }

  /** Every project, highest priority first. */
  async list(): Promise<Project[]> {
    return (await this.collection.find()).sort(byPriority);
  }

  async saveSpecVersion(projectId: string, text: string, author: string, approved: boolean, commit?: string): Promise<SpecVersion> {
    const versions = this.context.store.collection("spec_versions");
    const [last] = await versions.find({ projectId }, { sort: { version: -1 }, limit: 1 });
    const version = stripUndefined({ _id: this.context.newId(), projectId, version: (last?.version ?? 0) + 1, text, hash: specHash(text), author, approved, commit, at: now(this.context) });
    await versions.insert(version);
    return version;
  }

  /** The newest approved version of a project's spec. */
  async approvedSpec(projectId: string): Promise<SpecVersion | undefined> {
    const [last] = await this.context.store.collection("spec_versions").find({ projectId, approved: true }, { sort: { version: -1 }, limit: 1 });
    return last;
  }

  specHistory(projectId: string): Promise<SpecVersion[]> {
    return this.context.store.collection("spec_versions").find({ projectId }, { sort: { version: 1 } });
  }
}
