import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import type { NewProjectResult } from "../../src/features/projects/projectsFeature";
import type { RenderReport } from "../../src/protocol/viewState";
import { activateRedgreen, eventually, EXTENSION_ID, openView } from "./harness";
import { startScriptedOpenAi } from "../fixtures/scriptedOpenAi";
import { ui } from "./ui";

// Approving a spec plans it (the Architect is a scripted OpenAI-compatible server on loopback,
// reached over HTTP by the real backend); the tickets appear on the board; a real drag in the
// webview moves a ticket and the move persists; a move the state machine refuses is shown.

const PLAN = {
  functionalities: [
    { name: "Catalogue", tickets: [
      { key: "T1", title: "List the books", description: "A page that lists every book.", goal: "Readers see the catalogue.", acceptanceCriteria: ["every book is listed"], requirementIds: ["R-1"], severity: "high", estimateHours: 3, dependsOn: [] },
      { key: "T2", title: "Search by title", description: "", goal: "Readers find a book.", acceptanceCriteria: ["a title search finds the book"], requirementIds: ["R-1"], severity: "medium", estimateHours: 2, dependsOn: ["T1"] },
    ] },
    { name: "Checkout", tickets: [
      { key: "T3", title: "Pay by card", description: "Card payments at checkout.", goal: "Readers can buy.", acceptanceCriteria: ["a valid card pays the order"], requirementIds: ["R-2", "R-3"], severity: "critical", estimateHours: 5, dependsOn: [] },
    ] },
  ],
};

