// After an approval, the Architect tries to complete the ticket's functionality (feature → DEV)
// in the background: a test suite may take minutes and the human goes on reviewing. One run per
// functionality at a time; the PM reports in the chat, a notification points there.
import * as vscode from "vscode";
import { completeFunction, type FunctionCompletion } from "../../core/agents/functionCompletion";
import { featureBranch, type GitOps } from "../../core/gitops/gitOps";
import { describeError, type Logger } from "../../core/logger";
import type { MemoryManager } from "../../core/memory/memoryManager";
import type { Project } from "../../core/store/records";
import { DEFAULT_TDD_LIMITS } from "../../core/tdd/engine";
import type { TestRunner } from "../../core/tdd/testRun";
import type { Settings } from "../../platform/settings";

/** Whether `project`'s test suite passes in `worktree` (a checkout of a feature branch). */
export type SuiteCheck = (project: Project, worktree: string) => Promise<boolean>;

/** The suite on a feature branch before it merges into DEV: the test runner's clean, limited run. */
export function suiteChecker(settings: Settings, runner: TestRunner): SuiteCheck {
  return async (project, worktree) => {
    const run = await runner.run({ cwd: worktree, command: project.testCommand, timeoutMs: settings.get("tdd.testTimeoutSeconds") * 1000, outputCapBytes: DEFAULT_TDD_LIMITS.outputCapBytes });
    // A suite that could not run (timeout, missing command, syntax error) is not a red suite: it is reported.
    if (run.summary.outcome === "error") throw new Error(`\`${project.testCommand}\` could not run properly${run.timedOut ? " (time limit)" : ""}: ${run.output.slice(-300)}`);
    return run.summary.outcome === "pass";
  };
}

export class FunctionCompletions implements vscode.Disposable {
  private readonly running = new Map<string, Promise<FunctionCompletion | undefined>>();

  constructor(private readonly deps: { suiteGreen: SuiteCheck; log: Logger; onChanged(): void }) {}

  /** Starts (or joins) the completion of a functionality; never rejects. */
  start(project: Project, functionalityId: string, memory: MemoryManager, git: GitOps): Promise<FunctionCompletion | undefined> {
    const key = `${project._id}\n${functionalityId}`;
    const previous = this.running.get(key) ?? Promise.resolve(undefined);
    // Chained, not shared: an approval during a run may be the one that completes the functionality.
    const run = previous.then(() => this.run(project, functionalityId, memory, git));
    this.running.set(key, run);
    void run.finally(() => {
      if (this.running.get(key) === run) this.running.delete(key);
    });
    return run;
  }

  /** Resolves when no completion is running (for tests and shutdown). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  private async run(project: Project, functionalityId: string, memory: MemoryManager, git: GitOps): Promise<FunctionCompletion | undefined> {
    const feature = featureBranch(functionalityId);
    try {
      const outcome = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: vscode.l10n.t("Redgreen: checking {0}", feature) },
        () => completeFunction(project, functionalityId, { memory, git, suiteGreen: (worktree) => this.deps.suiteGreen(project, worktree) }),
      );
      this.deps.log.info(`Completing ${feature} of "${project.name}": ${outcome.kind}`);
      this.notify(project, feature, outcome);
      if (outcome.kind !== "notReady" && outcome.kind !== "alreadyMerged") this.deps.onChanged();
      return outcome;
    } catch (error) {
      this.deps.log.error(`Completing ${feature} of "${project.name}" failed: ${describeError(error)}`);
      return undefined;
    }
  }

  private notify(project: Project, feature: string, outcome: FunctionCompletion): void {
    switch (outcome.kind) {
      case "notReady":
      case "alreadyMerged":
        return;
      case "merged":
        void vscode.window.showInformationMessage(vscode.l10n.t("{0}: every ticket of {1} is done and its suite is green; the Architect merged it into DEV.", project.name, feature));
        return;
      default:
        void vscode.window.showWarningMessage(vscode.l10n.t("{0}: every ticket of {1} is done, but it was not merged into DEV. The PM explains why in the chat.", project.name, feature));
    }
  }

  dispose(): void {
    this.running.clear();
  }
}
