import * as assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { commandIdSchema, Commands } from "../../src/protocol/commands";
import { manifest, repoRoot } from "./manifest";

describe("package.json", () => {
  it("targets the VS Code that runs here and never activates on *", () => {
    assert.equal(manifest.engines.vscode, "^1.100.0");
    assert.ok(!manifest.activationEvents.includes("*"));
    assert.equal(manifest.main, "./dist/extension.js");
  });

  it("declares how it behaves in untrusted workspaces", () => {
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, "limited");
    assert.ok(manifest.capabilities.untrustedWorkspaces.description, "says what is limited");
  });

  it("ignores a workspace's value, in Restricted Mode, of every setting that redirects data, runs something or weakens a check", () => {
    const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations ?? [];
    const families = /^redgreen\.(models\.registry$|models\.serve\.|tdd\.|spec\.path$|sandbox\.|store\.)/;
    const contributed = Object.keys(manifest.contributes.configuration.properties);
    const wanted = [...contributed.filter((key) => families.test(key)), "redgreen.sandbox.network", "redgreen.sandbox.require", "redgreen.store.mongodbUri"];
    for (const key of wanted) assert.ok(restricted.includes(key), `${key} is not in restrictedConfigurations`);
    for (const key of restricted) assert.ok(contributed.includes(key), `restrictedConfigurations names ${key}, which is not contributed`);
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

  it("contributes every command the code names, and menus name only contributed commands", () => {
    const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const id of Object.values(Commands)) assert.ok(contributed.has(id), `${id} is not in contributes.commands`);
    const table = new Set<string>(Object.values(Commands));
    for (const id of contributed) assert.ok(table.has(id), `${id} is contributed but not in the command table that webviews may name`);
    for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
      for (const item of items) assert.ok(contributed.has(item.command), `${menu} names ${item.command}, which is not contributed`);
    }
  });

  it("puts the review actions on the review provider's groups, and runs git only in trusted workspaces", () => {
    const inline = manifest.contributes.menus["scm/resourceGroup/context"]!.filter((m) => m.group?.startsWith("inline"));
    assert.deepEqual(inline.map((m) => [m.command, m.when]), [Commands.showTicketCommits, Commands.requestChanges, Commands.approveAndMerge].map((c) => [c, "scmProvider == redgreen.review"]));
    assert.ok(manifest.contributes.menus["scm/title"]!.some((m) => m.command === Commands.refreshReviews && m.when === "scmProvider == redgreen.review"));
    assert.ok(manifest.contributes.menus.commandPalette!.some((m) => m.command === Commands.openReviewChange && m.when === "false"), "Open Change needs a file: not in the palette");
    for (const id of [Commands.refreshReviews, Commands.openReviewChange, Commands.showTicketCommits, Commands.approveAndMerge, Commands.requestChanges]) {
      const command = manifest.contributes.commands.find((c) => c.command === id)!;
      assert.equal(command.enablement, "isWorkspaceTrusted", id);
      assert.ok(command.icon, `${id} has an icon`);
    }
  });

  it("lets a webview ask only for commands in the table", () => {
    assert.ok(commandIdSchema.safeParse(Commands.startPair).success);
    const refused = commandIdSchema.safeParse("redgreen.startPairs");
    assert.ok(!refused.success && /command ids/.test(refused.error.issues[0]!.message), "an id not in the table is refused, saying why");
  });
});
