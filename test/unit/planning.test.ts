import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { simpleGitPort } from "../../src/adapters/git/simpleGit";
import { openEmbeddedStore, type EmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { planProblems, requirementIds, type Plan } from "../../src/core/agents/architect";
import { planProject } from "../../src/core/agents/planning";
import { GitOps } from "../../src/core/gitops/gitOps";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { ModelManager } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import type { Project } from "../../src/core/store/records";
import { specTemplate } from "../../src/core/spec/spec";
import { FakeClock, ScriptedBackend } from "../fakes/scriptedBackend";
import { gitIn, noModels, silent } from "../fixtures/kit";

const root = path.join(os.tmpdir(), `redgreen-planning-${process.pid}`);
const spec = specTemplate("Shop");

const plan: Plan = {
  functionalities: [
    { name: "Checkout", tickets: [
      { key: "T1", title: "Cart total", description: "", goal: "The cart shows its total", acceptanceCriteria: ["total of two items"], requirementIds: ["R-1"], severity: "high", estimateHours: 2, dependsOn: [] },
      { key: "T2", title: "Pay", description: "", goal: "Pay an order", acceptanceCriteria: ["a paid order is recorded"], requirementIds: ["R-1", "R-2"], severity: "medium", estimateHours: 3, dependsOn: ["T1"] },
    ] },
    { name: "Gift Cards", tickets: [
      { key: "T3", title: "Redeem", description: "", goal: "Redeem a code", acceptanceCriteria: ["valid code reduces the total"], requirementIds: ["R-3"], severity: "low", estimateHours: 1, dependsOn: [] },
    ] },
  ],
};

describe("Architect planning", function () {
  this.timeout(30_000);
  let n = 0;
  let store: EmbeddedStore;
  let memory: MemoryManager;
  let dir: string;
  let project: Project;
  const git = (...args: string[]) => gitIn(dir, ...args);

  function models(replies: string[]) {
    const backend = new ScriptedBackend({ heavy: replies });
    const registry = parseRegistry({ models: [{ id: "heavy", backend: "local", path: "/m/heavy.gguf", profile: "heavy" }], roles: { architect: { model: "heavy" } } }, "test");
    return { backend, manager: new ModelManager(registry, { local: backend }, { defaultThreads: () => 2, clock: new FakeClock() }) };
  }

  beforeEach(async () => {
    dir = path.join(root, `p${++n}`);
    await fs.mkdir(dir, { recursive: true });
    git("init", "-q", "-b", "main");
    await fs.writeFile(path.join(dir, "SPEC.md"), spec);
    await fs.writeFile(path.join(dir, "notes.txt"), "the user's uncommitted notes\n");
    git("add", "SPEC.md");
    git("commit", "-q", "-m", "Approve spec v1");
    store = await openEmbeddedStore(path.join(root, `store${n}`), { sweepIntervalMs: 0 });
    memory = await MemoryManager.open({ store, models: noModels });
    project = await memory.projects.create({ _id: `p${n}`, name: "Shop", root: dir, priority: "high", state: "drafting", testCommand: "npm test", specPath: "SPEC.md" }, "human");
    await memory.projects.transition(project._id, "approved", "human", "spec v1");
    project = (await memory.projects.get(project._id))!;
  });
  afterEach(() => store.close());
  after(() => fs.rm(root, { recursive: true, force: true }));

  it("turns a scripted plan into tickets and branches, says what it did, and leaves the user's files alone", async () => {
    const { manager, backend } = models([JSON.stringify(plan)]);
    const outcome = await planProject(project, spec, { memory, models: manager, git: new GitOps(simpleGitPort, dir, silent), scan: () => Promise.resolve(undefined), decideDev: () => Promise.reject(new Error("not asked")) });
    assert.equal(outcome.kind, "planned");
    assert.ok(backend.calls[0]!.request.jsonSchema, "the plan is constrained by its schema");
    const tickets = await memory.tickets.of(project._id);
    assert.deepEqual(tickets.map((t) => [t._id, t.functionalityId, t.column, t.branch, t.blockedBy]), [
      ["SHOP-1", "checkout", "todo", "ticket/shop-1", []],
      ["SHOP-2", "checkout", "todo", "ticket/shop-2", ["SHOP-1"]],
      ["SHOP-3", "gift-cards", "todo", "ticket/shop-3", []],
    ]);
    assert.deepEqual(tickets[1]!.requirementIds, ["R-1", "R-2"]);
    assert.deepEqual(git("branch", "--format=%(refname:short)").split("\n").sort(), ["DEV", "feature/checkout", "feature/gift-cards", "main", "ticket/shop-1", "ticket/shop-2", "ticket/shop-3"]);
    assert.equal((await memory.projects.get(project._id))!.state, "executing");
    assert.match((await memory.transcript.messages(project._id, { channel: "agents" })).map((c) => c.text).join("\n"), /Planned 3 tickets in 2 functionalities/);
    const toHuman = (await memory.transcript.messages(project._id, { channel: "human" })).map((c) => c.text);
    assert.match(toHuman.join("\n"), /No ticket covers R-4 yet/);
    assert.match(toHuman.at(-1)!, /3 tickets in 2 functionalities are on the Kanban board/);
    assert.equal(git("status", "--porcelain"), "?? notes.txt", "the user's working tree is as it was");
  });

  it("asks again when a plan names requirements the spec lacks, then gives up without changing anything", async () => {
    const bad = JSON.stringify({ functionalities: [{ name: "X", tickets: [{ ...plan.functionalities[0]!.tickets[0]!, requirementIds: ["R-99"] }] }] });
    const { manager, backend } = models([bad, "not json at all"]);
    const outcome = await planProject(project, spec, { memory, models: manager, git: new GitOps(simpleGitPort, dir, silent), scan: () => Promise.resolve(undefined), decideDev: () => Promise.resolve("reuse") });
    assert.equal(outcome.kind, "failed");
    assert.equal(backend.calls.length, 2, "two attempts, no loop");
    assert.equal((await memory.projects.get(project._id))!.state, "approved");
    assert.deepEqual(await memory.tickets.of(project._id), []);
    assert.ok(!git("branch").includes("DEV"), "no branches for a plan that failed");
    assert.match((await memory.transcript.messages(project._id, { channel: "human" })).at(-1)!.text, /could not plan.*Plan Project to try again/s);
  });

  it("lets the human decide about an existing DEV: pause stops before any change", async () => {
    git("branch", "DEV");
    let asked = 0;
    const { manager, backend } = models([JSON.stringify(plan)]);
    const outcome = await planProject(project, spec, { memory, models: manager, git: new GitOps(simpleGitPort, dir, silent), scan: () => Promise.resolve("a TypeScript project"), decideDev: () => (asked++, Promise.resolve("pause")) });
    assert.deepEqual(outcome, { kind: "paused" });
    assert.equal(asked, 1);
    assert.equal(backend.calls.length, 0);
    assert.equal((await memory.projects.get(project._id))!.state, "onHold");
    assert.match((await memory.transcript.messages(project._id, { channel: "agents" })).map((c) => c.text).join("\n"), /already contains:\n\na TypeScript project[\s\S]*chose to pause/);
  });

  it("checks plans against the spec's requirement ids, keys and dependencies", () => {
    assert.deepEqual(requirementIds(spec), ["R-1", "R-2", "R-3", "R-4"]);
    assert.deepEqual(planProblems(plan, spec), []);
    const broken: Plan = { functionalities: [{ name: "A", tickets: [{ ...plan.functionalities[0]!.tickets[1]!, key: "T1", requirementIds: ["R-7"], dependsOn: ["T1", "T9"] }, { ...plan.functionalities[0]!.tickets[0]! }] }] };
    assert.deepEqual(planProblems(broken, spec), [
      "tickets name requirements the spec does not have: R-7",
      "ticket keys are not unique: T1",
      "dependencies on unknown tickets: T1, T9",
    ]);
  });
});
