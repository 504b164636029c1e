import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import type { StoreState } from "../../src/features/store/storeService";
import { activateRedgreen, eventually } from "./harness";

describe("Store and memory in a real VS Code", function () {
  this.timeout(60_000);
  const config = () => vscode.workspace.getConfiguration("redgreen");
  const PASSWORD = "correct horse battery staple";

  after(() => config().update("store.mongodbUri", undefined, vscode.ConfigurationTarget.Global));

  async function opened(): Promise<Extract<StoreState, { kind: "open" }>> {
    const { store } = await activateRedgreen();
    const state = await store.ready();
    assert.equal(state.kind, "open", state.kind === "failed" ? state.message : "");
    return state;
  }

  it("Set MongoDB Password stores the secret in SecretStorage, never in settings or logs, and removes it when left empty", async () => {
    const { secrets, log } = await activateRedgreen();
    const original = vscode.window.showInputBox;
    const answers = [PASSWORD, ""];
    const prompts: vscode.InputBoxOptions[] = [];
    // The input box is the editor's UI, not ours: answer it as a user would.
    (vscode.window as { showInputBox: typeof original }).showInputBox = (options) => {
      prompts.push(options ?? {});
      return Promise.resolve(answers.shift());
    };
    try {
      await vscode.commands.executeCommand("redgreen.setMongoPassword");
      assert.equal(prompts[0]?.password, true, "the input box hides what is typed");
      assert.equal(await secrets.get("redgreen.store.mongodbPassword"), PASSWORD);
      assert.ok(!JSON.stringify(vscode.workspace.getConfiguration("redgreen")).includes(PASSWORD));
      assert.ok(!log.recent().some((entry) => entry.message.includes(PASSWORD)));
      await vscode.commands.executeCommand("redgreen.setMongoPassword");
      assert.equal(await secrets.get("redgreen.store.mongodbPassword"), undefined);
    } finally {
      (vscode.window as { showInputBox: typeof original }).showInputBox = original;
    }
  });

  it("says clearly when the configured MongoDB cannot be reached, without the password, and goes back to the embedded store when the URI is cleared", async () => {
    const { store, secrets, log } = await activateRedgreen();
    await secrets.store("redgreen.store.mongodbPassword", PASSWORD);
    const states: StoreState[] = [];
    const listening = store.onDidChange((state) => states.push(state));
    try {
      // Port 1 on loopback: nothing listens there.
      await config().update("store.mongodbUri", "mongodb://alice@127.0.0.1:1/redgreen", vscode.ConfigurationTarget.Global);
      const failed = await eventually(() => states.find((s) => s.kind === "failed"), 20_000, () => `states: ${states.map((s) => s.kind).join(", ")}`);
      assert.match(failed.kind === "failed" ? failed.message : "", /cannot connect to MongoDB at mongodb:\/\/127\.0\.0\.1:1\/redgreen/);
      assert.ok(!log.recent().some((entry) => entry.message.includes(PASSWORD) || entry.message.includes("alice")));
      await config().update("store.mongodbUri", undefined, vscode.ConfigurationTarget.Global);
      await eventually(() => states.at(-1)?.kind === "open" || undefined, 20_000, () => `states: ${states.map((s) => s.kind).join(", ")}`);
      const { store: backing } = await opened();
      assert.equal(backing.kind, "embedded");
    } finally {
      listening.dispose();
      await secrets.delete("redgreen.store.mongodbPassword");
    }
  });
});
