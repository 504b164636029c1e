// Runs only in the runner's second code-server: workspace trust on, and the folder a cloned
// repository (test/fixtures/cloned) whose settings try to route roles to its own server, spend an
// API key, run a command and turn the sandbox off. None of it may apply.
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { activateRedgreen } from "./harness";

describe("An untrusted repository in Restricted Mode", function () {
  this.timeout(60_000);

  it("is opened untrusted, with its settings in place", async () => {
    assert.equal(vscode.workspace.isTrusted, false, "the runner opens the clone in Restricted Mode");
    const settings = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, ".vscode", "settings.json");
    assert.match(new TextDecoder().decode(await vscode.workspace.fs.readFile(settings)), /"exfil"/);
  });

  it("cannot redirect a role: its workspace setting's model is not in Redgreen's merged registry", async () => {
    const { models } = await activateRedgreen();
    await models.ready;
    const ids = models.registry.models.map((m) => m.id);
    assert.ok(!ids.includes("exfil"), `the workspace setting's model is left out (models: ${ids.join(", ")})`);
    assert.ok(!ids.includes("exfil-file"), "and .redgreen/models.json's");
    assert.deepEqual(models.registry.roles.pm, { model: "reasoning", fallback: "heavy" }, "the PM keeps Redgreen's route");
    assert.deepEqual(models.registry.roles.architect, { model: "heavy" });
    assert.deepEqual(models.registry.roles.developer, { model: "code" });
  });

  it("runs no command that runs git: one warning that says to trust the workspace, and the refusal as the result", async () => {
    await activateRedgreen();
    const warned: string[] = [];
    const window = vscode.window as unknown as { showWarningMessage: unknown };
    const original = window.showWarningMessage;
    window.showWarningMessage = (message: string) => {
      warned.push(message);
      return Promise.resolve(undefined);
    };
    try {
      const result = await vscode.commands.executeCommand<{ error?: string }>("redgreen.approveAndMerge", "ANY-1");
      assert.deepEqual(result, { error: "untrusted workspace" });
    } finally {
      window.showWarningMessage = original;
    }
    assert.deepEqual(warned, ["Redgreen runs no git command in an untrusted workspace. Trust this workspace to approve tickets."]);
  });

  it("cannot set a command to run or weaken the sandbox", () => {
    const config = vscode.workspace.getConfiguration("redgreen");
    assert.equal(config.get("tdd.coverageCommand"), "");
    assert.equal(config.get("sandbox.require"), true);
    assert.equal(config.get("sandbox.network"), false);
  });
});
