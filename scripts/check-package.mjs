// The package a user installs, checked as a user would meet it: `npm run package` builds the .vsix
// from this checkout (offline), code-server installs it into a fresh profile, and the workbench
// opens with the installed copy (not the development one): both views render, the engine the window
// starts is the packaged one, and the packaged model host answers a chat on a generated model with
// the packaged node-llama-cpp. Prints one line per check; exits 1 on the first that fails.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { launchBrowser, startCodeServer } from "./code-server.mjs";
import { cacheDir, fail, log, repoRoot, scratchDataFolder } from "./lib.mjs";
import { sampleWorkspace, showRedgreen } from "./workbench.mjs";

const require = createRequire(import.meta.url);
const VSIX = path.join(repoRoot, "dist", "redgreen-linux-x64.vsix");
const { name, publisher, version } = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));

function buildPackage() {
  rmSync(VSIX, { force: true });
  const built = spawnSync("npm", ["run", "package"], { cwd: repoRoot, encoding: "utf8", timeout: 5 * 60_000 });
  if (built.status !== 0) throw new Error(`npm run package failed:\n${`${built.stdout}\n${built.stderr}`.trim().split("\n").slice(-20).join("\n")}`);
  if (!existsSync(VSIX)) throw new Error(`npm run package made no ${VSIX}`);
}

/** The installed copy's folder in the profile's extensions folder. */
function installedExtension(extensionsDir) {
  const folder = readdirSync(extensionsDir).find((entry) => entry.startsWith(`${publisher}.${name}-${version}`));
  if (!folder) throw new Error(`the package is not in ${extensionsDir} after --install-extension (found: ${readdirSync(extensionsDir).join(", ") || "nothing"})`);
  return path.join(extensionsDir, folder);
}

/** The engine the window started: its log names its pid, whose command line must be the packaged engine. */
async function packagedEngine(dataDir, extension) {
  const logFile = path.join(dataDir, "engine", "engine.log");
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pid = existsSync(logFile) ? /engine [^:]+: pid (\d+)/.exec(readFileSync(logFile, "utf8"))?.[1] : undefined;
    if (pid) {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      if (!commandLine.includes(path.join(extension, "dist", "engine.js"))) throw new Error(`the engine (pid ${pid}) is not the packaged one: ${commandLine}`);
      return pid;
    }
    if (Date.now() > deadline) throw new Error(`no engine started within 60 s (no pid in ${logFile})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A chat through the packaged model host and its node-llama-cpp, on a model generated offline. */
async function chatThroughPackagedHost(extension) {
  const { ModelHostProcess } = require(path.join(repoRoot, "out", "src", "adapters", "llm", "modelHostProcess.js"));
  const { LocalModelBackend } = require(path.join(repoRoot, "out", "src", "adapters", "llm", "localBackend.js"));
  const { chatModel } = require(path.join(repoRoot, "out", "test", "fixtures", "models", "makeModels.js"));
  const quiet = { trace() {}, debug() {}, info() {}, warn: log, error: (e) => log(String(e)) };
  const host = new ModelHostProcess({ entry: path.join(extension, "dist", "modelHost.js"), log: quiet, gpu: false });
  const backend = new LocalModelBackend(host);
  try {
    await backend.load({ id: "tiny", path: await chatModel(), contextSize: 256, threads: 2, gpuLayers: 0, poolSize: 1, embedding: false });
    const reply = await backend.chat("tiny", { messages: [{ role: "user", content: "Say hello." }], maxTokens: 8 });
    if (!(reply.completionTokens > 0)) throw new Error(`the packaged model host answered with no tokens: ${JSON.stringify(reply)}`);
    return reply;
  } finally {
    backend.dispose();
    host.dispose();
  }
}

/**
 * Both views rendered. code-server's webview service-worker race (see showRedgreen) can leave them
 * blank through all its attempts on a cold profile (seen often here): the workbench is loaded again, up to five times.
 */
async function showViews(page) {
  for (let load = 1; ; load++) {
    try {
      return await showRedgreen(page, { log });
    } catch (error) {
      if (load === 5) throw error;
      log(`package: ${error instanceof Error ? error.message : String(error)}; loading the workbench again`);
      await page.reload();
    }
  }
}

let passed = 0;
const passes = (what) => {
  passed++;
  log(`package: ${what}`);
};

async function main() {
  buildPackage();
  passes(`built ${path.relative(repoRoot, VSIX)}`);
  const data = scratchDataFolder("redgreen-package-data-");
  const workspace = sampleWorkspace();
  let server;
  let browser;
  try {
    server = await startCodeServer({ folder: workspace, env: data.env, install: VSIX });
    const extension = installedExtension(server.extensionsDir);
    passes(`installed into a fresh profile (${path.basename(extension)})`);
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await showViews(page);
    await page.screenshot({ path: path.join(cacheDir, "package-views.png") });
    passes(`activated; the Kanban and Chat views render (${path.relative(repoRoot, path.join(cacheDir, "package-views.png"))})`);
    const pid = await packagedEngine(data.dir, extension);
    passes(`the window started the packaged engine (pid ${pid})`);
    const reply = await chatThroughPackagedHost(extension);
    passes(`the packaged model host answered (${reply.completionTokens} tokens in ${Math.round(reply.totalMs)} ms)`);
  } finally {
    // Each step whatever the one before did: no editor, engine or folder left behind.
    await browser?.close().catch((error) => log(`closing the browser: ${error}`));
    await server?.stop().catch((error) => log(`stopping code-server: ${error}`));
    data.remove();
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().then(
  () => process.stdout.write(`package: ${passed} passed, 0 failed\n`),
  (error) => {
    process.stdout.write(`package: ${passed} passed, 1 failed\n`);
    fail(error instanceof Error ? error.message : String(error));
  },
);
