// Creates a project: a folder (created if needed, a git repository initialised if it is not one),
// the spec from its template and the project record. Everything is checked before anything is
// created, and what was created is removed again if a later step fails. No vscode here.
import { constants, promises as fs } from "node:fs";
import path from "node:path";
import type { GitPort } from "../gitops/git";
import { protectedBranchIn } from "../gitops/gitOps";
import type { Logger } from "../logger";
import type { MemoryManager } from "../memory/memoryManager";
import { newProjectSchema } from "./project";
import type { Project } from "../store/records";
import { specTemplate } from "../spec/spec";

export class NewProjectError extends Error {}

/** Validates, then creates folder, repository, spec file and project record, or nothing at all. */
export async function createProject(input: unknown, deps: { memory: MemoryManager; git: GitPort; specPath: string; log: Logger }): Promise<{ project: Project; specFile: string }> {
  const parsed = newProjectSchema.safeParse(input);
  if (!parsed.success) throw new NewProjectError(parsed.error.issues.map((issue) => issue.message).join("; "));
  const fields = parsed.data;
  const folder = path.resolve(fields.folder);
  const existing = await deps.memory.projects.list();
  const sameName = existing.find((p) => p.name.toLowerCase() === fields.name.toLowerCase());
  if (sameName) throw new NewProjectError(`A project named "${sameName.name}" already exists (in ${sameName.root}).`);
  const sameFolder = existing.find((p) => path.resolve(p.root) === folder);
  if (sameFolder) throw new NewProjectError(`${folder} is already the project "${sameFolder.name}".`);

  const undo: (() => Promise<unknown>)[] = [];
  try {
    if (!(await exists(folder))) {
      await fs.mkdir(folder, { recursive: true }).catch((error: Error) => {
        throw new NewProjectError(`Cannot create the folder ${folder}: ${error.message}`);
      });
      undo.push(() => fs.rm(folder, { recursive: true, force: true }));
    }
    await fs.access(folder, constants.W_OK).catch(() => {
      throw new NewProjectError(`The folder ${folder} is not writable.`);
    });
    if (!(await deps.git.isRepositoryRoot(folder))) {
      await deps.git.init(folder);
      undo.push(() => fs.rm(path.join(folder, ".git"), { recursive: true, force: true }));
    }
    const specFile = path.join(folder, deps.specPath);
    if (!(await exists(specFile))) {
      await fs.mkdir(path.dirname(specFile), { recursive: true });
      await fs.writeFile(specFile, specTemplate(fields.name), { flag: "wx" });
      undo.push(() => fs.rm(specFile, { force: true }));
    }
    // Recorded now, whatever is checked out later: the branch agents never write to.
    const protectedBranch = fields.protectedBranch || (await protectedBranchIn(deps.git, folder));
    const project = await deps.memory.projects.create(
      { _id: globalThis.crypto.randomUUID(), name: fields.name, root: folder, priority: fields.priority, state: "drafting", testCommand: fields.testCommand, remote: fields.remote || undefined, specPath: deps.specPath, protectedBranch },
      "human",
    );
    return { project, specFile };
  } catch (error) {
    for (const step of undo.reverse()) await step().catch((cleanup: Error) => deps.log.warn(`New Project: could not undo a step: ${cleanup.message}`));
    throw error instanceof NewProjectError ? error : new NewProjectError(`Could not create the project: ${(error as Error).message}`);
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}