describe("The Kanban board", function () {
  this.timeout(120_000);
  const config = () => vscode.workspace.getConfiguration("redgreen");
  const folder = path.join(os.tmpdir(), `redgreen-it-board-${process.pid}`);
  let projectId = "";
  let architect: Awaited<ReturnType<typeof startScriptedOpenAi>>;
  const FRAME = ".board";

  const details = async (): Promise<NonNullable<RenderReport["details"]>> => {
    const { views } = await activateRedgreen();
    const report = await views.kanban.endpoint.request("describe", {});
    assert.equal(report.showing, "project");
    return report.details ?? {};
  };
  const memory = async () => {
    const state = await (await activateRedgreen()).store.ready();
    assert.equal(state.kind, "open");
    return state.memory;
  };
  const ticket = async (title: string) => {
    const found = (await (await memory()).tickets.of(projectId)).find((t) => t.title === title);
    assert.ok(found, `a ticket "${title}"`);
    return found;
  };
  const card = (id: string) => `.card[data-id="${id}"]`;
  const lane = (column: string) => `.lane[data-column="${column}"]`;

  before(async () => {
    const { models } = await activateRedgreen();
    // This suite is about the board (the chat), not pairs: planned tickets stay where the plan put them.
    await config().update("pairs.autoStart", false, vscode.ConfigurationTarget.Global);
    architect = await startScriptedOpenAi((request) => (request.schema ? JSON.stringify(PLAN) : "ok"));
    await config().update("models.registry", { models: [{ id: "heavy", backend: "openai", url: architect.url, model: "scripted" }] }, vscode.ConfigurationTarget.Global);
    await models.reload();
    const result = await vscode.commands.executeCommand<NewProjectResult>("redgreen.newProject", { folder, name: "Board Demo", priority: "critical", testCommand: "npm test" });
    assert.equal(result.error, undefined);
    projectId = result.project!._id;
  });

  after(async () => {
    await config().update("models.registry", undefined, vscode.ConfigurationTarget.Global);
    await config().update("pairs.autoStart", undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    await architect.close();
    await fs.rm(folder, { recursive: true, force: true });
  });

  it("plans on approval: tickets in To do, DEV, feature and ticket branches, the PM says so", async () => {
    await fs.writeFile(path.join(folder, "notes.txt"), "the human's own uncommitted file\n");
    await vscode.commands.executeCommand("redgreen.approveSpec", vscode.Uri.file(path.join(folder, "SPEC.md")));
    const m = await memory();
    await eventually(async () => ((await m.projects.get(projectId))?.state === "executing" ? true : undefined), 60_000, () => "the project did not reach executing");
    const tickets = await m.tickets.of(projectId);
    assert.deepEqual(tickets.map((t) => [t._id, t.title, t.column, t.functionalityId]), [
      ["BOARDDEMO-1", "List the books", "todo", "catalogue"],
      ["BOARDDEMO-2", "Search by title", "todo", "catalogue"],
      ["BOARDDEMO-3", "Pay by card", "todo", "checkout"],
    ]);
    assert.deepEqual(tickets[1]!.blockedBy, ["BOARDDEMO-1"]);
    const git = (...args: string[]) => execFileSync("git", args, { cwd: folder, encoding: "utf8" }).trim();
    const primary = git("symbolic-ref", "--short", "HEAD");
    const branches = git("branch", "--format=%(refname:short)").split("\n").sort();
    assert.deepEqual(branches, ["DEV", "feature/catalogue", "feature/checkout", primary, "ticket/boarddemo-1", "ticket/boarddemo-2", "ticket/boarddemo-3"].sort());
    assert.deepEqual(tickets.map((t) => t.branch), ["ticket/boarddemo-1", "ticket/boarddemo-2", "ticket/boarddemo-3"]);
    assert.equal(git("rev-parse", "DEV"), git("rev-parse", primary), "DEV starts from the primary branch");
    assert.equal(await fs.readFile(path.join(folder, "notes.txt"), "utf8"), "the human's own uncommitted file\n", "the user's files are untouched");
    const said = await eventually(async () => {
      const text = (await m.transcript.messages(projectId, { channel: "human" })).map((c) => c.text).join("\n");
      return /The plan is ready/.test(text) ? text : undefined;
    }, 10_000, () => "the PM did not say the plan is ready");
    assert.match(said, /The plan is ready: 3 tickets in 2 functionalities/);
    assert.match(said, /No ticket covers R-4/);
  });

  it("shows the tickets on the board", async () => {
    await openView("kanban");
    const shown = await eventually(async () => {
      const now = await details();
      return now.projectId === projectId && now.cards === 3 ? now : undefined;
    }, 20_000, () => "the board does not show the 3 tickets");
    assert.equal(shown["column.todo"], 3);
    if (!ui.available) return;
    assert.equal(await ui.count(FRAME, `${lane("todo")} .card`), 3);
    assert.match(String(await ui.text(FRAME, card("BOARDDEMO-2"))), /Search by title[\s\S]*2 h[\s\S]*ticket\/boarddemo-2/);
  });

  it("says that the pairs wait for Start Pair (auto-start is off), and offers Start Pair, not Pause Pair", async function () {
    if (!ui.available) this.skip();
    assert.match(String(await ui.text(FRAME, ".pairs-note")), /Pairs paused: they take no ticket until Start Pair/);
    assert.equal(await ui.attribute(FRAME, 'vscode-button:has-text("Start Pair")', "disabled"), null);
    assert.equal(await ui.attribute(FRAME, 'vscode-button:has-text("Pause Pair")', "disabled"), "");
    await ui.window(1).screenshot(path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, ".cache", "integration-board-pairs-wait.png"));
  });

  it("moves a dragged card, and the move persists; the project goes on hold for a re-review", async function () {
    if (!ui.available) this.skip();
    const first = await ticket("List the books");
    await ui.drag(FRAME, card(first._id), lane("inprogress"));
    const m = await memory();
    let shownNow: unknown = {};
    void details().then((now) => (shownNow = now));
    await eventually(async () => ((await m.tickets.get(first._id))?.column === "inprogress" ? true : undefined), 10_000, () => `the dragged ticket did not move; the board shows ${JSON.stringify(shownNow)}`);
    const moved = (await m.tickets.get(first._id))!;
    assert.deepEqual({ by: moved.history.at(-1)!.by, from: moved.history.at(-1)!.from, to: moved.history.at(-1)!.to }, { by: "human", from: "todo", to: "inprogress" });
    await eventually(async () => ((await m.transcript.messages(projectId, { channel: "human" })).at(-1)?.text.includes("on hold while the Architect and I re-review") ? true : undefined), 10_000, () => "the PM did not explain the hold");
    assert.equal((await m.projects.get(projectId))?.state, "onHold");
    assert.equal(await ui.count(FRAME, `${lane("inprogress")} ${card(first._id)}`), 1);
    // Persisted: a fresh page (the view closed and opened again) shows it where it was dropped.
    const { views } = await activateRedgreen();
    await vscode.commands.executeCommand(`${views.kanban.viewId}.toggleVisibility`);
    await openView("kanban");
    await eventually(async () => ((await details())["column.inprogress"] === 1 ? true : undefined), 20_000, () => "the reloaded board lost the move");
  });

  it("refuses a move the state machine does not allow, with the reason, and changes nothing", async function () {
    if (!ui.available) this.skip();
    const third = await ticket("Pay by card");
    await ui.drag(FRAME, card(third._id), lane("done"));
    const notice = await eventually(async () => String((await details()).notice) || undefined, 10_000, () => "no refusal shown");
    assert.match(notice, /cannot move from To do to Done/);
    assert.equal((await memory().then((m) => m.tickets.get(third._id)))?.column, "todo");
    assert.equal(await ui.count(FRAME, `${lane("todo")} ${card(third._id)}`), 1);
    // Blocked-by is a refusal too: the search waits for the list, which is not done.
    const second = await ticket("Search by title");
    await ui.press(FRAME, card(second._id), "Alt+ArrowRight");
    await eventually(async () => (/blocked by BOARDDEMO-1/.test(String((await details()).notice)) ? true : undefined), 10_000, () => "the blocked move was not refused");
  });

  it("follows ticket changes made elsewhere (an agent's move) without a reload", async () => {
    const m = await memory();
    const third = await ticket("Pay by card");
    await m.tickets.move(third._id, "inprogress", "developer", "started");
    await eventually(async () => ((await details())["column.inprogress"] === (ui.available ? 2 : 1) ? true : undefined), 10_000, () => "the board did not follow the agent's move");
    // A pair that stops on a ticket: the card says so, with the reason.
    await m.tickets.update(third._id, { waiting: { kind: "blocked", text: "the suite times out", since: new Date() } }, "pair-1", "blocked: the suite times out");
    if (ui.available) {
      await eventually(async () => (/Blocked/.test(String(await ui.text(FRAME, card(third._id)))) ? true : undefined), 10_000, () => "the card does not show that the ticket is blocked");
      assert.match(String(await ui.attribute(FRAME, card(third._id), "aria-label")), /blocked: the suite times out/);
    }
  });

  it("says on a card that the Resource Director paused its pair, with the reason in its tooltip", async () => {
    if (!ui.available) return;
    const m = await memory();
    const first = await ticket("List the books");
    const reason = "Payments (critical) is owed a slot; Board Demo (low) has used more than its share 9 %";
    await m.tickets.update(first._id, { directorPause: { reason, since: new Date() } }, "resource-director", `paused by the Resource Director: ${reason}`);
    await eventually(async () => (/Paused/.test(String(await ui.text(FRAME, card(first._id)))) ? true : undefined), 10_000, () => "the card does not say the ticket is paused");
    assert.match(String(await ui.attribute(FRAME, `${card(first._id)} .director-pause`, "title")), /^Paused by the Resource Director at .*: Payments \(critical\) is owed a slot/);
    assert.match(String(await ui.attribute(FRAME, card(first._id), "aria-label")), /paused by the Resource Director: Payments/);
    const picture = (theme: string) => path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, ".cache", `integration-board-director-pause-${theme}.png`);
    await ui.window(1).screenshot(picture("light"));
    const workbench = vscode.workspace.getConfiguration("workbench");
    await workbench.update("colorTheme", "Default Dark Modern", vscode.ConfigurationTarget.Global);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await ui.window(1).screenshot(picture("dark"));
    } finally {
      await workbench.update("colorTheme", undefined, vscode.ConfigurationTarget.Global);
    }
    await m.tickets.update(first._id, { directorPause: undefined }, "resource-director", "resumed");
    await eventually(async () => (/Paused/.test(String(await ui.text(FRAME, card(first._id)))) ? undefined : true), 10_000, () => "the card still says paused once taken again");
  });

  it("removes the worktree of a ticket that is done (its branch stays)", async () => {
    const m = await memory();
    const third = await ticket("Pay by card");
    const worktree = path.join(folder, ".redgreen", "worktrees", "boarddemo-3");
    execFileSync("git", ["worktree", "add", worktree, "ticket/boarddemo-3"], { cwd: folder });
    await m.tickets.move(third._id, "review", "developer", "tests pass");
    assert.ok((await fs.stat(worktree)).isDirectory(), "the worktree stays while the ticket is in review");
    await m.tickets.move(third._id, "done", "human", "approved");
    await eventually(async () => ((await fs.stat(worktree).catch(() => undefined)) ? undefined : true), 10_000, () => "the worktree of the done ticket is still there");
    assert.match(execFileSync("git", ["branch", "--list", "ticket/boarddemo-3"], { cwd: folder, encoding: "utf8" }), /ticket\/boarddemo-3/);
  });

  // The page has no state machine of its own: each card carries its moves as the host judged them,
  // and the host re-sends a waiting card when its blocker changes.
  it("offers a waiting ticket's start disabled with the host's reason, and enables it once the blocker is done", async function () {
    if (!ui.available) this.skip();
    const m = await memory();
    const first = await ticket("List the books");
    const second = await ticket("Search by title");
    const disabled = ".detail .moves vscode-button[disabled]";
    await ui.click(FRAME, card(second._id));
    await eventually(async () => ((await details()).detail === second._id ? true : undefined), 10_000, () => "the detail panel did not open");
    assert.match(String(await ui.text(FRAME, ".detail .moves")), /Move to Backlog[\s\S]*Move to In progress/);
    assert.match(String(await ui.attribute(FRAME, disabled, "title")), /blocked by BOARDDEMO-1, which is not done/);
    await m.tickets.move(first._id, "review", "developer", "tests pass");
    await m.tickets.move(first._id, "done", "human", "approved");
    await eventually(async () => ((await ui.count(FRAME, disabled)) === 0 ? true : undefined), 10_000, () => "the start stayed disabled after the blocker was done");
    await ui.press(FRAME, card(second._id), "Alt+ArrowRight");
    await eventually(async () => ((await m.tickets.get(second._id))?.column === "inprogress" ? true : undefined), 10_000, () => "the freed ticket did not start");
    await eventually(async () => ((await ui.count(FRAME, `${lane("inprogress")} ${card(second._id)}`)) === 1 ? true : undefined), 10_000, () => "the board does not show the started ticket in progress");
    assert.equal((await details()).notice, "");
  });
});
