import * as assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import * as vscode from "vscode";
import type { AskModelResult } from "../../src/features/models/askModel";
import type { SelectedModel } from "../../src/features/models/selectModelFiles";
import { activateRedgreen, eventually, waitForLog } from "./harness";

describe("Models in a real VS Code", function () {
  this.timeout(120_000);
  const config = () => vscode.workspace.getConfiguration("redgreen");

  before(async () => {
    await activateRedgreen();
    await config().update("models.threads", 2, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await config().update("models.registry", undefined, vscode.ConfigurationTarget.Global);
    await config().update("models.threads", undefined, vscode.ConfigurationTarget.Global);
  });

  it("tells what a model file is, and assigns it to a role", async () => {
    const modelPath = process.env.REDGREEN_TEST_CHAT_MODEL;
    assert.ok(modelPath, "the runner generates a chat model and passes its path");
    const [selected] = await vscode.commands.executeCommand<SelectedModel[]>("redgreen.selectModelFiles", [vscode.Uri.file(modelPath)], "reasoning");
    assert.equal(selected?.error, undefined);
    assert.equal(selected?.summary?.architecture, "qwen2");
    assert.equal(selected?.slot, "reasoning");
    const registry = config().get<{ models: { id: string; path: string }[] }>("models.registry");
    assert.deepEqual(registry?.models.map((m) => [m.id, m.path]), [["reasoning", modelPath]]);
  });

  it("sends a prompt to the PM's model and streams the answer into an editor", async () => {
    let changes = 0;
    const listener = vscode.workspace.onDidChangeTextDocument((event) => {
      if (event.document.isUntitled && event.contentChanges.length > 0) changes++;
    });
    try {
      const result = await vscode.commands.executeCommand<AskModelResult | undefined>("redgreen.askModel", { role: "pm", prompt: "Hello, who are you?" });
      const { log } = await activateRedgreen();
      assert.ok(result, `the command returns the answer; log:\n${log.recent().slice(-8).map((e) => `[${e.level}] ${e.message}`).join("\n")}`);
      assert.equal(result.model, "reasoning");
      assert.ok(result.text.length > 0);
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === result.document);
      // A random-weight model emits odd characters (line separators, broken surrogates) that the
      // editor normalizes; the expected text goes through the same normalization.
      const expected = await vscode.workspace.openTextDocument({ content: `**You:** Hello, who are you?\n\n**PM:** ${result.text}` });
      // Each document picks its own end-of-line from its first text (the stream's is LF; a reply
      // with more CR LF than LF makes the expected one CRLF): lines are compared, not that choice.
      const lines = (text: string | undefined) => text?.replace(/\r\n/g, "\n");
      assert.equal(lines(document?.getText()), lines(expected.getText()), "the editor shows the whole answer");
      assert.ok(changes > 1, `the answer arrived in pieces (${changes} edits)`);
    } finally {
      listener.dispose();
      await vscode.commands.executeCommand("workbench.action.revertAndCloseActiveEditor");
    }
  });

  it("rejects a file that is not a model with a clear error and changes nothing", async () => {
    const folder = vscode.workspace.workspaceFolders![0]!.uri;
    const bogus = vscode.Uri.joinPath(folder, "not-a-model.gguf");
    await vscode.workspace.fs.writeFile(bogus, new TextEncoder().encode("plain text, not weights: long enough to be read as a header"));
    const before = config().get("models.registry");
    const [selected] = await vscode.commands.executeCommand<SelectedModel[]>("redgreen.selectModelFiles", [bogus], "code");
    assert.match(selected?.error ?? "", /not-a-model\.gguf is not a usable model file: .*GGUF magic/);
    assert.deepEqual(config().get("models.registry"), before);
  });

  it("says what to do when a role's model has no file yet", async () => {
    const result = await vscode.commands.executeCommand("redgreen.askModel", { role: "tester", prompt: "Write a test." });
    assert.equal(result, undefined);
    await waitForLog(/Tester role uses the model "code", which has no model file yet\. Run "Redgreen: Select Model Files…"/);
  });
});

