import * as z from "zod";
import { isBranchName, isRedgreenBranch } from "../gitops/branchName";

// A project's rules: its priority, its life cycle and what a new project must have.
// SPEC-001: drafting → approved → planning → executing ⇄ on hold → done.

export const PRIORITIES = ["critical", "high", "medium", "low"] as const;
export type Priority = (typeof PRIORITIES)[number];

export const PROJECT_STATES = ["drafting", "approved", "planning", "executing", "onHold", "done"] as const;
export type ProjectState = (typeof PROJECT_STATES)[number];

export const STATE_NAMES: Record<ProjectState, string> = {
  drafting: "drafting",
  approved: "approved",
  planning: "planning",
  executing: "executing",
  onHold: "on hold",
  done: "done",
};

/** Where each state may go. On hold is where an edited approved spec sends a project. */
const TRANSITIONS: Record<ProjectState, readonly ProjectState[]> = {
  drafting: ["approved"],
  approved: ["planning", "onHold"],
  planning: ["executing", "onHold"],
  executing: ["onHold", "done"],
  onHold: ["approved", "planning", "executing"],
  done: [],
};

export class ProjectStateError extends Error {}

export function canTransition(from: ProjectState, to: ProjectState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(name: string, from: ProjectState, to: ProjectState): void {
  if (canTransition(from, to)) return;
  const allowed = TRANSITIONS[from].map((state) => STATE_NAMES[state]).join(", ") || "nothing (it is finished)";
  throw new ProjectStateError(`Project "${name}" cannot go from ${STATE_NAMES[from]} to ${STATE_NAMES[to]}; from ${STATE_NAMES[from]} it can go to ${allowed}.`);
}

/** What the New Project command collects; checked before anything is created. */
export const newProjectSchema = z.object({
  folder: z.string().trim().min(1, "choose a folder"),
  name: z.string().trim().min(1, "the name is empty").max(80, "the name is longer than 80 characters"),
  priority: z.enum(PRIORITIES),
  testCommand: z.string().trim().min(1, "the test command is empty: say how the project's tests run, e.g. npm test"),
  remote: z.string().trim().optional(),
  /** The branch agents never write to; empty or absent: main, master, trunk or develop, else the branch HEAD names. */
  protectedBranch: z.string().trim()
    .refine((name) => name === "" || isBranchName(name), "the protected branch is not a branch name (letters, digits, . _ / -)")
    .refine((name) => !isRedgreenBranch(name), "the protected branch cannot be DEV, feature/… or ticket/…: Redgreen's agents write those")
    .optional(),
});
export type NewProject = z.infer<typeof newProjectSchema>;

/** Higher priority first, then by name. */
export function byPriority<T extends { priority: Priority; name: string }>(a: T, b: T): number {
  return PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority) || a.name.localeCompare(b.name);
}
