// "Which project?": one edge that resolves the project argument of every command, as the git
// extension's command center resolves its repository. An id, a name (any case) or a folder;
// without one, the project whose folder holds the current directory (the innermost one).
import { statSync } from "node:fs";
import path from "node:path";
import { isInside, realFolder } from "../core/folderTrust";
import type { MemoryManager } from "../core/memory/memoryManager";
import type { Project } from "../core/store/records";
import { CliError } from "./errors";

function known(projects: Project[]): string {
  return projects.length === 0 ? "there is no project yet: create one with redgreen init" : `known projects: ${projects.map((p) => `${p.name} (${p.root})`).join(", ")}`;
}

function innermostHolding(projects: Project[], folder: string): Project | undefined {
  const target = realFolder(folder);
  return projects
    .filter((p) => isInside(target, realFolder(p.root)))
    .sort((a, b) => b.root.length - a.root.length)[0];
}

/** The project `arg` names, or the one around `cwd`; a one-line error listing the known ones otherwise. */
export async function resolveProject(memory: MemoryManager, arg: string | undefined, cwd = process.cwd()): Promise<Project> {
  const projects = await memory.projects.list();
  if (arg === undefined || arg === "") {
    const around = innermostHolding(projects, cwd);
    if (around) return around;
    throw new CliError(`${cwd} is not inside a project: name one; ${known(projects)}`);
  }
  const found =
    projects.find((p) => p._id === arg) ??
    projects.find((p) => p.name.toLowerCase() === arg.toLowerCase()) ??
    (looksLikePath(arg, cwd) ? innermostHolding(projects, path.resolve(cwd, arg)) : undefined);
  if (found) return found;
  throw new CliError(`No project "${arg}": ${known(projects)}`);
}

/** A folder argument: written as a path, or the name of a folder that is there (a typo stays a typo). */
function looksLikePath(arg: string, cwd: string): boolean {
  if (arg.includes("/") || arg.includes(path.sep) || arg === "." || arg === "..") return true;
  return statSync(path.resolve(cwd, arg), { throwIfNoEntry: false })?.isDirectory() === true;
}