describe("Sharing models over the OpenAI API", function () {
  this.timeout(60_000);
  const config = () => vscode.workspace.getConfiguration("redgreen");

  after(async () => {
    await config().update("models.serve.enabled", undefined, vscode.ConfigurationTarget.Global);
    await config().update("models.serve.port", undefined, vscode.ConfigurationTarget.Global);
  });

  it("serves on loopback only with the token it hands out", async () => {
    await activateRedgreen();
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    await config().update("models.serve.port", port, vscode.ConfigurationTarget.Global);
    await config().update("models.serve.enabled", true, vscode.ConfigurationTarget.Global);
    const access = await vscode.commands.executeCommand<{ baseUrl: string; token: string } | undefined>("redgreen.copyModelServerAccess");
    assert.equal(access?.baseUrl, `http://127.0.0.1:${port}/v1`);
    const withToken = await fetch(`${access.baseUrl}/models`, { headers: { authorization: `Bearer ${access.token}` } });
    assert.equal(withToken.status, 200);
    assert.ok(Array.isArray(((await withToken.json()) as { data: unknown[] }).data));
    const without = await fetch(`${access.baseUrl}/models`);
    assert.equal(without.status, 401);
    assert.match(await vscode.env.clipboard.readText(), new RegExp(`OPENAI_BASE_URL=http://127\\.0\\.0\\.1:${port}/v1\\nOPENAI_API_KEY=${access.token}`));
  });

  it("rotates the server's token when serving is turned on and on Rotate Model Server Token, refusing the old one at once", async () => {
    const { log } = await activateRedgreen();
    const rotations = () => log.recent().filter((entry) => /model server's token was replaced/.test(entry.message)).length;
    const copy = async () => {
      const access = await vscode.commands.executeCommand<{ baseUrl: string; token: string } | undefined>("redgreen.copyModelServerAccess");
      assert.ok(access, "serving is on and the command hands out its access");
      return access;
    };
    const status = async (access: { baseUrl: string }, token: string) => (await fetch(`${access.baseUrl}/models`, { headers: { authorization: `Bearer ${token}` } })).status;
    await config().update("models.serve.port", 20_000 + Math.floor(Math.random() * 20_000), vscode.ConfigurationTarget.Global);
    await config().update("models.serve.enabled", true, vscode.ConfigurationTarget.Global);
    const before = await copy();

    await config().update("models.serve.enabled", false, vscode.ConfigurationTarget.Global);
    const seen = rotations();
    await config().update("models.serve.enabled", true, vscode.ConfigurationTarget.Global);
    await eventually(() => (rotations() > seen ? true : undefined), 10_000, () => "turning serving on did not replace the token");
    const turnedOn = await copy();
    assert.notEqual(turnedOn.token, before.token);
    assert.equal(await status(turnedOn, turnedOn.token), 200);
    assert.equal(await status(turnedOn, before.token), 401);

    const rotated = await vscode.commands.executeCommand<{ serving: boolean }>("redgreen.models.rotateServerToken");
    assert.deepEqual(rotated, { serving: true });
    const after = await copy();
    assert.notEqual(after.token, turnedOn.token);
    assert.equal(await status(after, turnedOn.token), 401, "the old token is refused once the command returns");
    assert.equal(await status(after, after.token), 200);
  });

  it("says plainly which address it could not bind and why when the port is in use", async () => {
    await activateRedgreen();
    await config().update("models.serve.enabled", false, vscode.ConfigurationTarget.Global);
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    const { port } = other.address() as AddressInfo;
    try {
      await config().update("models.serve.port", port, vscode.ConfigurationTarget.Global);
      await config().update("models.serve.enabled", true, vscode.ConfigurationTarget.Global);
      const entry = await waitForLog(new RegExp(`Could not serve the models: Cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use by another program \\(EADDRINUSE\\)`));
      assert.equal(entry.level, "error");
      assert.equal(await vscode.commands.executeCommand("redgreen.copyModelServerAccess"), undefined, "no address is handed out for a server that is not running");
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
