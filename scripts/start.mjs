// `npm start`: Redgreen in a real VS Code on the sample workspace. Desktop VS Code (`code`) when it
// is installed, otherwise code-server on loopback, opened in your browser. Rebuilds on change;
// run "Developer: Reload Window" to load a new build.
import { spawn } from "node:child_process";
import { cpSync, existsSync } from "node:fs";
import path from "node:path";
import { startCodeServer, workbenchUrl } from "./code-server.mjs";
import { cacheDir, fail, log, repoRoot, which } from "./lib.mjs";

const folder = path.join(cacheDir, "sample-workspace");
const port = Number(process.env.REDGREEN_PORT) || 8765;

async function main() {
  // A copy the user may change freely; kept between runs.
  if (!existsSync(folder)) cpSync(path.join(repoRoot, "test", "fixtures", "workspace"), folder, { recursive: true });
  const watcher = spawn(process.execPath, [path.join(repoRoot, "scripts", "build.mjs"), "--watch"], { stdio: "inherit" });

  const code = process.env.REDGREEN_USE_CODE_SERVER ? undefined : which("code");
  if (code) {
    log(`opening desktop VS Code (${code}) with Redgreen under development on ${folder}`);
    spawn(code, ["--new-window", `--extensionDevelopmentPath=${repoRoot}`, folder], { stdio: "inherit" });
    return;
  }
  const server = await startCodeServer({ folder, port, quiet: !process.env.REDGREEN_VERBOSE });
  const url = workbenchUrl(server, { folder, extensionPath: repoRoot });
  log(`VS Code (code-server) is running with Redgreen on ${folder}`);
  log("open this address in a browser (it loads Redgreen for development):");
  process.stdout.write(`\n  ${url}\n\n`);
  log("the Redgreen icon is in the activity bar; Ctrl+C stops");
  const stop = async () => {
    watcher.kill();
    await server.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

main().catch((error) => fail(error instanceof Error ? error.message : String(error)));
