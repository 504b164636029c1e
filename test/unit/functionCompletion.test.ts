import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { completeFunctionality } from "../../src/core/agents/functionCompletion";
import { approveTicket } from "../../src/core/tickets/review";
import { reviewRepo, type ReviewRepo } from "../fixtures/reviewRepo";

// The Architect completing a functionality on real repositories: every ticket done and the suite
// green on the feature branch → feature/<func> merged into DEV (and pushed where there is a remote);
// otherwise nothing is merged and the PM tells the human why.
describe("Completing a functionality into DEV", function () {
  this.timeout(30_000);
  const root = path.join(os.tmpdir(), `redgreen-completion-${process.pid}`);
  let n = 0;
  let repo: ReviewRepo;
  /** The checkouts the suite ran in, with the commit each had checked out. */
  let suiteRuns: { worktree: string; head: string; file: string }[];

  const suite = (green: boolean) => async (worktree: string) => {
    suiteRuns.push({ worktree, head: repo.git("-C", worktree, "rev-parse", "HEAD"), file: await fs.readFile(path.join(worktree, "app.txt"), "utf8") });
    return green;
  };
  const said = async (channel: "human" | "agents") => (await repo.memory.transcript.messages(repo.project._id, { channel })).map((c) => `${c.from}: ${c.text}`);
  /** Two tickets of "cart", each changing its own file, approved (merged into feature/cart). */
  const approveBoth = async () => {
    const { memory, ops, commitOn } = repo;
    await repo.ticketInReview("SHOP-1", "cart");
    await repo.ticketInReview("SHOP-2", "cart");
    await commitOn("ticket/shop-1", { "cart.txt": "total\n" }, "Cart total");
    await commitOn("ticket/shop-2", { "pay.txt": "pay\n" }, "Pay");
    await approveTicket("SHOP-1", { memory, git: ops });
    await approveTicket("SHOP-2", { memory, git: ops });
  };

  beforeEach(async () => {
    repo = await reviewRepo(root, `c${++n}`, { testCommand: "make check" });
    suiteRuns = [];
  });
  afterEach(() => repo.close());
  after(() => fs.rm(root, { recursive: true, force: true }));

  it("merges the feature branch into DEV once every ticket is done and the suite is green there, and the PM says so", async () => {
    const { git, memory, ops, project } = repo;
    const mainBefore = git("rev-parse", "main");
    await approveBoth();
    const outcome = await completeFunctionality(project, "cart", { memory, git: ops, suiteGreen: suite(true) });
    assert.equal(outcome.kind, "merged");
    assert.equal(suiteRuns.length, 1);
    assert.equal(suiteRuns[0]!.head, git("rev-parse", "feature/cart"), "the suite ran on the feature branch");
    await assert.rejects(fs.access(suiteRuns[0]!.worktree), "its checkout is removed");
    assert.equal(git("rev-parse", "DEV"), outcome.kind === "merged" ? outcome.commit : "");
    git("merge-base", "--is-ancestor", "feature/cart", "DEV");
    assert.deepEqual(git("ls-tree", "--name-only", "DEV").split("\n").sort(), ["app.txt", "cart.txt", "pay.txt"]);
    assert.match(git("log", "-1", "--format=%B", "DEV"), /^Merge feature\/cart into DEV[\s\S]*Redgreen-Functionality: cart\nRedgreen-Agent: architect$/);
    assert.equal(git("rev-parse", "main"), mainBefore, "never main");
    assert.match((await said("human")).at(-1)!, /^pm: "cart" is complete: its 2 tickets are in DEV \(merge [0-9a-f]{10}, test suite green\)\.$/);
    assert.match((await said("agents")).join("\n"), /architect: Merged feature\/cart into DEV/);

    const again = await completeFunctionality(project, "cart", { memory, git: ops, suiteGreen: suite(true) });
    assert.equal(again.kind, "alreadyMerged");
    assert.equal(suiteRuns.length, 1, "nothing is checked again");
  });

  it("does nothing while a ticket of the functionality is not done (withdrawn ones do not count)", async () => {
    const { git, memory, ops, project, commitOn } = repo;
    await repo.ticketInReview("SHOP-1", "cart");
    await repo.ticketInReview("SHOP-2", "cart");
    await repo.ticketInReview("SHOP-3", "cart");
    await memory.tickets.update("SHOP-3", { withdrawn: true }, "architect", "withdrawn: R-9 left the spec");
    await commitOn("ticket/shop-1", { "cart.txt": "total\n" }, "Cart total");
    await approveTicket("SHOP-1", { memory, git: ops });
    const dev = git("rev-parse", "DEV");
    const before = { human: await said("human"), agents: await said("agents") };
    const outcome = await completeFunctionality(project, "cart", { memory, git: ops, suiteGreen: suite(true) });
    assert.deepEqual(outcome, { kind: "notReady", open: ["SHOP-2"] });
    assert.equal(suiteRuns.length, 0);
    assert.equal(git("rev-parse", "DEV"), dev);
    assert.deepEqual({ human: await said("human"), agents: await said("agents") }, before, "nothing is said");
    assert.deepEqual(await completeFunctionality(project, "no-such-area", { memory, git: ops, suiteGreen: suite(true) }), { kind: "notReady", open: [] });
  });

  it("merges nothing when the suite is red on the feature branch, and the PM says why", async () => {
    const { git, memory, ops, project } = repo;
    await approveBoth();
    const dev = git("rev-parse", "DEV");
    const outcome = await completeFunctionality(project, "cart", { memory, git: ops, suiteGreen: suite(false) });
    assert.equal(outcome.kind, "red");
    assert.equal(git("rev-parse", "DEV"), dev);
    assert.equal((await said("human")).at(-1), 'pm: Every ticket of "cart" is done, but the Architect did not merge feature/cart into DEV: the test suite (`make check`) fails on feature/cart, so the tickets do not work together yet.');
    assert.ok(!git("worktree", "list").includes("_check-"));
  });

  it("a suite that cannot run merges nothing either, and says what went wrong", async () => {
    const { git, memory, ops, project } = repo;
    await approveBoth();
    const dev = git("rev-parse", "DEV");
    const outcome = await completeFunctionality(project, "cart", { memory, git: ops, suiteGreen: () => Promise.reject(new Error("make: not found")) });
    assert.deepEqual(outcome, { kind: "failed", message: "make: not found" });
    assert.equal(git("rev-parse", "DEV"), dev);
    assert.match((await said("human")).at(-1)!, /the test suite could not be run on it \(make: not found\)/);
  });

  it("escalates a conflict with DEV to the human, naming the files, and leaves both branches as they were", async () => {
    const { git, memory, ops, project, commitOn } = repo;
    await approveBoth();
    await commitOn("DEV", { "cart.txt": "someone else's total\n" }, "another area changed cart.txt");
    const dev = git("rev-parse", "DEV");
    const feature = git("rev-parse", "feature/cart");
    const outcome = await completeFunctionality(project, "cart", { memory, git: ops, suiteGreen: suite(true) });
    assert.deepEqual(outcome, { kind: "conflict", conflicts: ["cart.txt"] });
    assert.equal(git("rev-parse", "DEV"), dev);
    assert.equal(git("rev-parse", "feature/cart"), feature);
    assert.match((await said("human")).at(-1)!, /^pm: Every ticket of "cart" is done, but .*merging it into DEV conflicts in cart\.txt\. The merge was stopped and both branches are unchanged\. How should the conflict be resolved\?$/);
  });

  it("refuses a ticket moved to done without its merge: its work is not in the feature branch", async () => {
    const { git, memory, project, ops, commitOn } = repo;
    await repo.ticketInReview("SHOP-1", "cart");
    await commitOn("ticket/shop-1", { "cart.txt": "total\n" }, "Cart total");
    await memory.tickets.move("SHOP-1", "done", "human", "moved on the Kanban board");
    const dev = git("rev-parse", "DEV");
    const outcome = await completeFunctionality(project, "cart", { memory, git: ops, suiteGreen: suite(true) });
    assert.deepEqual(outcome, { kind: "unmerged", tickets: ["SHOP-1"] });
    assert.equal(suiteRuns.length, 0);
    assert.equal(git("rev-parse", "DEV"), dev);
    assert.match((await said("human")).at(-1)!, /SHOP-1 is done but its branch has commits feature\/cart does not have/);
  });

  it("pushes DEV and the feature branch where the project has a remote", async () => {
    const { git, memory, ops, project } = repo;
    const remote = path.join(root, `c${n}-remote.git`);
    execFileSync("git", ["init", "-q", "--bare", remote]);
    git("remote", "add", "origin", remote);
    await approveBoth();
    const outcome = await completeFunctionality(project, "cart", { memory, git: ops, suiteGreen: suite(true) });
    assert.deepEqual(outcome.kind === "merged" && outcome.pushed, ["DEV", "feature/cart"]);
    const remoteRef = (ref: string) => execFileSync("git", ["rev-parse", ref], { cwd: remote, encoding: "utf8", stdio: "pipe" }).trim();
    assert.equal(remoteRef("DEV"), git("rev-parse", "DEV"));
    assert.equal(remoteRef("feature/cart"), git("rev-parse", "feature/cart"));
    assert.throws(() => remoteRef("main"), "main is never pushed");
    assert.match((await said("human")).at(-1)!, /and pushed DEV and feature\/cart to the remote\.$/);
  });
});
