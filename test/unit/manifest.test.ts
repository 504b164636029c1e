import * as assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { manifest, repoRoot } from "./manifest";

describe("package.json", () => {
  it("targets the VS Code that runs here and never activates on *", () => {
    assert.equal(manifest.engines.vscode, "^1.100.0");
    assert.ok(!manifest.activationEvents.includes("*"));
    assert.equal(manifest.main, "./dist/extension.js");
  });

  it("declares how it behaves in untrusted workspaces", () => {
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, "limited");
  });

  it("contributes the Redgreen container with the Kanban and Chat webview views", () => {
    const container = manifest.contributes.viewsContainers.activitybar.find((c) => c.id === "redgreen");
    assert.ok(container, "activity bar container redgreen");
    assert.ok(existsSync(path.join(repoRoot, container.icon)), `icon ${container.icon} exists`);
    const views = manifest.contributes.views.redgreen ?? [];
    assert.deepEqual(views.map((v) => [v.id, v.type]), [["redgreen.kanban", "webview"], ["redgreen.chat", "webview"]]);
  });

  it("puts every command in the Redgreen category with a redgreen.* id", () => {
    for (const command of manifest.contributes.commands) {
      assert.match(command.command, /^redgreen\./);
      assert.equal(command.category, "Redgreen", command.command);
    }
  });

  it("has a translation for every %placeholder% it uses", () => {
    const text = readFileSync(path.join(repoRoot, "package.json"), "utf8");
    const nls = JSON.parse(readFileSync(path.join(repoRoot, "package.nls.json"), "utf8")) as Record<string, string>;
    const used = [...text.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]!);
    assert.ok(used.length > 0);
    for (const key of used) assert.ok(nls[key], `package.nls.json lacks ${key}`);
  });
});
