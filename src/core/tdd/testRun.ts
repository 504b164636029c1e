// Running a project's test command: the port the TDD engine uses and what a run reports.
// The adapter (src/adapters/exec) runs the command as a real process with limits; the core only
// sees this shape, so the engine can be tested with a fake runner. Reading the output lives in
// testOutput.ts.

export type TestRunnerName = "node-test" | "mocha" | "jest" | "vitest" | "pytest" | "unknown";

/**
 * "pass" and "fail" mean the tests ran; "error" means the suite could not run properly (a syntax
 * error, a missing dependency, a command not found, a timeout, a cancel, or no test ran at all), so
 * the TDD engine never takes it for a red or a green.
 */
export type TestOutcome = "pass" | "fail" | "error";

export type TestFailure = { name: string; message: string };

export type TestSummary = {
  /** Counts as the runner reports them; null when the output was not recognised. */
  passed: number | null;
  failed: number | null;
  failures: TestFailure[];
  runner: TestRunnerName;
  outcome: TestOutcome;
};

export type TestRunRequest = {
  /** The ticket's worktree. */
  cwd: string;
  /** Run through the platform shell, as the user typed it in the project's settings. */
  command: string;
  timeoutMs: number;
  outputCapBytes: number;
  signal?: AbortSignal;
  /** Folders outside the worktree the run may read (the repository's git folder, a hooks folder). */
  readOnly?: readonly string[];
};

export type TestRun = {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
  /** stdout and stderr interleaved as they came; over the cap, the head and the tail around a cut marker. */
  output: string;
  truncated: boolean;
  summary: TestSummary;
};

export interface TestRunner {
  run(request: TestRunRequest): Promise<TestRun>;
}

/** Thrown instead of running anything when the workspace is not trusted. */
export class UntrustedWorkspaceError extends Error {}

/** Thrown instead of running anything when a sandbox is required and this machine has none. */
export class SandboxUnavailableError extends Error {}

/** Where capped output was cut, said in the output itself so agents and people see it. */
export const cutMarker = (bytes: number) => `\n[… ${bytes} bytes cut …]\n`;
