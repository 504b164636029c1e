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
 *
 * In code-server every webview shares one origin and one service-worker scope, and VS Code 1.100's
 * webview host loses a frame's service-worker handshake in about 1 of 5 cold loads (measured): the
 * page stays blank. Desktop VS Code gives each webview its own origin and does not have this race.
 * When it happens here, hiding and re-showing the container creates the frames again.
 */
export async function showRedgreen(page, { attempts = 4, log = () => {} } = {}) {
  await page.locator(".monaco-workbench .activitybar").waitFor({ timeout: 60_000 });
  const icon = page.locator('.activitybar [aria-label^="Redgreen"]').first();
  for (let attempt = 1; ; attempt++) {
    await icon.click({ timeout: 60_000 });
    if (await bothViewsRendered(page, 15_000)) break;
    if (attempt === attempts) throw new Error(`the Kanban and Chat views did not render (${attempts} attempts)`);
    log(`a Redgreen view stayed blank (code-server webview service-worker race); reopening the container`);
    await icon.click(); // hides the side bar, disposing the webviews
    await page.waitForTimeout(500);
  }
  // Let the web components finish upgrading and fonts load before anyone takes a picture.
  await page.waitForTimeout(500);
  const pane = (title) => page.locator(".pane").filter({ has: page.locator(`.pane-header[aria-label^="${title}"]`) });
  return { kanban: pane("Kanban"), chat: pane("Chat") };
}

async function bothViewsRendered(page, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const counts = await Promise.all(page.frames().map((frame) => frame.locator(".empty-state").count().catch(() => 0)));
    if (counts.reduce((a, b) => a + b, 0) >= 2) return true;
    await page.waitForTimeout(250);
  }
  return false;
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
  // eslint-disable-next-line no-undef -- runs in the page
  await page.waitForFunction((k) => document.querySelector(".monaco-workbench")?.classList.contains(k), kind, { timeout: 10_000 });
}

/** Runs a command from the command palette by its title, as a user would. */
export async function runCommand(page, title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.fill(`>${title}`);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().click();
}

/**
 * Creates a project through Redgreen: New Project…'s prompts, typing into each one: the folder
 * dialog (code-server's simple file dialog), name, priority, test command and remote.
 */
export async function createProjectThroughUi(page, { folder, name, priority = "high", testCommand = "npm test" }) {
  const input = page.locator(".quick-input-widget input");
  await runCommand(page, "Redgreen: New Project…");
  await input.fill(folder);
  await page.waitForTimeout(500);
  await page.locator(".quick-input-widget .monaco-button", { hasText: "Use This Folder" }).first().click();
  for (const answer of [name, priority, testCommand, ""]) {
    await page.waitForTimeout(400);
    await input.fill(answer);
    await page.keyboard.press("Enter");
  }
}
