// `npm run test:electron`: the same integration suite in desktop VS Code, downloaded by
// @vscode/test-electron into .vscode-test/. For machines that can download VS Code; on an
// offline machine use `npm run test:integration` (code-server), which is what `npm test` runs.
import { rmSync } from "node:fs";
import path from "node:path";
import { runTests } from "@vscode/test-electron";
import { fail, log, repoRoot } from "./lib.mjs";
import { sampleWorkspace } from "./workbench.mjs";

const version = process.env.REDGREEN_VSCODE_VERSION || "1.100.3";
const workspace = sampleWorkspace();
let problem;
try {
  log(`running the integration suite in desktop VS Code ${version}`);
  await runTests({
    version,
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: path.join(repoRoot, "out", "test", "integration", "index.js"),
    extensionTestsEnv: { REDGREEN_SUITE: "integration" },
    launchArgs: [workspace, "--disable-extensions", "--disable-workspace-trust"],
  });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  problem =
    /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|getaddrinfo|network|fetch/i.test(message)
      ? `could not download VS Code ${version} (${message}). This machine is offline: use npm run test:integration.`
      : message;
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
if (problem) fail(problem);
