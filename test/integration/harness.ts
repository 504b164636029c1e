import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import type { RedgreenTestApi } from "../../src/extension";
import type { LogEntry } from "../../src/platform/log";
import type { RenderReport } from "../../src/protocol/viewState";
import { say } from "./index";

export const EXTENSION_ID = "redgreen.redgreen";

let api: RedgreenTestApi | undefined;

/** Activates the extension once and starts collecting its log. */
export async function activateRedgreen(): Promise<RedgreenTestApi> {
  if (api) return api;
  const extension = vscode.extensions.getExtension<RedgreenTestApi | undefined>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is installed`);
  const exported = await extension.activate();
  assert.ok(exported, "activate() returns the test API in test mode");
  // The tests make their projects in the temporary folder, outside the workspace: trusted, as a
  // user would answer Redgreen's question about such a folder.
  await exported.trust.remember(os.tmpdir(), true);
  api = exported;
  return exported;
}

/** Resolves with the first log entry (already written or coming) that matches. */
export async function waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<LogEntry> {
  const { log } = await activateRedgreen();
  return eventually(
    () => log.recent().find((entry) => pattern.test(entry.message)),
    timeoutMs,
    () => `no log entry matched ${pattern}; log so far:\n${log.recent().map((e) => `[${e.level}] ${e.message}`).join("\n")}`,
  );
}

/** Polls until `probe` gives a value (what the user would see a moment later), or fails. */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  describe: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`after ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens a Redgreen view, waits for its page's handshake and first render, and returns what it shows.
 *
 * In code-server every webview shares one origin and service-worker scope, and VS Code 1.100's
 * webview host loses a frame's service-worker handshake in about 1 of 5 cold loads when frames
 * start together (measured; desktop VS Code isolates webviews). VS Code creates those frames, not
 * us, so the harness recovers as a user would: it hides and shows the one stuck view, whose new
 * frame starts alone. Each retry is printed in the test output.
 */
export async function openView(name: keyof RedgreenTestApi["views"]): Promise<RenderReport> {
  const host = (await activateRedgreen()).views[name];
  await vscode.commands.executeCommand(`${host.viewId}.focus`);
  for (let attempt = 1; ; attempt++) {
    try {
      await within(host.whenReady(), 15_000, `the ${name} webview's ready handshake`);
      break;
    } catch (error) {
      if (attempt === 5) throw error;
      say(`      (the ${name} webview stayed blank, a code-server service-worker race; showing it again)`);
      await vscode.commands.executeCommand(`${host.viewId}.toggleVisibility`);
      await vscode.commands.executeCommand(`${host.viewId}.toggleVisibility`);
      await vscode.commands.executeCommand(`${host.viewId}.focus`);
    }
  }
  return eventually(
    async () => {
      const report = await host.endpoint.request("describe", {});
      return report.showing === "loading" ? undefined : report;
    },
    10_000,
    () => `the ${name} view is still loading`,
  );
}

/** Runs the packaged `redgreen` command line (dist/cli.js) as a real process on the suite's data folder. */
export function redgreen(args: string[]): Promise<string> {
  const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, "dist", "cli.js");
  const env = { ...process.env, GIT_AUTHOR_NAME: "T", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "T", GIT_COMMITTER_EMAIL: "t@t", NO_COLOR: "1" };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, ...args], { env, timeout: 30_000 }, (error, stdout, stderr) => (error ? reject(new Error(`redgreen ${args.join(" ")}: ${stderr || error.message}`)) : resolve(stdout)));
  });
}
