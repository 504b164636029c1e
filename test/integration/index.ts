// Entry point VS Code calls in the extension host (extensionTestsPath): runs the *.test.js files
// beside this file with mocha and rejects when a test fails, which makes the runner exit non-zero.
import { readdirSync } from "node:fs";
import path from "node:path";
import { format } from "node:util";
import Mocha from "mocha";

/**
 * Prefix (an invisible separator) for everything the suite prints, so that the code-server runner
 * can tell the suite's lines from the workbench's own logging. Must match scripts/run-integration.mjs.
 */
const SUITE_MARK = "\u2063";

/** Prints a line of the suite's output (reporter lines and the harness's notes). */
export function say(...args: unknown[]): void {
  console.log(SUITE_MARK + format(...args));
}

/**
 * restricted*.test.js need VS Code's Restricted Mode (trust on, the folder untrusted): they run
 * alone, in the runner's second code-server; every other test file runs in the first, trusted one.
 */
function inThisRun(file: string): boolean {
  return file.endsWith(".test.js") && file.startsWith("restricted") === (process.env.REDGREEN_RESTRICTED_MODE === "1");
}

export async function run(): Promise<void> {
  Mocha.reporters.Base.consoleLog = say;
  const mocha = new Mocha({
    ui: "bdd",
    color: false,
    timeout: 30_000,
    reporter: path.resolve(__dirname, "..", "..", "..", "test", "reporter.cjs"),
    // REDGREEN_TEST_GREP=<pattern> npm run test:integration runs only the matching tests.
    ...(process.env.REDGREEN_TEST_GREP ? { grep: process.env.REDGREEN_TEST_GREP } : {}),
  });
  for (const file of readdirSync(__dirname).filter(inThisRun).sort()) {
    mocha.addFile(path.join(__dirname, file));
  }
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}
