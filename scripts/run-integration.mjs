// Runs the integration suite (out/test/integration) inside a real VS Code extension host:
// code-server serves VS Code, headless Chromium opens it with our extension under development
// and the suite as its tests; the suite's exit code comes back through codeAutomationExit.
import { cpSync, createWriteStream, existsSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { format } from "node:util";
import { enableSmokeTestDriver, launchBrowser, startCodeServer, workbenchUrl } from "./code-server.mjs";
import { cacheDir, fail, log, repoRoot, scratchDataFolder } from "./lib.mjs";
import { startUiDriver } from "./ui-driver.mjs";
import { sampleWorkspace } from "./workbench.mjs";

/** Must match SUITE_MARK in test/integration/index.ts. */
const SUITE_MARK = "\u2063";
const TIMEOUT_MS = Number(process.env.REDGREEN_INTEGRATION_TIMEOUT_MS) || 5 * 60_000;

async function main() {
  mkdirSync(cacheDir, { recursive: true });
  // Real models for the suite, generated offline (cached in .cache/models).
  const { chatModel } = createRequire(import.meta.url)(path.join(repoRoot, "out", "test", "fixtures", "models", "makeModels.js"));
  // The tests act on webviews as a user would through this loopback server (test/integration/ui.ts).
  const uiDriver = await startUiDriver();
  // The windows' engine and its store live in a data folder of the suite's own, never the user's.
  const data = scratchDataFolder("redgreen-it-data-");
  const env = { REDGREEN_SUITE: "integration", ...data.env, REDGREEN_TEST_CHAT_MODEL: await chatModel(), REDGREEN_TEST_GREP: process.env.REDGREEN_TEST_GREP ?? "", ...uiDriver.env };
  try {
    const trusted = await runSuite({ workspace: sampleWorkspace(), env, uiDriver });
    // A second, short run in Restricted Mode: workspace trust on, and the folder a cloned
    // repository nobody trusted yet (test/integration/restricted*.test.ts only).
    const restricted = await runSuite({
      workspace: clonedWorkspace(),
      env: { ...env, REDGREEN_SUITE: "integration (restricted mode)", REDGREEN_RESTRICTED_MODE: "1" },
      uiDriver,
      workspaceTrust: true,
    });
    return trusted || restricted;
  } finally {
    await uiDriver.close();
    const engineLog = path.join(data.dir, "engine", "engine.log");
    if (existsSync(engineLog)) cpSync(engineLog, path.join(cacheDir, "integration-engine.log"));
    data.remove();
  }
}

/** The sample workspace plus a cloned repository's settings that try to take Redgreen over. */
function clonedWorkspace() {
  const workspace = sampleWorkspace();
  cpSync(path.join(repoRoot, "test", "fixtures", "cloned"), workspace, { recursive: true });
  return workspace;
}

/** Runs the suite in one code-server on `workspace` (removed afterwards); resolves with its exit code. */
async function runSuite({ workspace, env, uiDriver, workspaceTrust = false }) {
  let server;
  let browser;
  try {
    server = await startCodeServer({ folder: workspace, env, workspaceTrust });
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    // Another window of the same code-server (its own extension host, Redgreen under development in it, no tests).
    uiDriver.attach(page, async (folder) => {
      const other = await browser.context.newPage();
      await other.addInitScript(enableSmokeTestDriver);
      await other.goto(workbenchUrl(server, { folder, extensionPath: repoRoot }));
      return other;
    });
    const exited = new Promise((resolve) => {
      void page.exposeFunction("codeAutomationExit", (code) => resolve(Number(code)));
    });
    const workbenchLog = createWriteStream(path.join(cacheDir, "integration-workbench.log"), { flags: workspaceTrust ? "a" : "w" });
    await page.exposeFunction("codeAutomationLog", (type, args) => {
      // Console calls arrive with their printf-style arguments. The suite marks its lines; the
      // workbench's own chatter goes to a file, so that the output shows the tests.
      const text = format(...(Array.isArray(args) ? args : [args]));
      const line = text.endsWith("\n") ? text : `${text}\n`;
      if (line.startsWith(SUITE_MARK)) process.stdout.write(line.slice(SUITE_MARK.length));
      else if (type === "error") process.stderr.write(line);
      else workbenchLog.write(line);
    });
    await page.addInitScript(enableSmokeTestDriver);
    const url = workbenchUrl(server, {
      folder: workspace,
      extensionPath: repoRoot,
      testsPath: path.join(repoRoot, "out", "test", "integration", "index.js"),
    });
    log(`running the ${env.REDGREEN_SUITE} suite in code-server at ${server.url}`);
    await page.goto(url);
    const timedOut = new Promise((resolve) => setTimeout(() => resolve("timeout"), TIMEOUT_MS));
    const result = await Promise.race([exited, timedOut]);
    if (result === "timeout") {
      await page.screenshot({ path: path.join(cacheDir, "integration-timeout.png") }).catch(() => {});
      throw new Error(`the suite did not finish within ${TIMEOUT_MS / 1000} s (screenshot and workbench log in ${cacheDir})`);
    }
    return result;
  } finally {
    await browser?.close();
    await server?.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => fail(error instanceof Error ? error.message : String(error)),
);
