import { DEV, featureBranch, MergeConflictError, type GitOps } from "../gitops/gitOps";
import { describeError } from "../logger";
import type { MemoryManager } from "../memory/memoryManager";
import type { Project, Ticket } from "../store/records";
import type { TddLimits } from "../tdd/engine";
import type { TestRunner } from "../tdd/testRun";
import { branchOf } from "../tickets/review";

// A functionality is complete when every ticket it still has is done. The Architect then checks
// the work (every ticket's branch really is in the feature branch, the test suite is green there)
// and merges feature/<func> into DEV, pushing where a remote is configured. Whatever stops it is
// said to the human by the PM, and nothing is merged: a red suite, a conflict, a missing branch.
// Never main: GitOps refuses it, and DEV is the only target here.

export interface FunctionalityCompletionDeps {
  memory: MemoryManager;
  git: GitOps;
  /** Whether the project's test suite passes in `worktreePath`, a checkout of the feature branch. */
  suiteGreen(worktreePath: string): Promise<boolean>;
}

export type FunctionalityCompletion =
  /** Some tickets are not done yet (or there are none): nothing to do. */
  | { kind: "notReady"; open: string[] }
  /** DEV has everything of the feature branch already (an earlier completion): nothing to say. */
  | { kind: "alreadyMerged" }
  /** Tickets marked done whose branches have commits the feature branch lacks. */
  | { kind: "unmerged"; tickets: string[] }
  | { kind: "red" }
  | { kind: "conflict"; conflicts: string[] }
  | { kind: "merged"; commit: string; pushed: string[] }
  | { kind: "failed"; message: string };

export async function completeFunctionality(project: Project, functionalityId: string, deps: FunctionalityCompletionDeps): Promise<FunctionalityCompletion> {
  const { memory, git } = deps;
  const feature = featureBranch(functionalityId);
  const tickets = (await memory.tickets.of(project._id)).filter((t) => t.functionalityId === functionalityId && !t.withdrawn);
  const open = tickets.filter((t) => t.column !== "done").map((t) => t._id);
  if (tickets.length === 0 || open.length > 0) return { kind: "notReady", open };

  const say = (channel: "agents" | "human", text: string) =>
    memory.transcript.record({ kind: "message", projectId: project._id, functionalityId, channel, from: channel === "human" ? "pm" : "architect", text });
  const stop = async (outcome: FunctionalityCompletion, why: string): Promise<FunctionalityCompletion> => {
    await say("agents", `${feature} stays out of DEV: ${why}`);
    await say("human", `Every ticket of "${functionalityId}" is done, but the Architect did not merge ${feature} into DEV: ${why}`);
    return outcome;
  };

  try {
    for (const name of [feature, DEV]) {
      if (!(await git.hasBranch(name))) return await stop({ kind: "failed", message: `${name} does not exist` }, `the branch ${name} does not exist.`);
    }
    // Before "already merged": a ticket dragged to done without its merge must not pass unseen.
    const unmerged = await unmergedTickets(tickets, feature, git);
    if (unmerged.length > 0) {
      return await stop({ kind: "unmerged", tickets: unmerged }, `${unmerged.join(", ")} ${unmerged.length === 1 ? "is" : "are"} done but ${unmerged.length === 1 ? "its branch has" : "their branches have"} commits ${feature} does not have. That work never reached ${feature}: reopen ${unmerged.length === 1 ? "it" : "them"} so it is reviewed and merged.`);
    }
    if ((await git.commits(DEV, feature)).length === 0) return { kind: "alreadyMerged" };
    await say("agents", `All ${tickets.length} tickets of "${functionalityId}" are done (${tickets.map((t) => t._id).join(", ")}): checking ${feature} before it goes into DEV.`);

    let green: boolean;
    try {
      green = await git.withCheckout(feature, (worktree) => deps.suiteGreen(worktree));
    } catch (error) {
      return await stop({ kind: "failed", message: describeError(error) }, `the test suite could not be run on it (${describeError(error)}).`);
    }
    if (!green) {
      return await stop({ kind: "red" }, `the test suite (\`${project.testCommand}\`) fails on ${feature}, so the tickets do not work together yet.`);
    }

    let commit: string;
    try {
      commit = await git.merge(DEV, feature, { role: "architect", functionalityId });
    } catch (error) {
      if (!(error instanceof MergeConflictError)) throw error;
      return await stop({ kind: "conflict", conflicts: error.conflicts }, `merging it into DEV conflicts in ${error.conflicts.join(", ")}. The merge was stopped and both branches are unchanged. How should the conflict be resolved?`);
    }
    const { pushed, pushFailure } = await pushBranches(git, [DEV, feature]);
    await say("agents", `Merged ${feature} into DEV (${commit.slice(0, 10)}) after a green suite${pushed.length ? `; pushed ${pushed.join(" and ")}` : ""}.`);
    const where = pushed.length ? `, and pushed ${pushed.join(" and ")} to the remote` : pushFailure ? `, but pushing failed: ${pushFailure}` : "";
    await say("human", `"${functionalityId}" is complete: its ${tickets.length} ${tickets.length === 1 ? "ticket is" : "tickets are"} in DEV (merge ${commit.slice(0, 10)}, test suite green)${where}.`);
    return { kind: "merged", commit, pushed };
  } catch (error) {
    const message = describeError(error);
    return await stop({ kind: "failed", message }, `${message}.`).catch(() => ({ kind: "failed" as const, message }));
  }
}

/** Done tickets whose branch has commits the feature branch lacks (moved to done without a merge). */
async function unmergedTickets(tickets: Ticket[], feature: string, git: GitOps): Promise<string[]> {
  const unmerged: string[] = [];
  for (const ticket of tickets) {
    const branch = branchOf(ticket);
    if ((await git.hasBranch(branch)) && (await git.commits(feature, branch)).length > 0) unmerged.push(ticket._id);
  }
  return unmerged;
}

/** Pushes where a remote is configured; the merge stands even when a push fails. */
async function pushBranches(git: GitOps, branches: string[]): Promise<{ pushed: string[]; pushFailure?: string }> {
  const pushed: string[] = [];
  try {
    for (const branch of branches) if (await git.push(branch, { role: "architect" })) pushed.push(branch);
    return { pushed };
  } catch (error) {
    return { pushed, pushFailure: describeError(error) };
  }
}

/**
 * The project's suite in a checkout of its feature branch, as the engine runs tests: green or not.
 * A suite that could not run (a time-out, a missing command, a syntax error) is not red: it is reported.
 */
export function featureSuiteCheck(runner: TestRunner, limits: Pick<TddLimits, "testTimeoutMs" | "outputCapBytes">, project: Project): (worktree: string) => Promise<boolean> {
  return async (worktree) => {
    const run = await runner.run({ cwd: worktree, command: project.testCommand, timeoutMs: limits.testTimeoutMs, outputCapBytes: limits.outputCapBytes });
    if (run.summary.outcome === "error") throw new Error(`\`${project.testCommand}\` could not run properly${run.timedOut ? " (time limit)" : ""}: ${run.output.slice(-300)}`);
    return run.summary.outcome === "pass";
  };
}
