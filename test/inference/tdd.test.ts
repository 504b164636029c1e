// The TDD engine over the real model host, the pair played by the generated random-weight model:
// whatever it answers, the ticket ends blocked (or, by luck, further on) within the engine's
// bounds: no crash, no endless loop, a bounded number of model calls, and the user's working tree
// untouched. The PM's question about the blocked ticket reaches the chat.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { processTestRunner } from "../../src/adapters/exec/processTestRunner";
import { worktreeFiles } from "../../src/adapters/exec/worktreeFiles";
import { simpleGitPort } from "../../src/adapters/git/simpleGit";
import { LocalModelBackend } from "../../src/adapters/llm/localBackend";
import { ModelHostProcess } from "../../src/adapters/llm/modelHostProcess";
import { openEmbeddedStore, type EmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { GitOps } from "../../src/core/gitops/gitOps";
import { memoryModelsOf } from "../../src/core/memory/knowledge";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { ModelManager, type CallRecord } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import { DEFAULT_TEST_PATHS } from "../../src/core/tdd/edits";
import { DEFAULT_TDD_LIMITS, runTicket } from "../../src/core/tdd/engine";
import { chatModel } from "../fixtures/models/makeModels";
import { silent } from "../fixtures/kit";

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const THREADS = 2;
const ATTEMPTS_PER_MODEL = 2;
const LIMITS = { ...DEFAULT_TDD_LIMITS, attemptsPerStep: 3, cyclesPerTicket: 2, maxTokens: 96, contextBudget: 600, testTimeoutMs: 30_000 };

describe("A TDD pair on a random-weight model on the real model host", function () {
  this.timeout(240_000);
  const root = path.join(os.tmpdir(), `redgreen-tdd-inference-${process.pid}`);
  const dir = path.join(root, "repo");
  let host: ModelHostProcess;
  let backend: LocalModelBackend;
  let models: ModelManager;
  let store: EmbeddedStore;
  let memory: MemoryManager;
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", ...args], { cwd: dir, encoding: "utf8" });

  before(async () => {
    const modelPath = await chatModel();
    host = new ModelHostProcess({ entry: path.join(repoRoot, "dist", "modelHost.js"), log: silent });
    backend = new LocalModelBackend(host);
    const registry = parseRegistry({
      models: [
        { id: "code", backend: "local", path: modelPath, contextSize: 2048, profile: "small", threads: THREADS },
        { id: "code-fallback", backend: "local", path: modelPath, contextSize: 2048, profile: "small", threads: THREADS },
      ],
      roles: { tester: { model: "code", fallback: "code-fallback" }, developer: { model: "code", fallback: "code-fallback" } },
    }, "test");
    models = new ModelManager(registry, { local: backend }, { defaultThreads: () => THREADS, attemptsPerModel: ATTEMPTS_PER_MODEL });
    await fs.rm(root, { recursive: true, force: true });
    await fs.mkdir(path.join(dir, "test"), { recursive: true });
    git("init", "-q", "-b", "main");
    await fs.writeFile(path.join(dir, "test", "smoke.test.js"), "require('node:test')('runs', () => {});\n");
    await fs.writeFile(path.join(dir, "notes.txt"), "mine\n");
    git("add", "test", "notes.txt");
    git("commit", "-q", "-m", "start");
    await fs.writeFile(path.join(dir, "notes.txt"), "mine, still being written\n");
    store = await openEmbeddedStore(path.join(root, "store"), { sweepIntervalMs: 0 });
    memory = await MemoryManager.open({ store, models: memoryModelsOf(() => models) });
  });

  after(async () => {
    await store?.close();
    models?.dispose();
    backend?.dispose();
    host?.dispose();
    await fs.rm(root, { recursive: true, force: true });
  });

  it("ends the ticket blocked within its bounds, and the PM asks the human", async () => {
    const project = await memory.projects.create({ _id: "p1", name: "Calc", root: dir, priority: "high", state: "executing", testCommand: "node --test", specPath: "SPEC.md" }, "human");
    const gitOps = new GitOps(simpleGitPort, dir, silent);
    await gitOps.createDev();
    await gitOps.ensureFeature("math");
    const ticket = await memory.tickets.create({
      _id: "CALC-1", projectId: project._id, functionalityId: "math", title: "Sum", description: "", goal: "Add two numbers.", acceptanceCriteria: ["sum(2, 3) is 5"],
      requirementIds: ["R-1"], column: "todo", severity: "medium", timeEstimate: 1, assignedPair: null, filesChanged: [], testPassRate: null, branch: await gitOps.createTicketBranch("CALC-1", "math"), blockedBy: [],
    }, "architect");
    const records: CallRecord[] = [];
    const subscription = models.onDidRecord((record) => records.push(record));
    const started = Date.now();
    let outcome;
    try {
      outcome = await runTicket(project, ticket, { memory, models, git: gitOps, runner: processTestRunner(), files: worktreeFiles, testPaths: DEFAULT_TEST_PATHS, limits: LIMITS, pair: "pair-1" });
    } finally {
      subscription.dispose();
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`      ${outcome.kind} after ${seconds.toFixed(1)} s and ${records.length} model calls: ${records.map((r) => `${r.model} ${r.outcome}`).join(", ")}`);
    // Each step: at most attemptsPerStep asks, each at most 2 attempts on each of 2 models; steps per
    // cycle: red, green, refactor.
    const bound = LIMITS.cyclesPerTicket * 3 * LIMITS.attemptsPerStep * 2 * ATTEMPTS_PER_MODEL;
    assert.ok(records.length > 0 && records.length <= bound, `${records.length} calls, bound ${bound}`);
    assert.ok(["blocked", "needsClarification", "review"].includes(outcome.kind), outcome.kind);
    if (outcome.kind !== "review") {
      const said = (await memory.transcript.messages(project._id, { channel: "human" })).map((c) => c.text).join("\n");
      assert.match(said, /CALC-1 \(Sum\) (is blocked|needs your answer)/);
      assert.equal((await memory.tickets.get("CALC-1"))!.column, "inprogress");
    }
    assert.equal(execFileSync("git", ["status", "--porcelain"], { cwd: dir, encoding: "utf8" }), " M notes.txt\n", "the user's uncommitted change is there, and nothing else");
    assert.equal(await fs.readFile(path.join(dir, "notes.txt"), "utf8"), "mine, still being written\n");
    assert.equal(git("branch", "--show-current").trim(), "main");
  });
});
