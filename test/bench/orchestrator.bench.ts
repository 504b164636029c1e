// What the team costs per ticket step outside model and test time: tickets run by the orchestrator
// on a real repository with pairs that read their prompts (scripted, answering at once) and the
// real test runner, whose own time (each run's durationMs) is taken out. What is left is
// orchestration: assigning pairs, git (worktrees, commits, resets), the store, context packing.
// Printed per step (one test run each), median of the tickets, with a bare `git commit` in the same
// repository as the baseline. Goal: under 50 ms per step. `REDGREEN_BENCH_TICKETS` (default 6).
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { processTestRunner } from "../../src/adapters/exec/processTestRunner";
import { worktreeFiles } from "../../src/adapters/exec/worktreeFiles";
import { simpleGitPort } from "../../src/adapters/git/simpleGit";
import { openEmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { GitOps } from "../../src/core/gitops/gitOps";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { ModelManager } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import { Orchestrator } from "../../src/core/orchestrator/orchestrator";
import { settingDefault, type SettingKey, type SettingValue } from "../../src/core/settings";
import { specTemplate } from "../../src/core/spec/spec";
import type { TestRunner } from "../../src/core/tdd/testRun";
import type { GitPort } from "../../src/core/gitops/git";
import { forever, readingDeveloper, readingTester } from "../fakes/readingPair";
import { FakeClock, ScriptedBackend } from "../fakes/scriptedBackend";
import { noModels, silent } from "../fixtures/kit";

const TICKETS = Number(process.env.REDGREEN_BENCH_TICKETS) || 6;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const git = (dir: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=B", "-c", "user.email=b@b", ...args], { cwd: dir, encoding: "utf8" });

async function repository(root: string): Promise<string> {
  const dir = path.join(root, "repo");
  await fs.mkdir(path.join(dir, "test"), { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  await fs.writeFile(path.join(dir, "package.json"), JSON.stringify({ name: "bench", scripts: { test: "node --test" } }));
  await fs.writeFile(path.join(dir, "test", "smoke.test.js"), "require('node:test')('runs', () => {});\n");
  await fs.writeFile(path.join(dir, "SPEC.md"), specTemplate("Bench"));
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "start");
  return dir;
}

/** The git adapter, with the time spent in git processes counted apart (overlapping calls once). */
function measuredGit(): { port: GitPort; spent: () => number } {
  let spent = 0;
  let active = 0;
  let since = 0;
  const port = new Proxy(simpleGitPort, {
    get(target, key: keyof GitPort): unknown {
      const original: unknown = Reflect.get(target, key);
      if (typeof original !== "function") return original;
      const call = original as (...a: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        if (active++ === 0) since = performance.now();
        try {
          return await call.apply(target, args);
        } finally {
          if (--active === 0) spent += performance.now() - since;
        }
      };
    },
  });
  return { port, spent: () => spent };
}

/** The runner, with the time it spent running tests counted apart. */
function measuredRunner(): { runner: TestRunner; runs: number[] } {
  const inner = processTestRunner();
  const runs: number[] = [];
  return { runs, runner: { run: async (request) => { const run = await inner.run(request); runs.push(run.durationMs); return run; } } };
}

async function main(): Promise<void> {
  const root = path.join(os.tmpdir(), `redgreen-orchestrator-bench-${process.pid}`);
  const dir = await repository(root);
  const store = await openEmbeddedStore(path.join(root, "store"), { sweepIntervalMs: 0 });
  const memory = await MemoryManager.open({ store, models: noModels });
  const plan = { functionalities: [{ name: "Bench", tickets: Array.from({ length: TICKETS }, (_, i) => ({ key: `T${i}`, title: `Value ${i}`, description: "", goal: `v${i}`, acceptanceCriteria: [`\`v${i}()\` returns ${i}`], requirementIds: ["R-1"], severity: "medium", estimateHours: 1, dependsOn: [] })) }] };
  const backend = new ScriptedBackend({ arch: [JSON.stringify(plan)], tester: forever(readingTester), dev: forever(readingDeveloper) });
  const registry = parseRegistry({ models: ["arch", "tester", "dev"].map((id) => ({ id, backend: "local", path: `/m/${id}.gguf`, profile: "small" })), roles: { architect: { model: "arch" }, tester: { model: "tester" }, developer: { model: "dev" } } }, "bench");
  const models = new ModelManager(registry, { local: backend }, { defaultThreads: () => 2, clock: new FakeClock() });
  const { runner, runs } = measuredRunner();
  const timedGit = measuredGit();
  const settings = { get: <K extends SettingKey>(key: K) => settingDefault(key) as SettingValue<K> };
  const project = await memory.projects.create({ _id: "bench", name: "Bench", root: dir, priority: "medium", state: "drafting", testCommand: "node --test", specPath: "SPEC.md" }, "human");
  await memory.projects.saveSpecVersion(project._id, specTemplate("Bench"), "human", true);
  const team = new Orchestrator({
    memory, models: () => models, runner, files: worktreeFiles, settings: () => settings, log: silent, git: (p) => new GitOps(timedGit.port, p.root, silent),
    human: { decideDev: () => Promise.resolve("pause"), notify: () => undefined },
    readSpec: () => Promise.resolve(specTemplate("Bench")), scan: () => Promise.resolve(undefined), refusal: () => Promise.resolve(undefined),
  }).start();
  await memory.projects.transition(project._id, "approved", "human", "bench");
  // Planning's git (branches for every ticket) is not a step's: counted from the first pair on.
  let gitBefore = 0;
  let firstPair = 0;
  const watch = memory.tickets.onDidChange((ticket) => {
    if (ticket.column !== "inprogress" || firstPair !== 0) return;
    gitBefore = timedGit.spent();
    firstPair = performance.now();
    runs.length = 0;
  });
  await team.idle(); // planning, then every ticket to review
  const wall = performance.now() - firstPair;
  watch.dispose();
  const perTicket: number[] = [];
  for (const ticket of await memory.tickets.of(project._id)) {
    if (ticket.column !== "review") throw new Error(`${ticket._id} did not reach review (${ticket.column})`);
    const started = ticket.history.find((h) => h.to === "inprogress")!.at.getTime();
    const ended = ticket.history.find((h) => h.to === "review")!.at.getTime();
    perTicket.push(ended - started);
  }
  await team.stop();
  const testTime = runs.reduce((a, b) => a + b, 0);
  const steps = runs.length;
  const overhead = (wall - testTime) / steps;
  const gitPerStep = (timedGit.spent() - gitBefore) / steps;
  const commit = median(Array.from({ length: 7 }, (_, i) => {
    const start = performance.now();
    git(dir, "commit", "-q", "--allow-empty", "-m", `baseline ${i}`);
    return performance.now() - start;
  }));
  await store.close();
  await fs.rm(root, { recursive: true, force: true });
  const own = overhead - gitPerStep;
  console.log(`orchestrator: ${TICKETS} tickets, ${steps} steps (one test run each), per step outside model and test time: ${overhead.toFixed(0)} ms, of which git processes ${gitPerStep.toFixed(0)} ms (${(gitPerStep / commit).toFixed(1)}× a bare git commit of ${commit.toFixed(0)} ms) and the orchestrator, engine and store ${own.toFixed(0)} ms (goal < 50 ms); median ticket ${median(perTicket).toFixed(0)} ms`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : String(error));
  process.exit(1);
});
