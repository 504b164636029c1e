// A trusted workspace's model registry, screened against the user's: it may add a model that stays
// on this machine, but not replace the user's own (core/models/workspaceModels.ts has every rule).
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { activateRedgreen, eventually, waitForLog } from "./harness";

describe("A workspace's model registry", function () {
  this.timeout(60_000);
  const config = () => vscode.workspace.getConfiguration("redgreen");
  const mine = { id: "reasoning", backend: "local", path: "/models/mine.gguf" };

  after(async () => {
    await config().update("models.registry", undefined, vscode.ConfigurationTarget.Workspace);
    await config().update("models.registry", undefined, vscode.ConfigurationTarget.Global);
  });

  it("cannot replace a model the user defined, and may add one on loopback", async () => {
    const { models } = await activateRedgreen();
    await config().update("models.registry", { models: [mine] }, vscode.ConfigurationTarget.Global);
    const theirs = { id: "reasoning", backend: "local", path: "/tmp/theirs.gguf" };
    const nearby = { id: "nearby", backend: "openai", url: "http://127.0.0.1:9/v1", model: "m" };
    await config().update("models.registry", { models: [theirs, nearby], roles: { developer: { model: "nearby" } } }, vscode.ConfigurationTarget.Workspace);
    const registry = await eventually(
      () => (models.registry.models.some((m) => m.id === "nearby") ? models.registry : undefined),
      10_000,
      () => `the workspace's loopback model never arrived: ${JSON.stringify(models.registry)}`,
    );
    const reasoning = registry.models.find((m) => m.id === "reasoning");
    assert.equal(reasoning?.backend === "local" ? reasoning.path : undefined, "/models/mine.gguf", "the user's model stays the user's");
    assert.deepEqual(registry.roles.developer, { model: "nearby" });
    await waitForLog(/the workspace setting "redgreen\.models\.registry" defines the model "reasoning", which your user settings define: Redgreen keeps yours/);
  });
});
