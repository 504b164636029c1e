import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { simpleGitPort } from "../../src/adapters/git/simpleGit";
import { DEV, GitOps, MergeConflictError, ProtectedBranchError } from "../../src/core/gitops/gitOps";
import { gitIn } from "../fixtures/kit";

// Real repositories in temp folders, through simple-git and the git binary.
const root = path.join(os.tmpdir(), `redgreen-gitops-${process.pid}`);
let n = 0;

async function repo(): Promise<{ dir: string; git: (...args: string[]) => string; ops: GitOps; warnings: string[] }> {
  const dir = path.join(root, `r${++n}`);
  await fs.mkdir(dir, { recursive: true });
  const git = (...args: string[]) => gitIn(dir, ...args);
  git("init", "-q", "-b", "main");
  await fs.writeFile(path.join(dir, "app.txt"), "line 1\n");
  git("add", ".");
  git("commit", "-q", "-m", "initial");
  const warnings: string[] = [];
  const log = { trace() {}, debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
  return { dir, git, ops: new GitOps(simpleGitPort, dir, log), warnings };
}

describe("git policy on real repositories", function () {
  this.timeout(30_000);
  after(() => fs.rm(root, { recursive: true, force: true }));

  it("creates DEV, a feature branch and a ticket branch in its own worktree, leaving the user's uncommitted work alone", async () => {
    const { dir, git, ops } = await repo();
    await fs.writeFile(path.join(dir, "app.txt"), "line 1\nthe user's unsaved idea\n");
    const statusBefore = git("status", "--porcelain");
    assert.equal(await ops.hasDev(), false);
    await ops.createDev();
    const worktree = await ops.openTicket("T-7", "Checkout");
    assert.deepEqual(git("branch", "--format=%(refname:short)").split("\n").sort(), [DEV, "feature/checkout", "main", "ticket/t-7"]);
    assert.equal(worktree, path.join(dir, ".redgreen", "worktrees", "t-7"));
    assert.equal(git("-C", worktree, "branch", "--show-current"), "ticket/t-7");
    assert.equal(git("rev-parse", "ticket/t-7"), git("rev-parse", "main"), "ticket ← feature ← DEV ← main");
    assert.equal(git("branch", "--show-current"), "main", "the user's checkout is unchanged");
    assert.equal(await fs.readFile(path.join(dir, "app.txt"), "utf8"), "line 1\nthe user's unsaved idea\n");
    assert.equal(git("status", "--porcelain"), statusBefore, "worktrees are invisible to the user's git status");
    assert.equal(await ops.openTicket("T-7", "Checkout"), worktree, "opening again reuses the worktree");
    await ops.closeTicket("T-7");
    await assert.rejects(fs.access(worktree));
    assert.ok(git("branch").includes("ticket/t-7"), "the branch stays after its worktree is cleaned up");
  });

  it("traces agent commits with trailers, and refuses every agent write to main", async () => {
    const { dir, git, ops, warnings } = await repo();
    await ops.createDev();
    const worktree = await ops.openTicket("T-1", "Login");
    await fs.writeFile(path.join(worktree, "login.test.ts"), "test('refuses a wrong password')\n");
    const commit = await ops.commit(worktree, "Add a failing test for wrong passwords", { role: "tester", ticketId: "T-1", functionalityId: "Login" });
    assert.ok(commit);
    assert.equal(git("rev-parse", "ticket/t-1"), commit);
    assert.equal(git("log", "-1", "--format=%B", commit), "Add a failing test for wrong passwords\n\nRedgreen-Ticket: T-1\nRedgreen-Functionality: Login\nRedgreen-Agent: tester");

    const mainBefore = git("rev-parse", "main");
    await assert.rejects(ops.merge("main", DEV, { role: "architect" }), ProtectedBranchError);
    await assert.rejects(ops.push("main", { role: "architect" }), ProtectedBranchError);
    await assert.rejects(ops.commit(dir, "sneaky", { role: "developer" }), ProtectedBranchError);
    await assert.rejects(ops.push("feature/login", { role: "developer" }), /only the Architect pushes/);
    assert.equal(git("rev-parse", "main"), mainBefore);
    assert.equal(warnings.filter((w) => w.startsWith("Refused:")).length, 4, warnings.join("\n"));
    assert.equal(await ops.push("feature/login", { role: "architect" }), false, "no remote: nothing pushed");
  });

  it("merges a ticket into its feature branch, and a conflict stops the merge with both branches intact", async () => {
    const { git, ops } = await repo();
    await ops.createDev();
    const t1 = await ops.openTicket("T-1", "Cart");
    await fs.writeFile(path.join(t1, "app.txt"), "line 1 from T-1\n");
    await ops.commit(t1, "T-1 change", { role: "developer", ticketId: "T-1", functionalityId: "Cart" });
    await ops.merge("feature/cart", "ticket/t-1", { role: "architect", ticketId: "T-1", functionalityId: "Cart" });
    assert.equal(git("show", "feature/cart:app.txt"), "line 1 from T-1");
    const merged = git("rev-parse", "feature/cart");
    assert.equal(await ops.merge("feature/cart", "ticket/t-1", { role: "architect" }), merged, "merging again is a no-op");

    const t2 = await ops.openTicket("T-2", "Cart");
    // As if T-2 had branched before T-1 was merged: both change the same line.
    git("-C", t2, "reset", "-q", "--hard", "main");
    await fs.writeFile(path.join(t2, "app.txt"), "line 1 from T-2\n");
    await ops.commit(t2, "T-2 change", { role: "developer", ticketId: "T-2", functionalityId: "Cart" });
    const featureBefore = git("rev-parse", "feature/cart");
    const ticketBefore = git("rev-parse", "ticket/t-2");
    await assert.rejects(ops.merge("feature/cart", "ticket/t-2", { role: "architect" }), (error: Error) => {
      assert.ok(error instanceof MergeConflictError);
      assert.deepEqual(error.conflicts, ["app.txt"]);
      return true;
    });
    assert.equal(git("rev-parse", "feature/cart"), featureBefore);
    assert.equal(git("rev-parse", "ticket/t-2"), ticketBefore);
    assert.ok(!git("worktree", "list").includes("_merge-"), "the temporary merge worktree is gone");
  });

  it("knows when DEV exists already, and recreates it only when asked", async () => {
    const { git, ops } = await repo();
    git("branch", DEV);
    git("commit", "-q", "--allow-empty", "-m", "more on main");
    assert.equal(await ops.hasDev(), true);
    const devBefore = git("rev-parse", DEV);
    await ops.createDev();
    assert.equal(git("rev-parse", DEV), devBefore, "kept");
    await ops.createDev(true);
    assert.equal(git("rev-parse", DEV), git("rev-parse", "main"), "recreated from main");
  });
});
