import * as assert from "node:assert/strict";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { simpleGitPort } from "../../src/adapters/git/simpleGit";
import { openEmbeddedStore, type EmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { ArchitectAgent, planProblems, type Plan } from "../../src/core/agents/architect";
import { planProject, type PlanningDeps } from "../../src/core/agents/planning";
import { GitOps } from "../../src/core/gitops/gitOps";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { ModelManager } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import { diffRequirements, specRequirements } from "../../src/core/spec/requirements";
import { specHash, specTemplate } from "../../src/core/spec/spec";
import type { Project } from "../../src/core/store/records";
import { FakeClock, ScriptedBackend } from "../fakes/scriptedBackend";
import { gitIn, noModels, silent } from "../fixtures/kit";

const root = path.join(os.tmpdir(), `redgreen-replanning-${process.pid}`);

// v1 has R-1..R-3; v2 changes R-2, drops R-3 and adds R-4 (and rewraps R-1, which is no change).
const specV1 = specTemplate("Shop").replace("- **R-4**: Out of scope for now.\n", "");
const specV2 = specV1
  .replace("- **R-1**: A first thing the product must do.", "- **R-1**: A first thing\n  the product must do.")
  .replace("- **R-2**: Something important but not vital.", "- **R-2**: Pay by card and by invoice.")
  .replace("- **R-3**: A nice-to-have.\n  - Acceptance: how we know it works.\n", "")
  .replace("### Could have\n", "### Could have\n\n- **R-4**: Refunds to the card.\n  - Acceptance: a refund shows on the card.\n");

type PlannedTicket = Plan["functionalities"][number]["tickets"][number];
const ticket = (key: string, title: string, requirementIds: string[], dependsOn: string[] = []): PlannedTicket => ({
  key, title, description: "", goal: title, acceptanceCriteria: [`${title} works`], requirementIds, severity: "medium", estimateHours: 1, dependsOn,
});

// SHOP-1 cart (R-1, untouched), SHOP-2 pay (R-2, done), SHOP-3 receipt (R-2, review), SHOP-4 invoice
// (R-2, to do), SHOP-5 redeem (R-3 only: withdrawn), SHOP-6 refund to gift card (R-1 and R-3, blocked by SHOP-5).
const firstPlan: Plan = {
  functionalities: [
    { name: "Checkout", tickets: [ticket("T1", "Cart total", ["R-1"]), ticket("T2", "Pay", ["R-2"]), ticket("T3", "Receipt", ["R-2"]), ticket("T4", "Invoice", ["R-2"])] },
    { name: "Gift Cards", tickets: [ticket("T5", "Redeem", ["R-3"]), ticket("T6", "Refund to gift card", ["R-1", "R-3"], ["T5"])] },
  ],
};
const refundPlan: Plan = { functionalities: [{ name: "Refunds", tickets: [ticket("T1", "Refund to card", ["R-4"])] }] };

describe("Spec requirements", () => {
  it("gives each requirement its definition and acceptance criteria, not the lines that only mention it", () => {
    const requirements = specRequirements(specTemplate("Shop"));
    assert.deepEqual([...requirements.keys()], ["R-1", "R-2", "R-3", "R-4"]);
    assert.equal(requirements.get("R-1"), "- **R-1**: A first thing the product must do. - Acceptance: how we know it works.");
    assert.equal(requirements.get("R-4"), "- **R-4**: Out of scope for now.", "the Notes heading ends the last requirement");
  });

  it("reads headings, numbered items and table rows as definitions, and falls back to a mere mention", () => {
    const spec = "# S\n\n### R-1: Login\n\nUsers log in\nwith a password.\n\n### R-2: Logout\n\n1. R-3 first\n2. R-4 second, like R-3\n\n| R-5 | a row |\n\nLater we may add R-9.\n";
    assert.deepEqual(Object.fromEntries(specRequirements(spec)), {
      "R-1": "### R-1: Login Users log in with a password.",
      "R-2": "### R-2: Logout",
      "R-3": "1. R-3 first",
      "R-4": "2. R-4 second, like R-3",
      "R-5": "| R-5 | a row | Later we may add R-9.",
      "R-9": "Later we may add R-9.",
    });
  });

  it("diffs two specs into added, changed and removed requirements; layout alone changes nothing", () => {
    assert.deepEqual(diffRequirements(specV1, specV2), { added: ["R-4"], changed: ["R-2"], removed: ["R-3"] });
    const reindented = specV1.replace("  - Acceptance", "      - Acceptance").replace("A first thing the product", "A  first thing\n\tthe product");
    assert.deepEqual(diffRequirements(specV1, reindented), { added: [], changed: [], removed: [] });
  });
});

describe("Re-planning after an approved spec change", function () {
  this.timeout(30_000);
  let n = 0;
  let store: EmbeddedStore;
  let memory: MemoryManager;
  let dir: string;
  let project: Project;
  let gitOps: GitOps;
  const git = (...args: string[]) => gitIn(dir, ...args);

  function models(replies: string[]) {
    const backend = new ScriptedBackend({ heavy: replies });
    const registry = parseRegistry({ models: [{ id: "heavy", backend: "local", path: "/m/heavy.gguf", profile: "heavy" }], roles: { architect: { model: "heavy" } } }, "test");
    return { backend, manager: new ModelManager(registry, { local: backend }, { defaultThreads: () => 2, clock: new FakeClock() }) };
  }

  function deps(manager: ModelManager): PlanningDeps {
    return { memory, models: manager, git: gitOps, scan: () => Promise.resolve(undefined), decideDev: () => Promise.reject(new Error("DEV is not asked about again")) };
  }

  /** What the spec feature does on approval: commit, a new approved version, back to approved. */
  async function approve(text: string): Promise<Project> {
    await fs.writeFile(path.join(dir, "SPEC.md"), text);
    git("commit", "-q", "-am", "Approve spec");
    await memory.projects.saveSpecVersion(project._id, text, "human", true);
    const state = (await memory.projects.get(project._id))!.state;
    if (state === "executing") await memory.projects.transition(project._id, "onHold", "human", "the approved spec was edited");
    return memory.projects.transition(project._id, "approved", "human", "spec approved");
  }

  async function moveThrough(ticketId: string, ...columns: ("inprogress" | "review" | "done")[]): Promise<void> {
    for (const column of columns) await memory.tickets.move(ticketId, column, "human");
  }

  beforeEach(async () => {
    dir = path.join(root, `p${++n}`);
    await fs.mkdir(dir, { recursive: true });
    git("init", "-q", "-b", "main");
    store = await openEmbeddedStore(path.join(root, `store${n}`), { sweepIntervalMs: 0 });
    memory = await MemoryManager.open({ store, models: noModels });
    gitOps = new GitOps(simpleGitPort, dir, silent);
    project = await memory.projects.create({ _id: `p${n}`, name: "Shop", root: dir, priority: "high", state: "drafting", testCommand: "npm test", specPath: "SPEC.md" }, "human");
    await fs.writeFile(path.join(dir, "SPEC.md"), specV1);
    git("add", "SPEC.md");
    project = await approve(specV1);
    const first = await planProject(project, specV1, deps(models([JSON.stringify(firstPlan)]).manager));
    assert.equal(first.kind, "planned");
  });
  afterEach(() => store.close());
  after(() => fs.rm(root, { recursive: true, force: true }));

  it("adds tickets for new requirements, reopens those of changed ones, withdraws those of removed ones and leaves the rest alone", async () => {
    await moveThrough("SHOP-2", "inprogress", "review", "done");
    await moveThrough("SHOP-3", "inprogress", "review");
    const redeemWorktree = await gitOps.openTicket("SHOP-5", "gift-cards");
    const untouched = await memory.tickets.get("SHOP-1");
    project = await approve(specV2);

    // The first reply plans R-1 as well, which has its tickets already: refused, asked again.
    const tooMuch: Plan = { functionalities: [{ name: "Refunds", tickets: [ticket("T1", "Refund to card", ["R-4", "R-1"])] }] };
    const { manager, backend } = models([JSON.stringify(tooMuch), JSON.stringify(refundPlan)]);
    const outcome = await planProject(project, specV2, deps(manager));

    assert.equal(outcome.kind, "replanned");
    assert.ok(outcome.kind === "replanned");
    assert.deepEqual(outcome.added.map((t) => t._id), ["SHOP-7"]);
    assert.deepEqual(outcome.reopened, ["SHOP-2", "SHOP-3"]);
    assert.deepEqual(outcome.withdrawn, ["SHOP-5"]);
    assert.equal(backend.calls.length, 2, "the plan naming R-1 was refused once");
    assert.match(backend.calls[0]!.request.messages[1]!.content, /Plan tickets for R-4 only/);

    const tickets = new Map((await memory.tickets.of(project._id)).map((t) => [t._id, t]));
    const added = tickets.get("SHOP-7")!;
    assert.deepEqual([added.column, added.functionalityId, added.branch, added.requirementIds], ["todo", "refunds", "ticket/shop-7", ["R-4"]]);
    assert.deepEqual(git("branch", "--format=%(refname:short)").split("\n").filter((b) => /refunds|shop-7/.test(b)).sort(), ["feature/refunds", "ticket/shop-7"]);

    const reopened = (id: string) => tickets.get(id)!.history.filter((h) => h.note?.startsWith("reopened")).map((h) => [h.by, h.from, h.to, h.note]);
    assert.equal(tickets.get("SHOP-2")!.column, "todo");
    assert.deepEqual(reopened("SHOP-2"), [["architect", "done", "todo", "reopened: R-2 changed"]]);
    assert.equal(tickets.get("SHOP-3")!.column, "todo");
    assert.deepEqual(reopened("SHOP-3"), [["architect", "review", "inprogress", "reopened: R-2 changed"], ["architect", "inprogress", "todo", "reopened: R-2 changed"]]);
    assert.equal(tickets.get("SHOP-4")!.column, "todo", "a ticket not started yet is only told");
    assert.equal(tickets.get("SHOP-4")!.history.at(-1)!.note, "R-2 changed");

    const withdrawn = tickets.get("SHOP-5")!;
    assert.equal(withdrawn.withdrawn, true);
    assert.equal(withdrawn.history.at(-1)!.note, "withdrawn: R-3 left the spec");
    assert.ok(!existsSync(redeemWorktree), "the withdrawn ticket's worktree is gone");
    assert.ok(!git("worktree", "list").includes(redeemWorktree));
    assert.ok(git("branch").includes("ticket/shop-5"), "its branch stays");

    const trimmed = tickets.get("SHOP-6")!;
    assert.deepEqual([trimmed.requirementIds, trimmed.blockedBy, trimmed.withdrawn], [["R-1"], [], undefined], "it serves R-1 still and no longer waits for a withdrawn ticket");

    assert.deepEqual(tickets.get("SHOP-1"), untouched, "a ticket of an untouched requirement is not modified at all");
    assert.equal((await memory.projects.get(project._id))!.state, "executing");
    assert.match((await memory.transcript.messages(project._id, { channel: "agents" })).map((c) => c.text).join("\n"), /added R-4; changed R-2; removed R-3/);
    assert.match((await memory.transcript.messages(project._id, { channel: "human" })).at(-1)!.text, /1 ticket added \(SHOP-7\), 2 tickets reopened \(SHOP-2, SHOP-3\), 1 ticket withdrawn \(SHOP-5\)/);
  });

  it("diffs against the spec the tickets were planned from, even when a later approval's planning failed", async () => {
    project = await approve(specV2);
    // Planning v2 fails (no usable reply); then v3, which only rewords the background, is approved.
    const failed = await planProject(project, specV2, deps(models(["not json", "not json"]).manager));
    assert.equal(failed.kind, "failed");
    const specV3 = specV2.replace("What problem this project solves", "The problem this shop solves");
    await fs.writeFile(path.join(dir, "SPEC.md"), specV3);
    git("commit", "-q", "-am", "Approve spec v3");
    await memory.projects.saveSpecVersion(project._id, specV3, "human", true);
    const outcome = await planProject(project, specV3, deps(models([JSON.stringify(refundPlan)]).manager));
    assert.ok(outcome.kind === "replanned", JSON.stringify(outcome));
    assert.deepEqual([outcome.added.map((t) => t.requirementIds), outcome.reopened, outcome.withdrawn], [[["R-4"]], [], ["SHOP-5"]]);
    assert.equal((await memory.projects.get(project._id))!.plannedSpecHash, specHash(specV3));
  });

  it("says so and goes back to executing when no requirement changed", async () => {
    const before = await memory.tickets.of(project._id);
    project = await approve(specV1.replace("What problem this project solves", "The problem this shop solves"));
    const { manager, backend } = models([]);
    const outcome = await planProject(project, (await memory.projects.approvedSpec(project._id))!.text, deps(manager));
    assert.deepEqual(outcome, { kind: "replanned", added: [], reopened: [], withdrawn: [] });
    assert.equal(backend.calls.length, 0, "nothing to ask the Architect");
    assert.deepEqual(await memory.tickets.of(project._id), before);
    assert.equal((await memory.projects.get(project._id))!.state, "executing");
    assert.match((await memory.transcript.messages(project._id, { channel: "human" })).at(-1)!.text, /changes no requirement: every ticket stays as it is/);
  });

  it("refuses, in a restricted plan, tickets for requirements outside it", () => {
    assert.deepEqual(planProblems(refundPlan, specV2, ["R-4"]), []);
    const tooMuch: Plan = { functionalities: [{ name: "Refunds", tickets: [ticket("T1", "Refund", ["R-4", "R-1"]), ticket("T2", "Audit", ["R-2"])] }] };
    assert.deepEqual(planProblems(tooMuch, specV2, ["R-4"]), ["tickets name requirements outside this plan (R-4): R-1, R-2"]);
    assert.deepEqual(planProblems(tooMuch, specV2), [], "without a restriction every requirement of the spec may be planned");
  });

  it("numbers new tickets after the highest existing one, and reports uncovered requirements of its round only", async () => {
    // A gap (SHOP-1..6 planned, SHOP-9 made by hand) must not make the next plan reuse a number.
    await memory.tickets.create({
      _id: "SHOP-9", projectId: project._id, functionalityId: "checkout", title: "By hand", description: "", goal: "By hand", acceptanceCriteria: ["made by hand"],
      requirementIds: ["R-1"], column: "todo", severity: "low", timeEstimate: null, assignedPair: null, filesChanged: [], testPassRate: null, branch: null, blockedBy: [],
    }, "human");
    const plan: Plan = { functionalities: [{ name: "Checkout", tickets: [ticket("T1", "Refund to card", ["R-4"])] }] };
    const result = await new ArchitectAgent(models([]).manager, memory).apply(project, specV2, plan, gitOps, { only: ["R-4", "R-2"] });
    assert.deepEqual(result.tickets.map((t) => [t._id, t.branch]), [["SHOP-10", "ticket/shop-10"]]);
    assert.deepEqual(result.uncovered, ["R-2"]);
  });
});
