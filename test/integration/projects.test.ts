import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import type { SpecVersion } from "../../src/core/store/records";
import type { NewProjectResult } from "../../src/features/projects/projectsFeature";
import { activateRedgreen, eventually } from "./harness";

describe("Projects and the spec in a real VS Code", function () {
  this.timeout(60_000);
  const folder = path.join(os.tmpdir(), `redgreen-it-project-${process.pid}`);
  const specFile = path.join(folder, "SPEC.md");
  const git = (...args: string[]) => execFileSync("git", args, { cwd: folder, encoding: "utf8" }).trim();
  let projectId = "";

  const lensTitles = async () => {
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", vscode.Uri.file(specFile));
    return lenses.map((lens) => lens.command?.title ?? "");
  };
  const memory = async () => {
    const state = await (await activateRedgreen()).store.ready();
    assert.equal(state.kind, "open");
    return (state).memory;
  };

  after(async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    await fs.rm(folder, { recursive: true, force: true });
  });

  it("creates a project in a new folder: a git repository, the spec from its template, open in the editor", async () => {
    await activateRedgreen();
    const result = await vscode.commands.executeCommand<NewProjectResult>("redgreen.newProject", { folder, name: "Bookshop", priority: "high", testCommand: "npm test" });
    assert.equal(result.error, undefined);
    projectId = result.project!._id;
    assert.equal(result.project!.state, "drafting");
    assert.ok(execFileSync("git", ["rev-parse", "--show-toplevel"], { cwd: folder, encoding: "utf8" }).trim().endsWith(path.basename(folder)));
    await eventually(() => (vscode.window.activeTextEditor?.document.uri.fsPath === specFile ? true : undefined), 10_000, () => `active: ${vscode.window.activeTextEditor?.document.uri.fsPath}`);
    assert.match(vscode.window.activeTextEditor!.document.getText(), /^# Bookshop: specification/);
  });

  it("refuses a second project with the same name, saying why", async () => {
    const result = await vscode.commands.executeCommand<NewProjectResult>("redgreen.newProject", { folder: `${folder}-2`, name: "bookshop", priority: "low", testCommand: "make test" });
    assert.match(result.error ?? "", /A project named "Bookshop" already exists/);
    await assert.rejects(fs.access(`${folder}-2`));
  });

  it("shows the version and Approve spec as CodeLens on the spec", async () => {
    const titles = await eventually(async () => ((await lensTitles()).length > 0 ? lensTitles() : undefined), 10_000, () => "no CodeLens on the spec");
    assert.deepEqual(titles, ["Bookshop spec · not approved yet", "$(check) Approve spec"]);
  });

  it("approves by command: a spec version with its hash and a git commit, project approved", async () => {
    const version = await vscode.commands.executeCommand<SpecVersion>("redgreen.approveSpec", vscode.Uri.file(specFile));
    assert.equal(version.version, 1);
    assert.equal(version.commit, git("rev-parse", "HEAD"));
    assert.equal(git("log", "-1", "--format=%s"), "Approve spec v1 of Bookshop");
    assert.equal(git("show", "HEAD:SPEC.md") + "\n", await fs.readFile(specFile, "utf8"));
    const m = await memory();
    assert.equal((await m.projects.get(projectId))!.state, "approved");
    assert.equal((await m.projects.approvedSpec(projectId))!.hash, version.hash);
    assert.deepEqual(await lensTitles(), ["Bookshop spec · v1 approved", "$(diff) Compare with approved"]);
  });

  it("puts the project on hold when the approved spec is edited and saved, and the PM asks about re-planning", async () => {
    const editor = await vscode.window.showTextDocument(vscode.Uri.file(specFile));
    await editor.edit((edit) => edit.insert(new vscode.Position(editor.document.lineCount, 0), "\n- **R-5**: Gift cards.\n"));
    assert.ok(await editor.document.save());
    const m = await memory();
    await eventually(async () => ((await m.projects.get(projectId))?.state === "onHold" ? true : undefined), 10_000, () => "the project did not go on hold");
    assert.match(m.transcript.recent(projectId).filter((e) => e.from === "pm").at(-1)?.text ?? "", /on hold.*re-plan/);
    assert.deepEqual(await lensTitles(), ["Bookshop spec · v1 approved · edited since", "$(check) Approve spec", "$(diff) Compare with approved"]);
  });

  it("compares with the approved version in the diff editor, approved on the left and read-only", async () => {
    await vscode.commands.executeCommand("redgreen.compareSpecWithApproved", vscode.Uri.file(specFile));
    const input = await eventually(() => {
      const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
      return tab?.input instanceof vscode.TabInputTextDiff ? tab.input : undefined;
    }, 10_000, () => "no diff editor");
    assert.equal(input.original.scheme, "redgreen-spec");
    assert.equal(input.modified.fsPath, specFile);
    const approved = await vscode.workspace.openTextDocument(input.original);
    assert.ok(!approved.getText().includes("Gift cards"));
    assert.ok((await fs.readFile(specFile, "utf8")).includes("Gift cards"));
  });

  it("approves the edited spec as v2 and the project leaves hold", async () => {
    const version = await vscode.commands.executeCommand<SpecVersion>("redgreen.approveSpec", vscode.Uri.file(specFile));
    assert.equal(version.version, 2);
    assert.equal(git("rev-list", "--count", "HEAD"), "2");
    assert.equal((await (await memory()).projects.get(projectId))!.state, "approved");
  });
});
