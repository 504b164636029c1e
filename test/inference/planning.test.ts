// The Architect's planning over the real model host, on the generated random-weight chat model:
// whatever the model says, the grammar-constrained plan either validates and is applied, or the
// ModelManager escalates and gives up cleanly after a bounded number of attempts, leaving the
// project approved, no tickets, no new branches and the user's working tree untouched.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { simpleGitPort } from "../../src/adapters/git/simpleGit";
import { LocalModelBackend } from "../../src/adapters/llm/localBackend";
import { ModelHostProcess } from "../../src/adapters/llm/modelHostProcess";
import { openEmbeddedStore, type EmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { requirementIds } from "../../src/core/agents/architect";
import { planProject } from "../../src/core/agents/planning";
import { GitOps } from "../../src/core/gitops/gitOps";
import { memoryModelsOf } from "../../src/core/memory/knowledge";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { ModelManager, type CallRecord } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import { ticketSchema, type Project } from "../../src/core/store/records";
import { chatModel } from "../fixtures/models/makeModels";
import { gitIn, silent } from "../fixtures/kit";

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const THREADS = 2;
const ATTEMPTS_PER_MODEL = 2;
/** Per attempt: short enough that four attempts finish in seconds on two cores. */
const MAX_TOKENS = 96;

const spec = `# Shop: specification

## Requirements

- **R-1**: The cart shows the total of its items.
  - Acceptance: two items of 2 and 3 show a total of 5.
- **R-2**: An order can be paid.
  - Acceptance: a paid order is recorded as paid.
- **R-3**: A gift card code reduces the total.
  - Acceptance: a valid code of 5 takes 5 off.
`;

describe("Architect planning with a random-weight model on the real model host", function () {
  this.timeout(120_000);
  const root = path.join(os.tmpdir(), `redgreen-planning-inference-${process.pid}`);
  const dir = path.join(root, "repo");
  let host: ModelHostProcess;
  let backend: LocalModelBackend;
  let models: ModelManager;
  let store: EmbeddedStore;
  let memory: MemoryManager;
  let project: Project;
  const git = (...args: string[]) => gitIn(dir, ...args);
  /** Not trimmed: porcelain status lines start with a space for unstaged changes. */
  const status = () => execFileSync("git", ["status", "--porcelain"], { cwd: dir, encoding: "utf8" });

  before(async () => {
    const modelPath = await chatModel();
    host = new ModelHostProcess({ entry: path.join(repoRoot, "dist", "modelHost.js"), log: silent });
    backend = new LocalModelBackend(host);
    // Two models on the same random weights: the Architect's own and the fallback it escalates to.
    const registry = parseRegistry(
      {
        models: [
          { id: "architect-model", backend: "local", path: modelPath, contextSize: 2048, profile: "heavy", threads: THREADS },
          { id: "architect-fallback", backend: "local", path: modelPath, contextSize: 2048, profile: "heavy", threads: THREADS },
        ],
        roles: { architect: { model: "architect-model", fallback: "architect-fallback" } },
      },
      "test",
    );
    models = new ModelManager(registry, { local: backend }, { defaultThreads: () => THREADS, attemptsPerModel: ATTEMPTS_PER_MODEL });

    await fs.rm(root, { recursive: true, force: true });
    await fs.mkdir(path.join(dir, "src"), { recursive: true });
    git("init", "-q", "-b", "main");
    await fs.writeFile(path.join(dir, "SPEC.md"), spec);
    await fs.writeFile(path.join(dir, "src", "cart.txt"), "total = sum(items)\n");
    git("add", "SPEC.md", "src/cart.txt");
    git("commit", "-q", "-m", "Approve spec v1");

    store = await openEmbeddedStore(path.join(root, "store"), { sweepIntervalMs: 0 });
    // No embedding role: planning here scans nothing, so nothing is remembered.
    memory = await MemoryManager.open({ store, models: memoryModelsOf(() => models) });
    project = await memory.projects.create({ _id: "p1", name: "Shop", root: dir, priority: "high", state: "drafting", testCommand: "npm test", specPath: "SPEC.md" }, "human");
    await memory.projects.transition(project._id, "approved", "human", "spec v1");
    project = (await memory.projects.get(project._id))!;
  });

  after(async () => {
    await store?.close();
    models?.dispose();
    backend?.dispose();
    host?.dispose();
    await fs.rm(root, { recursive: true, force: true });
  });

  it("either applies a plan that validates or escalates and gives up cleanly, in bounded attempts, leaving the user's work alone", async () => {
    // The user's uncommitted work: a modified tracked file and an untracked one.
    await fs.writeFile(path.join(dir, "src", "cart.txt"), "total = sum(items) - discount\n");
    await fs.writeFile(path.join(dir, "notes.txt"), "the user's uncommitted notes\n");
    const statusBefore = status();
    assert.equal(statusBefore, " M src/cart.txt\n?? notes.txt\n");
    const headBefore = git("rev-parse", "HEAD");

    const records: CallRecord[] = [];
    const subscription = models.onDidRecord((record) => records.push(record));
    const started = performance.now();
    let outcome: Awaited<ReturnType<typeof planProject>>;
    try {
      outcome = await planProject(project, spec, {
        memory,
        models,
        git: new GitOps(simpleGitPort, dir, silent),
        scan: () => Promise.resolve(undefined),
        decideDev: () => Promise.reject(new Error("there is no DEV yet: not asked")),
        maxTokens: MAX_TOKENS,
      });
    } finally {
      subscription.dispose();
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `    planning took ${seconds.toFixed(1)} s, ${records.length} model calls: ` +
        records.map((r) => `${r.model}#${r.attempt} ${r.outcome} ${r.promptTokens}+${r.completionTokens} tokens ${Math.round(r.totalMs)} ms`).join("; ") +
        ` => ${outcome.kind}`,
    );

    // Bounded: at most attempts × models calls, in the chain's order, each generation capped.
    const bound = ATTEMPTS_PER_MODEL * 2;
    assert.ok(records.length >= 1 && records.length <= bound, `${records.length} calls, at most ${bound}`);
    assert.deepEqual(records.map((r) => r.attempt), records.map((_, i) => i + 1));
    records.forEach((r, i) => {
      assert.equal(r.role, "architect");
      assert.equal(r.model, i < ATTEMPTS_PER_MODEL ? "architect-model" : "architect-fallback");
      assert.equal(r.escalated, i >= ATTEMPTS_PER_MODEL);
      // "Failed to parse grammar" here: the plan schema does not compile to a llama.cpp grammar
      // (a string maxLength of 2000 or more exceeds its repetition limit), so no model can plan.
      assert.notEqual(r.outcome, "error", `the plan's grammar compiled and the host ran the call: ${r.problem ?? ""}`);
      assert.ok(r.promptTokens > 0, "the spec reached the model");
      assert.ok(r.completionTokens <= MAX_TOKENS + 1, `${r.completionTokens} tokens generated, maxTokens ${MAX_TOKENS}`);
    });
    records.slice(0, -1).forEach((r) => assert.notEqual(r.outcome, "ok", "no call after an acceptable reply"));
    // About 13 s on two idle cores; the margin is for a machine shared with other work.
    assert.ok(seconds < 90, `planning took ${seconds.toFixed(1)} s`);

    const tickets = await memory.tickets.of(project._id);
    const branches = git("branch", "--format=%(refname:short)").split("\n").sort();
    const toHuman = (await memory.transcript.messages(project._id, { channel: "human" })).map((c) => c.text);
    if (outcome.kind === "planned") {
      assert.equal(records.at(-1)!.outcome, "ok");
      assert.ok(tickets.length > 0);
      assert.deepEqual(tickets.map((t) => t._id).sort(), outcome.result.tickets.map((t) => t._id).sort());
      const known = requirementIds(spec);
      const ids = new Set(tickets.map((t) => t._id));
      for (const ticket of tickets) {
        const parsed = ticketSchema.safeParse(ticket);
        assert.ok(parsed.success, `${ticket._id} fits the ticket schema: ${parsed.error?.message ?? ""}`);
        assert.ok(ticket.requirementIds.length > 0);
        for (const id of ticket.requirementIds) assert.ok(known.includes(id), `${ticket._id} names ${id}, which the spec lacks`);
        for (const id of ticket.blockedBy) assert.ok(ids.has(id), `${ticket._id} waits for ${id}, a ticket of this plan`);
        assert.equal(ticket.column, "todo");
        assert.equal(ticket.branch, `ticket/${ticket._id.toLowerCase()}`);
        assert.ok(branches.includes(ticket.branch), `${ticket.branch} exists in git`);
        assert.ok(branches.includes(`feature/${ticket.functionalityId}`));
      }
      assert.ok(branches.includes("DEV"));
      assert.equal((await memory.projects.get(project._id))!.state, "executing");
      assert.match(toHuman.at(-1)!, /The plan is ready: \d+ tickets in \d+ functionalities/);
    } else {
      assert.equal(outcome.kind, "failed");
      assert.equal(records.length, bound, "every model in the chain was tried, each the configured number of times");
      assert.ok(records.every((r) => r.outcome === "invalid" || r.outcome === "unsatisfactory"));
      // The ModelManager's escalation error, wrapped by planning: says who, how often, and why.
      const message = outcome.message;
      assert.match(message, new RegExp(`^The Architect could not plan "Shop": The Architect got no acceptable reply after ${bound} attempts: `));
      for (const r of records) assert.ok(message.includes(`${r.model}: ${r.outcome}`), `the message lists ${r.model}: ${r.outcome}`);
      assert.equal((await memory.projects.get(project._id))!.state, "approved", "a plan that never came changes no state");
      assert.deepEqual(tickets, []);
      assert.deepEqual(branches, ["main"], "no branches for a plan that failed");
      assert.match(toHuman.at(-1)!, /could not plan.*Plan Project to try again/s);
    }

    // Either way: the user's working tree and history are as they were.
    assert.equal(status(), statusBefore);
    assert.equal(git("rev-parse", "HEAD"), headBefore);
    assert.equal(git("rev-parse", "--abbrev-ref", "HEAD"), "main");
    assert.equal(await fs.readFile(path.join(dir, "src", "cart.txt"), "utf8"), "total = sum(items) - discount\n");
    assert.equal(await fs.readFile(path.join(dir, "notes.txt"), "utf8"), "the user's uncommitted notes\n");
  });
});
