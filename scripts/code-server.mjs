// Starts code-server (a real VS Code) on loopback with a throw-away profile, and opens it in
// headless Chromium through playwright-core. Used by the integration runner, `npm start` and
// `npm run screenshot`.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { ensureCodeServer } from "./ensure-code-server.mjs";
import { chromiumPath, log } from "./lib.mjs";

const EDITOR_SETTINGS = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "chat.disableAIFeatures": true,
};

/** Trust on, and nobody answers the "Do you trust the authors?" prompt: the folder stays untrusted. */
const RESTRICTED_MODE_SETTINGS = {
  "security.workspace.trust.enabled": true,
  "security.workspace.trust.startupPrompt": "never",
  "security.workspace.trust.banner": "never",
};

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode} while starting`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${timeoutMs} ms`);
}

/**
 * `workspaceTrust`: VS Code's workspace trust on, with the folder untrusted (Restricted Mode) and
 * no startup prompt; off (the default), every folder is trusted.
 * `install`: a .vsix installed into the profile's (empty) extensions folder before it starts.
 * @param {{ folder: string, env?: Record<string,string>, settings?: object, port?: number, quiet?: boolean, workspaceTrust?: boolean, install?: string }} options
 */
export async function startCodeServer({ folder, env = {}, settings = {}, port, quiet = true, workspaceTrust = false, install }) {
  const entry = ensureCodeServer();
  port ??= await freePort();
  const home = mkdtempSync(path.join(os.tmpdir(), "redgreen-code-server-"));
  const userDataDir = path.join(home, "user-data");
  mkdirSync(path.join(userDataDir, "User"), { recursive: true });
  writeFileSync(
    path.join(userDataDir, "User", "settings.json"),
    JSON.stringify({ ...EDITOR_SETTINGS, ...(workspaceTrust ? RESTRICTED_MODE_SETTINGS : {}), ...settings }, null, 2),
  );
  const config = path.join(home, "config.yaml");
  writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const profile = ["--user-data-dir", userDataDir, "--extensions-dir", path.join(home, "extensions")];
  if (install) {
    const installed = spawnSync(process.execPath, [entry, "--config", config, ...profile, "--install-extension", install], { encoding: "utf8", env: { ...process.env, EXTENSIONS_GALLERY: "{}" }, timeout: 120_000 });
    if (installed.status !== 0) {
      rmSync(home, { recursive: true, force: true });
      throw new Error(`code-server --install-extension ${install} failed: ${(installed.stderr || installed.stdout || String(installed.error)).trim().slice(0, 2000)}`);
    }
  }
  const args = [
    entry, "--config", config, "--auth", "none", "--bind-addr", `127.0.0.1:${port}`,
    ...profile,
    "--disable-telemetry", "--disable-update-check", ...(workspaceTrust ? [] : ["--disable-workspace-trust"]), folder,
  ];
  // The extension host inherits this environment: that is how tests pass settings to it.
  const child = spawn(process.execPath, args, {
    // An empty extension gallery: code-server would otherwise query open-vsx.org (offline here).
    env: { ...process.env, EXTENSIONS_GALLERY: "{}", ...env },
    stdio: ["ignore", quiet ? "ignore" : "inherit", quiet ? "ignore" : "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => {
        const timer = setTimeout(() => { child.kill("SIGKILL"); resolve(); }, 5000);
        child.once("exit", () => { clearTimeout(timer); resolve(); });
      });
    }
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await waitForHealth(url, child, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, child, stop, extensionsDir: path.join(home, "extensions") };
}

/** Headless Debian Chromium, never a downloaded one, with its background networking off. */
export async function launchBrowser() {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error("Chromium is missing: install Debian's chromium package");
  const profile = mkdtempSync(path.join(os.tmpdir(), "redgreen-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
      "--disable-background-networking", "--disable-component-update",
    ],
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/** The workbench URL that loads our extension for development, and optionally a test suite. */
export function workbenchUrl(server, { folder, extensionPath, testsPath }) {
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const payload = [["extensionDevelopmentPath", remote(extensionPath)]];
  if (testsPath) payload.push(["extensionTestsPath", remote(testsPath)]);
  return `${server.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/**
 * Newer VS Code builds ignore the payload unless the smoke-test driver is enabled in the
 * workbench's web configuration; set it as the page parses, before the workbench reads it.
 */
export function enableSmokeTestDriver() {
  /* global document, MutationObserver -- this function runs in the page, not in Node */
  const patch = (element) => {
    const settings = JSON.parse(element.getAttribute("data-settings") || "{}");
    if (settings.developmentOptions?.enableSmokeTestDriver) return;
    settings.developmentOptions = { ...settings.developmentOptions, enableSmokeTestDriver: true };
    element.setAttribute("data-settings", JSON.stringify(settings));
  };
  new MutationObserver((_, observer) => {
    const element = document.getElementById("vscode-workbench-web-configuration");
    if (element) {
      patch(element);
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
}

export { log };
