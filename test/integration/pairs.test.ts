import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import type { NewProjectResult } from "../../src/features/projects/projectsFeature";
import type { ReviewActionResult } from "../../src/features/review/ticketReview";
import { activateRedgreen, eventually } from "./harness";
import { startScriptedOpenAi, type ScriptedRequest } from "../fixtures/scriptedOpenAi";
import { answer, useScriptedModels } from "./scriptedTeam";

// The whole pipeline in the real editor: the spec is approved, the Architect plans one ticket, and
// with no further click a pair takes it (redgreen.pairs.autoStart) through red and green with the
// project's real `node --test` — the Tester and the Developer are a scripted OpenAI-compatible
// server on loopback that reads its prompts: the test comes from the criterion the Tester is shown,
// the code from the test file the Developer is shown. The ticket reaches review in the Source
// Control view, and Approve and Merge takes it to done and, being the functionality's last
// ticket, the Architect merges the feature branch into DEV.

/** New Project in `folder` with `node --test` and a first passing test committed, and its spec approved: the team plans it. */
async function approvedProject(folder: string, name: string): Promise<string> {
  const created = await vscode.commands.executeCommand<NewProjectResult>("redgreen.newProject", { folder, name, priority: "high", testCommand: "node --test" });
  assert.equal(created.error, undefined);
  await fs.mkdir(path.join(folder, "test"));
  await fs.writeFile(path.join(folder, "test", "smoke.test.js"), "require('node:test')('runs', () => {});\n");
  execFileSync("git", ["add", "test"], { cwd: folder });
  execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", "commit", "-q", "-m", "a first test"], { cwd: folder });
  await vscode.commands.executeCommand("redgreen.approveSpec", vscode.Uri.file(path.join(folder, "SPEC.md")));
  return created.project!._id;
}

describe("A pair in the real editor, from plan to merge", function () {
  this.timeout(120_000);
  const folder = path.join(os.tmpdir(), `redgreen-it-pair-${process.pid}`);
  let stopModels: () => Promise<void>;

  before(async () => {
    stopModels = await useScriptedModels(await startScriptedOpenAi((request) => answer(request)));
  });

  after(async () => {
    await stopModels();
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    await fs.rm(folder, { recursive: true, force: true });
  });

  it("plans, runs red → green with node --test, reviews in the SCM view and merges up to DEV", async () => {
    const { store, review } = await activateRedgreen();
    const projectId = await approvedProject(folder, "Pair Demo");
    const state = await store.ready();
    assert.ok(state.kind === "open");
    const m = state.memory;
    await eventually(async () => ((await m.projects.get(projectId))?.state === "executing" ? true : undefined), 30_000, () => "not planned");

    // No Start Pair: the team takes the planned ticket by itself.
    const ticket = await eventually(async () => {
      const t = (await m.tickets.of(projectId))[0];
      return t?.column === "review" ? t : undefined;
    }, 60_000, () => "the ticket did not reach review (see the agents' channel)");
    assert.deepEqual([ticket.testPassRate, ticket.filesChanged, ticket.assignedPair], [1, ["src/sum.js", "test/sum.test.js"], "pair-1"]);
    const subjects = execFileSync("git", ["log", "--format=%s", "feature/math..ticket/pairdemo-1"], { cwd: folder, encoding: "utf8" });
    assert.match(subjects, /feat: Sum \(green\)\ntest: sum\(2, 3\) is 5 \(red\)/);

    const group = await eventually(() => review.snapshot().find((g) => g.id === ticket._id && g.files.length === 2), 10_000, () => JSON.stringify(review.snapshot()));
    assert.deepEqual(group.files.map((f) => [f.path, f.status]).sort(), [["src/sum.js", "added"], ["test/sum.test.js", "added"]]);

    const merged = await vscode.commands.executeCommand<ReviewActionResult>("redgreen.approveAndMerge", ticket._id);
    assert.equal(merged.ticket?.column, "done");
    await review.settled();
    const dev = execFileSync("git", ["log", "--format=%s", "DEV"], { cwd: folder, encoding: "utf8" });
    assert.match(dev, /Merge feature\/math into DEV/);
    assert.equal(execFileSync("git", ["show", "DEV:src/sum.js"], { cwd: folder, encoding: "utf8" }), "exports.sum = (a, b) => a + b;\n");
    assert.equal(execFileSync("git", ["status", "--porcelain"], { cwd: folder, encoding: "utf8" }), "", "the user's working tree is untouched");
  });
});

describe("A pair whose engine is killed with SIGKILL mid-step", function () {
  this.timeout(180_000);
  const folder = path.join(os.tmpdir(), `redgreen-it-crash-${process.pid}`);
  let server: Awaited<ReturnType<typeof startScriptedOpenAi>>;
  let stopModels: () => Promise<void>;
  /** A long note streamed 10 ms a word: the Developer's reply takes seconds, time to kill the engine meanwhile. */
  const slowNote = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ");

  before(async () => {
    server = await startScriptedOpenAi((request) => answer(request, slowNote), { paceMs: 10 });
    stopModels = await useScriptedModels(server);
  });

  after(async () => {
    await stopModels();
    await fs.rm(folder, { recursive: true, force: true });
  });

  // The pair runs in the engine and dies with it mid-step; the window starts a new engine, configures
  // its team and joins the project again, and the new engine's team takes the ticket on from its red.
  it("is started again by the window, and the ticket goes on from its red to review: one red, one green, nothing acknowledged lost", async () => {
    const { store, log } = await activateRedgreen();
    const projectId = await approvedProject(folder, "Crash Demo");
    const before = await store.ready();
    assert.ok(before.kind === "open" && before.engine);
    // The Developer has been asked (the red is recorded): kill the engine while its reply streams.
    const isDeveloper = (r: ScriptedRequest) => JSON.stringify(r.schema?.properties?.status ?? "").includes("code");
    await eventually(() => server.requests.find(isDeveloper), 60_000, () => "the Developer was never asked");
    const commits = () => execFileSync("git", ["log", "--format=%s", "feature/math..ticket/crashdemo-1"], { cwd: folder, encoding: "utf8" });
    assert.match(commits(), /\(red\)/, "the red was committed before the crash");
    const killedAt = Date.now();
    process.kill(before.engine.pid, "SIGKILL");
    const after = await eventually(async () => {
      const state = await store.ready();
      return state.kind === "open" && state.engine?.pid !== before.engine!.pid ? state : undefined;
    }, 30_000, () => "the window did not start the engine again");
    const ticket = await eventually(async () => {
      const t = (await after.memory.tickets.of(projectId))[0];
      return t?.column === "review" ? t : undefined;
    }, 90_000, () => `the ticket did not reach review after the restart; log:\n${log.recent().slice(-15).map((e) => e.message).join("\n")}`);
    const subjects = commits();
    assert.equal((subjects.match(/\(red\)/g) ?? []).length, 1, `one red commit: ${subjects}`);
    assert.equal((subjects.match(/\(green\)/g) ?? []).length, 1, `one green commit: ${subjects}`);
    assert.equal(ticket.testPassRate, 1);
    assert.ok(log.recent().some((entry) => /closed the connection.*restarting it/.test(entry.message)), "the window said it restarted the engine");
    assert.ok(ticket.history.some((h) => h.to === "review" && h.at.getTime() >= killedAt), "the move to review was written through the new engine");
    assert.equal(execFileSync("git", ["status", "--porcelain"], { cwd: folder, encoding: "utf8" }), "", "the user's working tree is untouched");
  });
});
