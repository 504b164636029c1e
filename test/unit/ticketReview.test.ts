import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MergeConflictError } from "../../src/core/gitops/gitOps";
import { approveTicket, requestChanges, reviewChanges, ReviewError, UnconfirmedFilesError } from "../../src/core/tickets/review";
import { reviewRepo, type ReviewRepo } from "../fixtures/reviewRepo";

// Reviewing tickets on real repositories: what a ticket's branch changes against its feature
// branch, its commits, approval (a merge, then done) and a request for changes.
describe("Ticket review on real repositories", function () {
  this.timeout(30_000);
  const root = path.join(os.tmpdir(), `redgreen-review-${process.pid}`);
  let n = 0;
  let repo: ReviewRepo;

  beforeEach(async () => {
    repo = await reviewRepo(root, `r${++n}`);
  });
  afterEach(() => repo.close());
  after(() => fs.rm(root, { recursive: true, force: true }));

  it("lists what a ticket's branch changes since it forked from its feature branch, both sides of each file, and its commits", async () => {
    const { ops, commitOn, git } = repo;
    await commitOn("DEV", { "gone.txt": "old\n", "keep.txt": "same\n" }, "base files");
    const ticket = await repo.ticketInReview("SHOP-1", "cart");
    const first = await commitOn("ticket/shop-1", { "app.txt": "line 1\nline 2\n", "src/new.ts": "export const x = 1;\n" }, "Add line 2", { role: "developer", ticketId: "SHOP-1" });
    await commitOn("ticket/shop-1", { "gone.txt": null }, "Remove gone.txt", { role: "tester", ticketId: "SHOP-1" });
    // The feature branch moving on after the fork is not the ticket's change.
    await commitOn("feature/cart", { "other.txt": "another ticket's work\n" }, "other ticket merged");

    const changes = await reviewChanges(ticket, ops);
    assert.equal(changes.base, git("merge-base", "feature/cart", "ticket/shop-1"));
    assert.equal(changes.head, git("rev-parse", "ticket/shop-1"));
    assert.deepEqual(changes.files, [
      { status: "modified", path: "app.txt" },
      { status: "deleted", path: "gone.txt" },
      { status: "added", path: "src/new.ts" },
    ]);
    assert.equal(await ops.fileAt(changes.base, "app.txt"), "line 1\n");
    assert.equal(await ops.fileAt(changes.head, "app.txt"), "line 1\nline 2\n");
    assert.equal(await ops.fileAt(changes.head, "src/new.ts"), "export const x = 1;\n");
    assert.equal(await ops.fileAt(changes.base, "src/new.ts"), undefined, "an added file has no left side");
    assert.equal(await ops.fileAt(changes.head, "gone.txt"), undefined, "a deleted file has no right side");
    assert.equal(await ops.fileAt(changes.head, "src"), undefined, "a folder is not a file");

    const commits = await ops.commits("feature/cart", "ticket/shop-1");
    assert.deepEqual(commits.map((c) => [c.subject, c.trailers["Redgreen-Agent"], c.trailers["Redgreen-Ticket"]]), [
      ["Remove gone.txt", "tester", "SHOP-1"],
      ["Add line 2", "developer", "SHOP-1"],
    ]);
    assert.equal(commits[1]!.hash, first);
    assert.equal(commits[1]!.author, "T");
    const one = await ops.commitChanges(first);
    assert.deepEqual(one.files.map((f) => `${f.status} ${f.path}`), ["modified app.txt", "added src/new.ts"]);
    assert.equal(one.parent, git("rev-parse", `${first}^`));
  });

  it("refuses refs and paths that git could read as options, ranges or places outside the repository", async () => {
    const { ops } = repo;
    await assert.rejects(ops.fileAt("--output=/tmp/x", "app.txt"), /not a branch or commit name/);
    await assert.rejects(ops.commits("main..DEV", "DEV"), /not a branch or commit name/);
    await assert.rejects(ops.fileAt("main", "../etc/passwd"), /not a path inside the repository/);
    await assert.rejects(ops.fileAt("main", "/etc/passwd"), /not a path inside the repository/);
    await assert.rejects(ops.branchChanges("main", "no-such-branch"), /no-such-branch does not exist/);
  });

  it("approves: merges the ticket into its feature branch, moves it to done and tells the agents", async () => {
    const { ops, commitOn, git, memory, project } = repo;
    await repo.ticketInReview("SHOP-1", "cart", "Pay by card");
    const change = await commitOn("ticket/shop-1", { "app.txt": "line 1\npaid\n" }, "Pay by card");
    const { ticket, commit } = await approveTicket("SHOP-1", { memory, git: ops });
    assert.equal(ticket.column, "done");
    assert.deepEqual({ by: ticket.history.at(-1)!.by, note: ticket.history.at(-1)!.note }, { by: "human", note: "approved in review" });
    assert.equal(git("rev-parse", "feature/cart"), commit);
    assert.ok(git("log", "--format=%H", "feature/cart").split("\n").includes(change));
    assert.match(git("log", "-1", "--format=%B", "feature/cart"), /Merge ticket\/shop-1 into feature\/cart[\s\S]*Redgreen-Agent: human/);
    const said = (await memory.transcript.messages(project._id, { channel: "agents" })).at(-1)!;
    assert.equal(said.ticketId, "SHOP-1");
    assert.match(said.text, /Approved SHOP-1 in review: ticket\/shop-1 is merged into feature\/cart/);
    await assert.rejects(approveTicket("SHOP-1", { memory, git: ops }), /SHOP-1 is not in review: it is in Done/);
  });

  it("approves a ticket that changes CI workflows only when the human confirmed each of those files", async () => {
    const { ops, commitOn, git, memory } = repo;
    await repo.ticketInReview("SHOP-1", "cart", "Build in CI");
    await commitOn("ticket/shop-1", { "app.txt": "line 1\nci\n", ".github/workflows/ci.yml": "on: push\n", ".gitlab-ci.yml": "test: {}\n" }, "CI");
    const before = git("rev-parse", "feature/cart");
    await assert.rejects(approveTicket("SHOP-1", { memory, git: ops }), (error: Error) => {
      assert.ok(error instanceof UnconfirmedFilesError, String(error));
      assert.deepEqual(error.files.sort(), [".github/workflows/ci.yml", ".gitlab-ci.yml"]);
      return true;
    });
    await assert.rejects(approveTicket("SHOP-1", { memory, git: ops }, { confirmed: [".gitlab-ci.yml"] }), /changes files your CI runs later, outside Redgreen's sandbox \(\.github\/workflows\/ci\.yml\)/);
    assert.equal(git("rev-parse", "feature/cart"), before, "nothing was merged");
    assert.equal((await memory.tickets.get("SHOP-1"))!.column, "review");
    const { ticket } = await approveTicket("SHOP-1", { memory, git: ops }, { confirmed: [".gitlab-ci.yml", ".github/workflows/ci.yml"] });
    assert.equal(ticket.column, "done");
  });

  it("a conflicting approval says which files conflict and changes nothing: both branches intact, the ticket in review", async () => {
    const { ops, commitOn, git, memory, project } = repo;
    await repo.ticketInReview("SHOP-1", "cart");
    await repo.ticketInReview("SHOP-2", "cart");
    await commitOn("ticket/shop-1", { "app.txt": "line 1 from SHOP-1\n" }, "SHOP-1 change");
    await commitOn("ticket/shop-2", { "app.txt": "line 1 from SHOP-2\n" }, "SHOP-2 change");
    await approveTicket("SHOP-1", { memory, git: ops });
    const feature = git("rev-parse", "feature/cart");
    const branch = git("rev-parse", "ticket/shop-2");
    await assert.rejects(approveTicket("SHOP-2", { memory, git: ops }), (error: Error) => {
      assert.ok(error instanceof MergeConflictError);
      assert.deepEqual(error.conflicts, ["app.txt"]);
      return true;
    });
    assert.equal(git("rev-parse", "feature/cart"), feature);
    assert.equal(git("rev-parse", "ticket/shop-2"), branch);
    assert.equal((await memory.tickets.get("SHOP-2"))!.column, "review");
    assert.match((await memory.transcript.agentLogs(project._id, { ticketId: "SHOP-2" })).at(-1)!.message, /conflicts in app\.txt/);
  });

  it("requests changes: the comment on the ticket and to its pair, back to in progress; an empty comment changes nothing", async () => {
    const { memory, project } = repo;
    await repo.ticketInReview("SHOP-1", "cart", "Pay by card");
    await assert.rejects(requestChanges("SHOP-1", "   ", { memory }), ReviewError);
    assert.equal((await memory.tickets.get("SHOP-1"))!.column, "review");

    const moved = await requestChanges("SHOP-1", "  Refuse expired cards too.  ", { memory });
    assert.equal(moved.column, "inprogress");
    assert.ok(moved.history.some((h) => h.by === "human" && h.note === "changes requested: Refuse expired cards too."));
    const said = (await memory.transcript.messages(project._id, { channel: "agents" })).at(-1)!;
    assert.deepEqual({ ticketId: said.ticketId, from: said.from }, { ticketId: "SHOP-1", from: "human" });
    assert.equal(said.text, "To pair-SHOP-1: changes requested on SHOP-1 (Pay by card): Refuse expired cards too.");
    await assert.rejects(requestChanges("SHOP-1", "again", { memory }), /not in review: it is in In progress/);
  });

  it("runs a check in a temporary detached checkout of a branch, even one checked out elsewhere, and removes it", async () => {
    const { ops, git, dir } = repo;
    await repo.ticketInReview("SHOP-1", "cart");
    const seen = await ops.withCheckout("feature/cart", async (worktree) => {
      assert.equal(git("-C", worktree, "rev-parse", "HEAD"), git("rev-parse", "feature/cart"));
      return fs.readFile(path.join(worktree, "app.txt"), "utf8");
    });
    assert.equal(seen, "line 1\n");
    git("worktree", "add", "-q", path.join(dir, "..", `${path.basename(dir)}-user`), "feature/cart");
    await assert.rejects(ops.withCheckout("feature/cart", () => Promise.reject(new Error("check failed"))), /check failed/);
    assert.ok(!git("worktree", "list").includes("_check-"), "no checkout is left behind");
    assert.equal(git("branch", "--show-current"), "main");
  });
});
