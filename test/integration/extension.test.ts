import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { activateRedgreen, eventually, EXTENSION_ID, openView, waitForLog } from "./harness";
import { ui } from "./ui";

interface ContributedView {
  id: string;
}
interface PackageJson {
  contributes: { commands: { command: string }[]; views: Record<string, ContributedView[]> };
}

describe("Redgreen in a real VS Code", function () {
  this.timeout(60_000);

  it("activates and says so in its log", async () => {
    const api = await activateRedgreen();
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID)?.isActive);
    await waitForLog(/Redgreen .* activated/);
    assert.ok(api.views.kanban && api.views.chat);
  });

  for (const name of ["kanban", "chat"] as const) {
    it(`resolves the ${name} view, completes the ready handshake and answers a request`, async () => {
      const report = await openView(name);
      // The page rendered its empty state, offering New Project.
      assert.deepEqual(report, { view: name, showing: "noProject", actions: ["redgreen.newProject"] });
    });
  }

  it("shows the Kanban's columns and runs New Project on a real click (UI driver)", async function () {
    if (!ui.available) this.skip();
    await openView("kanban");
    assert.equal(await ui.count(".lanes", ".lanes"), 1);
    const original = vscode.window.showOpenDialog;
    let asked = 0;
    (vscode.window as { showOpenDialog: typeof original }).showOpenDialog = () => {
      asked++;
      return Promise.resolve(undefined);
    };
    try {
      await ui.click(".lanes", ".empty-state vscode-button");
      await eventually(() => (asked === 1 ? true : undefined), 5_000, () => "the click did not run New Project");
    } finally {
      (vscode.window as { showOpenDialog: typeof original }).showOpenDialog = original;
    }
  });

  it("rejects and logs an invalid message from the host, and the page keeps answering", async () => {
    const { views } = await activateRedgreen();
    await openView("kanban");
    assert.equal(await views.kanban.postRaw({ kind: "notification", method: "state", params: { kind: "party" } }), true);
    const entry = await waitForLog(/the kanban view rejected a message: notification "state" with invalid params/);
    assert.equal(entry.level, "warn");
    const report = await views.kanban.endpoint.request("describe", {});
    assert.equal(report.showing, "noProject");
  });

  it("rejects and logs an invalid message arriving at the host", async () => {
    const { views } = await activateRedgreen();
    views.chat.endpoint.receive({ kind: "request", id: "7", method: "getState", params: { project: 42 } });
    await waitForLog(/Dropped request "getState" with invalid params.*from the chat view/s);
    views.chat.endpoint.receive({ kind: "notification", method: "runCommand", params: { command: "redgreen.showLogs" } });
    await waitForLog(/The chat view asked to run redgreen\.showLogs, which it does not offer; ignored/);
  });

  it("runs New Project when the page asks", async () => {
    const { views } = await activateRedgreen();
    const original = vscode.window.showOpenDialog;
    let asked = 0;
    // The folder dialog is the editor's UI: cancel it, which ends the command quietly.
    (vscode.window as { showOpenDialog: typeof original }).showOpenDialog = () => {
      asked++;
      return Promise.resolve(undefined);
    };
    try {
      await openView("chat");
      views.chat.endpoint.receive({ kind: "notification", method: "runCommand", params: { command: "redgreen.newProject" } });
      await eventually(() => (asked === 1 ? true : undefined), 5_000, () => "New Project did not ask for a folder");
    } finally {
      (vscode.window as { showOpenDialog: typeof original }).showOpenDialog = original;
    }
  });

  it("registers every contributed command and contributes every registered command", async () => {
    await activateRedgreen();
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    const manifest = extension.packageJSON as PackageJson;
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    // VS Code adds commands of its own for each view (".focus", ".resetViewLocation", ...).
    const viewIds = Object.values(manifest.contributes.views).flat().map((v) => v.id);
    const registered = (await vscode.commands.getCommands(true))
      .filter((id) => id.startsWith("redgreen."))
      .filter((id) => !viewIds.some((view) => id.startsWith(`${view}.`)))
      .sort();
    assert.deepEqual(registered, contributed);
  });

  it("shows its logs through the Show Logs command", async () => {
    await activateRedgreen();
    await vscode.commands.executeCommand("redgreen.showLogs");
  });

  it("warns about a malformed setting, naming it, and falls back to the default", async () => {
    const { views } = await activateRedgreen();
    const config = vscode.workspace.getConfiguration("redgreen");
    await config.update("webviews.requestTimeoutMs", "soon", vscode.ConfigurationTarget.Global);
    try {
      await openView("chat");
      // The request reads the timeout setting; it still works, on the default.
      const report = await views.chat.endpoint.request("describe", {});
      assert.equal(report.view, "chat");
      const entry = await waitForLog(/Setting "redgreen\.webviews\.requestTimeoutMs" has an invalid value "soon".*default, 10000/);
      assert.equal(entry.level, "warn");
    } finally {
      await config.update("webviews.requestTimeoutMs", undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
