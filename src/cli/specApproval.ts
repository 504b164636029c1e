// Approving a project's spec from the file on disk, through the core's rule (core/spec/approval.ts),
// which the editor's CodeLens uses too.
import { promises as fs } from "node:fs";
import type { GitPort } from "../core/gitops/git";
import type { Logger } from "../core/logger";
import type { MemoryManager } from "../core/memory/memoryManager";
import { specFileOf } from "../core/spec/specFile";
import { approveSpec, type SpecApproval } from "../core/spec/approval";
import type { Project } from "../core/store/records";
import { CliError } from "./errors";


export async function readSpec(project: Project): Promise<string> {
  const file = specFileOf(project);
  return fs.readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new CliError(error.code === "ENOENT" ? `The spec ${file} does not exist` : `Cannot read the spec ${file}: ${error.message}`);
  });
}

export async function approveSpecFile(project: Project, deps: { memory: MemoryManager; git: GitPort; log: Logger }): Promise<SpecApproval> {
  const approval = await approveSpec(project, await readSpec(project), deps);
  if (!approval.alreadyApproved && approval.version.commit) deps.log.info(`Spec v${approval.version.version} of "${project.name}" approved and committed as ${approval.version.commit.slice(0, 10)}`);
  return approval;
}
