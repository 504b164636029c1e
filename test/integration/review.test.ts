import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import type { Ticket } from "../../src/core/store/records";
import type { NewProjectResult } from "../../src/features/projects/projectsFeature";
import type { ReviewActionResult } from "../../src/features/review/ticketReview";
import { activateRedgreen, eventually } from "./harness";

// Review in the editor: tickets in review as groups of the Source Control view, a file's diff
// against where its branch forked from the feature branch, the ticket's commits, Approve and Merge
// (a real merge; a conflict changes nothing), Request Changes, and the Architect completing a
// functionality into DEV once its last ticket is approved. Tickets are made through memory and
// branches with the git CLI, as the agents would leave them.

describe("Review in the Source Control view", function () {
  this.timeout(60_000);
  const folder = path.join(os.tmpdir(), `redgreen-it-review-${process.pid}`);
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=Agent", "-c", "user.email=agent@localhost", ...args], { cwd: folder, encoding: "utf8" }).trim();
  let projectId = "";
  let firstCommit = "";
  let mainAtStart = "";

  const api = () => activateRedgreen();
  const memory = async () => {
    const state = await (await api()).store.ready();
    assert.equal(state.kind, "open");
    return state.memory;
  };
  const group = async (id: string) => {
    const { review } = await api();
    return eventually(() => review.snapshot().find((g) => g.id === id && g.files.length > 0), 10_000, () => `no group ${id}; groups: ${JSON.stringify(review.snapshot())}`);
  };
  /** Commits `files` on `branch` the way an agent's worktree would, with its trailers. */
  const commitOn = (branch: string, files: Record<string, string>, message: string) => {
    git("checkout", "-q", branch);
    try {
      for (const [file, text] of Object.entries(files)) execFileSync("sh", ["-c", 'printf "%s" "$1" > "$2"', "sh", text, path.join(folder, file)]);
      git("add", "-A");
      git("commit", "-q", "-m", `${message}\n\nRedgreen-Ticket: ${branch}\nRedgreen-Agent: developer`);
      return git("rev-parse", "HEAD");
    } finally {
      git("checkout", "-q", "main");
    }
  };
  const inReview = async (id: string, functionalityId: string, title: string): Promise<Ticket> => {
    const m = await memory();
    await m.tickets.create({
      _id: id, projectId, functionalityId, title, description: "", goal: title, acceptanceCriteria: ["it works"], requirementIds: [],
      column: "todo", severity: "medium", timeEstimate: null, assignedPair: `pair-${id}`, filesChanged: [], testPassRate: null, branch: `ticket/${id.toLowerCase()}`, blockedBy: [],
    }, "architect");
    await m.tickets.move(id, "inprogress", "developer");
    return m.tickets.move(id, "review", "developer", "acceptance criteria covered");
  };
  /** Replaces a window function for one call's duration, as a user answering the editor's UI would. */
  const answering = async <K extends "showInputBox" | "showQuickPick" | "showErrorMessage" | "showWarningMessage", T>(name: K, stub: unknown, body: () => Thenable<T>): Promise<T> => {
    const window = vscode.window as unknown as Record<K, unknown>;
    const original = window[name];
    window[name] = stub;
    try {
      return await body();
    } finally {
      window[name] = original;
    }
  };

  before(async () => {
    await api();
    const result = await vscode.commands.executeCommand<NewProjectResult>("redgreen.newProject", { folder, name: "Review Demo", priority: "medium", testCommand: "test -f card.txt" });
    assert.equal(result.error, undefined);
    projectId = result.project!._id;
    git("checkout", "-q", "-b", "main");
    await fs.writeFile(path.join(folder, "app.txt"), "line 1\n");
    git("add", "-A");
    git("commit", "-q", "-m", "initial");
    git("branch", "DEV");
    mainAtStart = git("rev-parse", "main");
    for (const [ticket, feature] of [["review-1", "f"], ["review-2", "f"], ["review-3", "g"]] as const) {
      if (!git("branch", "--list", `feature/${feature}`)) git("branch", `feature/${feature}`, "DEV");
      git("branch", `ticket/${ticket}`, `feature/${feature}`);
    }
    firstCommit = commitOn("ticket/review-1", { "app.txt": "line 1\nline 2\n", "card.txt": "card payments\n" }, "Pay by card");
    commitOn("ticket/review-2", { "app.txt": "line 1\nline two, by REVIEW-2\n" }, "Another line 2");
    commitOn("ticket/review-3", { "card.txt": "gift cards\n" }, "Gift cards");
    await inReview("REVIEW-1", "f", "Pay by card");
    await inReview("REVIEW-2", "f", "Another second line");
  });

  after(async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    await fs.rm(folder, { recursive: true, force: true });
  });

  it("lists each ticket in review as a group of the files its branch changed since it forked from its feature branch", async () => {
    const shown = await group("REVIEW-1");
    assert.equal(shown.label, "REVIEW-1 · Pay by card");
    assert.equal(shown.projectId, projectId);
    assert.deepEqual(shown.files.map((f) => [f.path, f.status]), [["app.txt", "modified"], ["card.txt", "added"]]);
    assert.deepEqual((await group("REVIEW-2")).files.map((f) => [f.path, f.status]), [["app.txt", "modified"]]);
  });

  it("opens a file's diff: the file where the branch forked, and at the ticket branch, read-only from git", async () => {
    const shown = await group("REVIEW-1");
    const app = shown.files.find((f) => f.path === "app.txt")!;
    assert.equal(await vscode.commands.executeCommand("redgreen.openReviewChange", "REVIEW-1", "app.txt"), true);
    const tab = await eventually(() => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputTextDiff ? input : undefined;
    }, 10_000, () => `the active tab is ${vscode.window.tabGroups.activeTabGroup.activeTab?.label}`);
    assert.equal(tab.original.toString(), app.left);
    assert.equal(tab.modified.toString(), app.right);
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab?.label, "app.txt (feature/f ↔ ticket/review-1)");
    assert.equal((await vscode.workspace.openTextDocument(tab.original)).getText(), "line 1\n");
    assert.equal((await vscode.workspace.openTextDocument(tab.modified)).getText(), "line 1\nline 2\n");
    const added = shown.files.find((f) => f.path === "card.txt")!;
    assert.equal((await vscode.workspace.openTextDocument(vscode.Uri.parse(added.left))).getText(), "", "an added file's left side is empty");
  });

  it("lists the ticket's commits with their agent, and opens the one picked", async () => {
    const offered: vscode.QuickPickItem[] = [];
    const title = await answering("showQuickPick", async (items: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>) => {
      offered.push(...(await items));
      return offered[0];
    }, () => vscode.commands.executeCommand<string | undefined>("redgreen.showTicketCommits", "REVIEW-1"));
    assert.deepEqual(offered.map((item) => [item.label, item.description]), [["Pay by card", `${firstCommit.slice(0, 7)} · developer`]]);
    assert.equal(title, `REVIEW-1 · ${firstCommit.slice(0, 7)} Pay by card`);
    // The multi-file diff editor adds the number of files to the title.
    await eventually(() => (vscode.window.tabGroups.activeTabGroup.activeTab?.label === `${title} (2 files)` ? true : undefined), 10_000, () => `the active tab is ${vscode.window.tabGroups.activeTabGroup.activeTab?.label}`);
  });

  it("Approve and Merge merges the ticket into its feature branch and moves it to done; its group goes away", async () => {
    const { review } = await api();
    const dev = git("rev-parse", "DEV");
    const result = await vscode.commands.executeCommand<ReviewActionResult>("redgreen.approveAndMerge", "REVIEW-1");
    assert.equal(result.error, undefined);
    assert.ok(git("log", "--format=%H", "feature/f").split("\n").includes(firstCommit), "the ticket's commit is in feature/f");
    assert.equal(git("rev-parse", "feature/f"), result.commit);
    const m = await memory();
    assert.equal((await m.tickets.get("REVIEW-1"))?.column, "done");
    assert.match((await m.transcript.messages(projectId, { channel: "agents" })).at(-1)!.text, /Approved REVIEW-1 in review: ticket\/review-1 is merged into feature\/f/);
    await eventually(() => (review.snapshot().some((g) => g.id === "REVIEW-1") ? undefined : true), 10_000, () => "the approved ticket is still listed");
    await review.settled();
    assert.equal(git("rev-parse", "DEV"), dev, "REVIEW-2 is not done, so feature/f stays out of DEV");
  });

  it("a conflicting Approve and Merge shows the conflicting files; the ticket stays in review and both branches are unchanged", async () => {
    const shown: string[] = [];
    const feature = git("rev-parse", "feature/f");
    const branch = git("rev-parse", "ticket/review-2");
    const result = await answering("showErrorMessage", (message: string) => {
      shown.push(message);
      return Promise.resolve(undefined);
    }, () => vscode.commands.executeCommand<ReviewActionResult>("redgreen.approveAndMerge", "REVIEW-2"));
    assert.equal(shown.length, 1);
    assert.equal(result.error, shown[0]);
    assert.match(shown[0]!, /^REVIEW-2 cannot be merged: ticket\/review-2 conflicts with feature\/f in app\.txt\. Both branches are unchanged and REVIEW-2 stays in review\.$/);
    assert.equal((await (await memory()).tickets.get("REVIEW-2"))?.column, "review");
    assert.equal(git("rev-parse", "feature/f"), feature);
    assert.equal(git("rev-parse", "ticket/review-2"), branch);
    assert.ok(!git("worktree", "list").includes("_merge-"));
  });

  it("through the one command edge, a command on a ticket or project that does not exist is refused once, in its own words", async () => {
    const warned: string[] = [];
    const warn = (message: string) => {
      warned.push(message);
      return Promise.resolve(undefined);
    };
    const approve = await answering("showWarningMessage", warn, () => vscode.commands.executeCommand<ReviewActionResult>("redgreen.approveAndMerge", "NOPE-9"));
    const pause = await answering("showWarningMessage", warn, () => vscode.commands.executeCommand<{ error?: string }>("redgreen.pauseProject", "no-such-project"));
    assert.deepEqual([approve.error, pause.error], ["There is no ticket NOPE-9.", "There is no project no-such-project."]);
    assert.deepEqual(warned, [approve.error, pause.error], "each shown once, as a warning");
  });

  it("Request Changes asks for a comment (empty cancels), records it for the pair and moves the ticket back to in progress", async () => {
    const answers = ["", "Merge feature/f into your branch and keep line 2."];
    const prompts: vscode.InputBoxOptions[] = [];
    const ask = (options?: vscode.InputBoxOptions) => {
      prompts.push(options ?? {});
      return Promise.resolve(answers.shift());
    };
    const cancelled = await answering("showInputBox", ask, () => vscode.commands.executeCommand<ReviewActionResult | undefined>("redgreen.requestChanges", "REVIEW-2"));
    assert.equal(cancelled, undefined);
    const m = await memory();
    assert.equal((await m.tickets.get("REVIEW-2"))?.column, "review", "an empty comment cancels");
    const result = await answering("showInputBox", ask, () => vscode.commands.executeCommand<ReviewActionResult>("redgreen.requestChanges", "REVIEW-2"));
    assert.equal(result.error, undefined);
    assert.match(prompts[0]?.title ?? "", /Request Changes on REVIEW-2 · Another second line/);
    const ticket = (await m.tickets.get("REVIEW-2"))!;
    assert.equal(ticket.column, "inprogress");
    assert.ok(ticket.history.some((h) => h.by === "human" && h.note === "changes requested: Merge feature/f into your branch and keep line 2."));
    const said = (await m.transcript.messages(projectId, { channel: "agents" })).filter((c) => c.ticketId === "REVIEW-2").at(-1)!;
    assert.equal(said.text, "To pair-REVIEW-2: changes requested on REVIEW-2 (Another second line): Merge feature/f into your branch and keep line 2.");
    const { review } = await api();
    await eventually(() => (review.snapshot().some((g) => g.id === "REVIEW-2") ? undefined : true), 10_000, () => "the ticket sent back is still listed");
  });

  it("approving the last ticket of a functionality lets the Architect merge its feature branch into DEV after a green suite", async () => {
    await inReview("REVIEW-3", "g", "Gift cards");
    await group("REVIEW-3");
    const result = await vscode.commands.executeCommand<ReviewActionResult>("redgreen.approveAndMerge", "REVIEW-3");
    assert.equal(result.error, undefined);
    const { review } = await api();
    await review.settled();
    execFileSync("git", ["merge-base", "--is-ancestor", "feature/g", "DEV"], { cwd: folder });
    assert.equal(git("show", "DEV:card.txt"), "gift cards");
    assert.equal(git("rev-parse", "main"), mainAtStart, "main is never touched");
    const said = (await (await memory()).transcript.messages(projectId, { channel: "human" })).at(-1)!;
    assert.equal(said.from, "pm");
    assert.match(said.text, /^"g" is complete: its 1 ticket is in DEV \(merge [0-9a-f]{10}, test suite green\)\.$/);
  });

  it("flags a ticket that changes CI workflows in its group, and merges it only after an explicit yes naming the files", async () => {
    git("branch", "feature/h", "DEV");
    git("branch", "ticket/review-4", "feature/h");
    await fs.mkdir(path.join(folder, ".github", "workflows"), { recursive: true });
    commitOn("ticket/review-4", { ".github/workflows/ci.yml": "on: push\n", "ci.txt": "built in CI\n" }, "CI build");
    await inReview("REVIEW-4", "h", "Build in CI");
    const shown = await group("REVIEW-4");
    assert.equal(shown.label, "⚠ REVIEW-4 · Build in CI · changes what CI runs: .github/workflows/ci.yml");
    assert.deepEqual(shown.flagged, [".github/workflows/ci.yml"]);
    const asked: { message: string; options: vscode.MessageOptions; items: string[] }[] = [];
    const answer = (choice: string | undefined) => (message: string, options: vscode.MessageOptions, ...items: string[]) => {
      asked.push({ message, options, items });
      return Promise.resolve(choice);
    };
    const feature = git("rev-parse", "feature/h");
    const refused = await answering("showWarningMessage", answer(undefined), () => vscode.commands.executeCommand<ReviewActionResult>("redgreen.approveAndMerge", "REVIEW-4"));
    assert.equal(refused.error, "not confirmed");
    assert.equal(git("rev-parse", "feature/h"), feature, "closing the question merges nothing");
    assert.equal((await (await memory()).tickets.get("REVIEW-4"))?.column, "review");
    assert.equal(asked[0]?.message, "REVIEW-4 changes what your CI runs: .github/workflows/ci.yml");
    assert.equal(asked[0]?.options.modal, true);
    assert.deepEqual(asked[0]?.items, ["Approve and Merge"]);
    const merged = await answering("showWarningMessage", answer("Approve and Merge"), () => vscode.commands.executeCommand<ReviewActionResult>("redgreen.approveAndMerge", "REVIEW-4"));
    assert.equal(merged.error, undefined);
    assert.equal(git("show", "feature/h:.github/workflows/ci.yml"), "on: push");
    await (await api()).review.settled();
  });
});
