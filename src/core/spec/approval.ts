import type { GitPort } from "../gitops/git";
import type { MemoryManager } from "../memory/memoryManager";
import { canTransition } from "../projects/project";
import type { Project, SpecVersion } from "../store/records";
import { specHash } from "./spec";

// The human's approval of a spec, for every face: the same text approved again stores nothing
// (and, edited and changed back, lifts "on hold"); a new text is committed (the spec file only)
// and stored as the next approved version, and the project becomes approved where its life cycle
// allows it. Planning follows from the project's change (the orchestrator).

export interface SpecApproval {
  version: SpecVersion;
  project: Project;
  /** The text was approved already: nothing new was stored or committed. */
  alreadyApproved: boolean;
}

export async function approveSpec(project: Project, text: string, deps: { memory: MemoryManager; git: GitPort }): Promise<SpecApproval> {
  const { memory } = deps;
  const approved = await memory.projects.approvedSpec(project._id);
  if (approved?.hash === specHash(text)) {
    if (project.state !== "onHold") return { version: approved, project, alreadyApproved: true };
    const again = await memory.projects.transition(project._id, "approved", "human", `spec v${approved.version} approved again`);
    return { version: approved, project: again, alreadyApproved: false };
  }
  const next = (await memory.projects.specHistory(project._id)).length + 1;
  const commit = await deps.git.commitFile(project.root, project.specPath, `Approve spec v${next} of ${project.name}\n\nRedgreen-Spec-Version: ${next}`);
  const version = await memory.projects.saveSpecVersion(project._id, text, "human", true, commit);
  const current = project.state !== "approved" && canTransition(project.state, "approved") ? await memory.projects.transition(project._id, "approved", "human", `spec v${version.version} approved`) : project;
  return { version, project: current, alreadyApproved: false };
}
