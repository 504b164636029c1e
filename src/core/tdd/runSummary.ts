import type { TestRun } from "./testRun";

// What a test run says, in the words the agents and the human read: the line that identifies a
// failure across attempts, the count of tests, the first line of the error.

/** What identifies a failure across attempts: the failing tests and the first line of the error. */
export function fingerprint(run: TestRun): string {
  if (run.timedOut) return "the suite timed out";
  const names = run.summary.failures.map((f) => f.name).sort().join(", ");
  return `${names || "the suite fails"}: ${firstLine(run)}`;
}

/** How many tests a run reported, when it reported them. */
export function counted(run: TestRun | undefined): number | undefined {
  const { passed, failed } = run?.summary ?? {};
  return passed === null || passed === undefined || failed === null || failed === undefined ? undefined : passed + failed;
}

export function firstLine(run: TestRun): string {
  const message = run.summary.failures[0]?.message ?? run.output.split("\n").find((line) => /error|fail|not ok/i.test(line)) ?? `exit code ${run.exitCode}`;
  return message.split("\n")[0]!.trim().slice(0, 200);
}

export function describeRun(run: TestRun): string {
  const { passed, failed, outcome } = run.summary;
  if (run.timedOut) return "the suite timed out";
  if (passed === null || failed === null) return `${outcome} (exit code ${run.exitCode})`;
  return `${passed} passing, ${failed} failing`;
}
