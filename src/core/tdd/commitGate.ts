import path from "node:path";
import type { Actor, GitOps } from "../gitops/gitOps";
import type { FileEdit, WorktreeFiles } from "./edits";
import type { TestRunner } from "./testRun";

// What stands between a verified step and its commit, besides the edit rules: the repository's
// pre-commit hook, run in the sandbox like a test run, and the check that nothing but the step's
// edits changed (a run or a hook may not write into the commit).

/** A step's edits as written, and the commit the step started from (where a refused attempt goes back to). */
export type Applied = { changed: string[]; edits: FileEdit[]; base: string };

/**
 * What the test run (or the pre-commit hook) wrote itself: every file that differs from the
 * step's start and is not an edit as the engine wrote it. Such writes would slip past the edit
 * rules into a commit (a Developer's code rewriting a test while the suite runs).
 */
export async function strayWrites(git: GitOps, files: WorktreeFiles, worktree: string, applied: Applied): Promise<string[]> {
  const written = new Map(applied.edits.map((edit) => [edit.path, edit.content]));
  const stray = (await git.changedSince(worktree, applied.base)).filter((file) => !written.has(file));
  for (const [file, content] of written) if ((await files.read(file)) !== content) stray.push(file);
  return stray;
}

export interface HookRun {
  git: GitOps;
  runner: TestRunner;
  worktree: string;
  actor: Actor;
  timeoutMs: number;
  outputCapBytes: number;
  signal?: AbortSignal;
}

/** The repository's pre-commit hook, run in the sandbox like a test run; why it refused, or undefined. */
export async function preCommitRefusal({ git, runner, worktree, actor, timeoutMs, outputCapBytes, signal }: HookRun): Promise<{ failed: string; output: string } | undefined> {
  const hook = await git.hookFile(worktree, "pre-commit");
  if (!hook) return undefined;
  await git.stageAll(worktree, actor);
  const readOnly = [await git.gitFolder(), path.dirname(hook)];
  const run = await runner.run({ cwd: worktree, command: shellQuote(hook), timeoutMs, outputCapBytes, signal, readOnly });
  if (run.exitCode === 0) return undefined;
  const tail = run.output.trim().split("\n").slice(-3).join(" / ").slice(0, 300);
  return { failed: `the repository's pre-commit hook refused the commit (${run.timedOut ? "timed out" : `exit code ${run.exitCode}`})${tail ? `: ${tail}` : ""}`, output: run.output };
}

/** One argument for the shell, whatever the path holds. */
function shellQuote(file: string): string {
  return `'${file.replace(/'/g, `'\\''`)}'`;
}
