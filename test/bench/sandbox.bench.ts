// What the sandbox costs per test run: the same small `node --test` suite (three files, as a
// ticket's worktree has) run through the test runner inside bubblewrap and without it,
// alternating, in the same process. Prints the medians and their ratio (goal: at most 1.2).
// `REDGREEN_BENCH_RUNS` sets the runs per side (default 15).
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ProcessTestRunner } from "../../src/adapters/exec/processTestRunner";
import { probeSandbox } from "../../src/adapters/exec/sandbox";

const RUNS = Number(process.env.REDGREEN_BENCH_RUNS) || 15;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function suite(): Promise<string> {
  const dir = path.join(os.tmpdir(), `redgreen-sandbox-bench-${process.pid}`);
  await fs.mkdir(path.join(dir, "test"), { recursive: true });
  await fs.writeFile(path.join(dir, "sum.js"), "exports.sum = (a, b) => a + b;\n");
  for (const name of ["a", "b", "c"]) {
    await fs.writeFile(path.join(dir, "test", `${name}.test.js`), `const test = require('node:test');\nconst assert = require('node:assert');\nconst { sum } = require('../sum.js');\ntest('${name}', () => assert.strictEqual(sum(2, 3), 5));\n`);
  }
  return dir;
}

async function timed(runner: ProcessTestRunner, cwd: string): Promise<number> {
  const start = performance.now();
  const run = await runner.run({ cwd, command: "node --test", timeoutMs: 60_000, outputCapBytes: 200_000 });
  if (run.summary.outcome !== "pass") throw new Error(`the bench suite did not pass:\n${run.output}`);
  return performance.now() - start;
}

async function main(): Promise<void> {
  const probe = probeSandbox();
  if (probe.kind === "none") throw new Error(`no sandbox to measure: ${probe.reason}`);
  const cwd = await suite();
  const sandboxed = new ProcessTestRunner();
  const plain = new ProcessTestRunner({ sandbox: { require: () => false, probe: () => ({ kind: "none", reason: "the baseline" }) } });
  await timed(sandboxed, cwd); // warm the file cache for both sides
  const inside: number[] = [];
  const outside: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    outside.push(await timed(plain, cwd));
    inside.push(await timed(sandboxed, cwd));
  }
  await fs.rm(cwd, { recursive: true, force: true });
  const ratio = median(inside) / median(outside);
  console.log(`sandbox: a 3-file node --test run, median of ${RUNS}: ${median(inside).toFixed(0)} ms in bubblewrap, ${median(outside).toFixed(0)} ms without; ratio ${ratio.toFixed(2)} (goal ≤ 1.2)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
