// Playwright steps on the VS Code workbench, shared by `npm start` and `npm run screenshot`.
import { cpSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "./lib.mjs";

/** A fresh copy of the sample workspace (outside our repository, so git does not offer to open it). */
export function sampleWorkspace() {
  const folder = mkdtempSync(path.join(os.tmpdir(), "redgreen-workspace-"));
  cpSync(path.join(repoRoot, "test", "fixtures", "workspace"), folder, { recursive: true });
  return folder;
}

/**
 * Waits for the workbench, opens the Redgreen container, and waits until both views have rendered.
 * Returns the view panes by name (webview pages are overlays drawn over their pane, not inside it,
 * so the pane's box is what a screenshot should clip).
 */
export async function showRedgreen(page) {
  await page.locator(".monaco-workbench .activitybar").waitFor({ timeout: 60_000 });
  await page.locator('.activitybar [aria-label^="Redgreen"]').first().click({ timeout: 60_000 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rendered = await Promise.all(page.frames().map((frame) => frame.locator(".empty-state").count().catch(() => 0)));
    if (rendered.reduce((a, b) => a + b, 0) >= 2) break;
    if (Date.now() > deadline) throw new Error("the Kanban and Chat views did not render within 60 s");
    await page.waitForTimeout(250);
  }
  // Let the web components finish upgrading and fonts load before anyone takes a picture.
  await page.waitForTimeout(500);
  const pane = (title) => page.locator(".pane").filter({ has: page.locator(`.pane-header[aria-label^="${title}"]`) });
  return { kanban: pane("Kanban"), chat: pane("Chat") };
}

/**
 * Picks a colour theme through the command palette, as a user would. (The Extension Development
 * Host that code-server opens for our extension ignores the theme in user and workspace settings.)
 */
export async function setColorTheme(page, label) {
  await page.locator(".monaco-workbench .activitybar").waitFor({ timeout: 60_000 });
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.fill(">Preferences: Color Theme");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "Preferences: Color Theme" }).first().click();
  await input.fill(label);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: label }).first().click();
  const kind = /dark/i.test(label) ? "vs-dark" : "vs";
  await page.waitForFunction((k) => document.querySelector(".monaco-workbench")?.classList.contains(k), kind, { timeout: 10_000 });
}
