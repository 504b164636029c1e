import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { cleanEnv, ProcessTestRunner } from "../../src/adapters/exec/processTestRunner";
import { failureKind, parseTestOutput } from "../../src/core/tdd/testOutput";
import { UntrustedWorkspaceError, type TestRun, type TestRunRequest } from "../../src/core/tdd/testRun";
import { eventually, NO_SANDBOX, processesWith } from "../fixtures/processes";

// Real processes on small projects written to temp folders: node --test (always there), this
// repository's own mocha, and pytest where it is installed. Jest and vitest are not installed here,
// so their parsers are tested on representative samples of their output (further down).

const root = path.join(os.tmpdir(), `redgreen-testrun-${process.pid}`);
const repoRoot = path.resolve(__dirname, "..", "..", "..");
const mocha = path.join(repoRoot, "node_modules", ".bin", "mocha");
let n = 0;

async function project(files: Record<string, string>): Promise<string> {
  const dir = path.join(root, `p${++n}`);
  await fs.mkdir(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), content);
  }
  return dir;
}

const runner = new ProcessTestRunner({ isTrusted: () => true, killGraceMs: 500 });
const run = (cwd: string, command = "node --test", more: Partial<TestRunRequest> = {}): Promise<TestRun> =>
  runner.run({ cwd, command, timeoutMs: 30_000, outputCapBytes: 1_000_000, ...more });

const CALC = { "calc.js": "exports.add = (a, b) => a + b;\n" };
const HEADER = "const test = require('node:test');\nconst assert = require('node:assert/strict');\n";

const onPath = (tool: string) => {
  try {
    execFileSync("/bin/sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

describe("Running a project's tests as a real process", function () {
  this.timeout(60_000);
  after(() => fs.rm(root, { recursive: true, force: true }));

  it("runs a passing node --test suite in the worktree", async () => {
    const dir = await project({ ...CALC, "test/calc.test.js": `${HEADER}const { add } = require('../calc');\ntest('adds', () => assert.equal(add(1, 2), 3));\ntest('adds negatives', () => assert.equal(add(-1, -2), -3));\n` });
    const result = await run(dir);
    assert.equal(result.exitCode, 0, result.output);
    assert.deepEqual(result.summary, { runner: "node-test", passed: 2, failed: 0, failures: [], outcome: "pass" });
    assert.equal(result.timedOut, false);
    assert.equal(result.cancelled, false);
    assert.equal(result.truncated, false);
    assert.match(result.output, /^TAP version 13/);
    assert.ok(result.durationMs > 0);
  });

  it("reports a failing assertion: counts, the failing test's full name and its message", async () => {
    const dir = await project({ ...CALC, "test/calc.test.js": `${HEADER}const { add } = require('../calc');\ntest.describe('calc', () => {\n  test.it('adds', () => assert.equal(add(1, 2), 3));\n  test.it('adds wrong', () => assert.equal(add(1, 2), 4));\n});\n` });
    const result = await run(dir);
    assert.equal(result.exitCode, 1);
    assert.equal(result.summary.outcome, "fail");
    assert.equal(result.summary.passed, 1);
    assert.equal(result.summary.failed, 1);
    assert.deepEqual(result.summary.failures.map((f) => f.name), ["calc > adds wrong"]);
    assert.match(result.summary.failures[0]!.message, /^AssertionError: Expected values to be strictly equal:\n\n3 !== 4/);
    assert.equal(failureKind(result.summary, result.output), "assertion");
  });

  it("reads a missing function, module or export of the code under test as a red for the right reason", async () => {
    const fixtures: Record<string, string>[] = [
      { ...CALC, "test/calc.test.js": `${HEADER}const { mul } = require('../calc');\ntest('multiplies', () => assert.equal(mul(2, 3), 6));\n` },
      { "test/sum.test.js": `${HEADER}const { sum } = require('../src/sum.js');\ntest('sums', () => assert.equal(sum([1, 2]), 3));\n` },
      { "calc.mjs": "export const add = (a, b) => a + b;\n", "calc.test.mjs": "import test from 'node:test';\nimport { mul } from './calc.mjs';\ntest('multiplies', () => mul(2, 3));\n" },
    ];
    const expected = [/TypeError: mul is not a function/, /Cannot find module '\.\.\/src\/sum\.js'/, /does not provide an export named 'mul'/];
    for (const [i, files] of fixtures.entries()) {
      const result = await run(await project(files));
      assert.equal(result.summary.outcome, "fail", result.output);
      assert.equal(failureKind(result.summary, result.output), "missing", result.output);
      assert.match(result.summary.failures[0]!.message, expected[i]!);
    }
  });

  it("tells a syntax error in a test file, or a dependency that is not installed, from a red", async () => {
    const syntax = await run(await project({ "test/calc.test.js": `${HEADER}test('adds', () => { if ( });\n` }));
    assert.notEqual(syntax.exitCode, 0);
    assert.equal(syntax.summary.outcome, "error");
    assert.equal(failureKind(syntax.summary, syntax.output), "syntax");
    assert.match(syntax.summary.failures[0]!.message, /SyntaxError: Unexpected token/);

    const dependency = await run(await project({ "test/calc.test.js": `${HEADER}const pad = require('redgreen-no-such-package');\ntest('pads', () => pad());\n` }));
    assert.equal(dependency.summary.outcome, "error");
    assert.equal(failureKind(dependency.summary, dependency.output), "other");
  });

  it("reports a command that does not exist as an error, with the shell's exit code 127", async () => {
    const result = await run(await project({}), "redgreen-no-such-command --run");
    assert.equal(result.exitCode, 127);
    assert.equal(result.summary.outcome, "error");
    assert.equal(result.summary.runner, "unknown");
    assert.match(result.output, /redgreen-no-such-command.*not found/);
  });

  it("stops a run at its time limit, the whole process tree included", async () => {
    // The test starts a grandchild that ignores SIGTERM, so only the SIGKILL after the grace period stops it.
    const token = `redgreen-grandchild-${process.pid}-${++n}`;
    const dir = await project({
      "test/slow.test.js": `${HEADER}const { spawn } = require('node:child_process');\n` +
        "test('sleeps', async () => {\n" +
        `  spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)", '${token}'], { stdio: 'ignore' });\n` +
        "  await new Promise((resolve) => setTimeout(resolve, 60_000));\n" +
        "});\n",
    });
    const result = await run(dir, "node --test", { timeoutMs: 5000 });
    assert.equal(result.timedOut, true);
    assert.equal(result.cancelled, false);
    assert.equal(result.summary.outcome, "error");
    assert.ok(result.durationMs >= 5000 && result.durationMs < 15_000, `${result.durationMs} ms`);
    assert.ok(await eventually(() => processesWith(token).length === 0), `grandchild still running: ${processesWith(token).join(", ")}`);
  });

  it("caps the output, keeping its head and its tail around a marker", async () => {
    const dir = await project({
      "test/loud.test.js": `${HEADER}test('prints a megabyte', () => {\n  process.stdout.write('HEAD-MARK\\n');\n  for (let i = 0; i < 16384; i++) process.stdout.write('x'.repeat(63) + '\\n');\n  process.stdout.write('TAIL-MARK\\n');\n});\n`,
    });
    const cap = 64 * 1024;
    const result = await run(dir, "node --test", { outputCapBytes: cap });
    assert.equal(result.truncated, true);
    const marker = /\n\[… (\d+) bytes cut …\]\n/.exec(result.output);
    assert.ok(marker, "the cut is marked");
    assert.ok(Number(marker[1]) > 1_000_000 - cap, marker[0]);
    assert.ok(Buffer.byteLength(result.output) <= cap + marker[0].length + 8);
    assert.match(result.output.slice(0, marker.index), /^TAP version 13\n# HEAD-MARK/);
    assert.match(result.output.slice(marker.index), /TAIL-MARK[\s\S]*# pass 1\n/);
    // The summary comes from the tail, so a loud run is still read right.
    assert.equal(result.summary.outcome, "pass");
    assert.equal(result.summary.passed, 1);
  });

  it("gives the command a clean environment: no editor variables, no secrets", async () => {
    const planted = { REDGREEN_SECRET_TEST: "xyz", VSCODE_IPC_HOOK: "/tmp/vscode-ipc-fake.sock", ELECTRON_RUN_AS_NODE: "1", NODE_OPTIONS: "--require /nonexistent.js", GITHUB_TOKEN: "ghp_fake" };
    const before = { ...process.env };
    Object.assign(process.env, planted);
    try {
      const result = await run(await project({}), `node -e "console.log(JSON.stringify(process.env))"`);
      assert.equal(result.exitCode, 0, result.output);
      const env = JSON.parse(result.output) as Record<string, string>;
      for (const name of Object.keys(planted)) assert.equal(env[name], undefined, name);
      assert.equal(env.PATH, process.env.PATH);
      assert.equal(env.HOME, process.env.HOME);
      assert.deepEqual([env.CI, env.NO_COLOR, env.FORCE_COLOR, env.TERM], ["1", "1", "0", "dumb"]);
      // Everything else is on the allow-list, or set by the shell itself (PWD).
      const allowed = /^(PATH|HOME|USER|LANG|LC_\w+|TMPDIR|TEMP|TMP|SHELL|TERM|CI|NO_COLOR|FORCE_COLOR|PWD|OLDPWD|SHLVL|_)$/;
      assert.deepEqual(Object.keys(env).filter((name) => !allowed.test(name)), []);
    } finally {
      for (const name of Object.keys(planted)) if (before[name] === undefined) delete process.env[name];
      Object.assign(process.env, before);
    }
  });

  it("allows Windows' own variables only on Windows, whatever their case", () => {
    const source = { Path: "C:\\bin", SystemRoot: "C:\\Windows", APPDATA: "C:\\u", VSCODE_PID: "1", LC_ALL: "C" };
    assert.deepEqual(Object.keys(cleanEnv(source, "win32")).sort(), ["APPDATA", "CI", "FORCE_COLOR", "NO_COLOR", "Path", "SystemRoot", "TERM"]);
    assert.deepEqual(Object.keys(cleanEnv(source, "linux")).sort(), ["CI", "FORCE_COLOR", "LC_ALL", "NO_COLOR", "TERM"]);
  });

  it("cancels a run through its AbortSignal, and never starts one already cancelled", async () => {
    const dir = await project({ "test/slow.test.js": `${HEADER}test('sleeps', () => new Promise((resolve) => setTimeout(resolve, 60_000)));\n` });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1000);
    const result = await run(dir, "node --test", { signal: controller.signal });
    assert.equal(result.cancelled, true);
    assert.equal(result.timedOut, false);
    assert.equal(result.exitCode, null);
    assert.equal(result.summary.outcome, "error");
    assert.ok(result.durationMs < 10_000, `${result.durationMs} ms`);

    const early = await run(dir, "node -e \"require('fs').writeFileSync('ran', '')\"", { signal: AbortSignal.abort() });
    assert.equal(early.cancelled, true);
    assert.equal(existsSync(path.join(dir, "ran")), false);
  });

  it("refuses to run anything in an untrusted workspace", async () => {
    const dir = await project({});
    const untrusted = new ProcessTestRunner({ isTrusted: () => false });
    await assert.rejects(untrusted.run({ cwd: dir, command: "node -e \"require('fs').writeFileSync('ran', '')\"", timeoutMs: 10_000, outputCapBytes: 1000 }), UntrustedWorkspaceError);
    assert.equal(existsSync(path.join(dir, "ran")), false);
  });

  it("reads mocha's spec reporter from a real run of this repository's mocha", async () => {
    const dir = await project({
      ...CALC,
      "test/calc.test.js": "const assert = require('node:assert/strict');\nconst { add } = require('../calc');\n" +
        "describe('calc', () => {\n  it('adds', () => assert.equal(add(1, 2), 3));\n  describe('negatives', () => {\n    it('adds them', () => assert.equal(add(-1, -2), 3));\n  });\n});\n",
    });
    // This repository's mocha may lie where the sandbox hides (a clone under /tmp or HOME): what is
    // tested here is reading its output, so this one run goes without the sandbox.
    const unsandboxed = new ProcessTestRunner({ killGraceMs: 500, sandbox: NO_SANDBOX });
    const result = await unsandboxed.run({ cwd: dir, command: `"${mocha}" test/calc.test.js`, timeoutMs: 30_000, outputCapBytes: 1_000_000 });
    assert.equal(result.summary.runner, "mocha", result.output);
    assert.equal(result.summary.outcome, "fail");
    assert.deepEqual([result.summary.passed, result.summary.failed], [1, 1]);
    assert.deepEqual(result.summary.failures.map((f) => f.name), ["calc > negatives > adds them"]);
    assert.match(result.summary.failures[0]!.message, /^AssertionError \[ERR_ASSERTION\]: Expected values to be strictly equal:\n\n-3 !== 3/);
    assert.equal(failureKind(result.summary, result.output), "assertion");

    const broken = await unsandboxed.run({ cwd: await project({ "test/calc.test.js": "it('adds', () => { if ( });\n" }), command: `"${mocha}" test/calc.test.js`, timeoutMs: 30_000, outputCapBytes: 1_000_000 });
    assert.equal(broken.summary.outcome, "error");
    assert.equal(failureKind(broken.summary, broken.output), "syntax");
  });

  it("reads pytest from real runs (where pytest is installed)", async function () {
    if (!onPath("pytest")) this.skip();
    const calc = { "calc.py": "def add(a, b):\n    return a + b\n" };
    const failing = await run(await project({ ...calc, "test_calc.py": "from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n\ndef test_add_wrong():\n    assert add(1, 2) == 4\n" }), "pytest -p no:cacheprovider");
    assert.equal(failing.summary.runner, "pytest", failing.output);
    assert.deepEqual([failing.summary.passed, failing.summary.failed, failing.summary.outcome], [1, 1, "fail"]);
    assert.deepEqual(failing.summary.failures, [{ name: "test_calc.py::test_add_wrong", message: "assert 3 == 4\n +  where 3 = add(1, 2)" }]);
    assert.equal(failureKind(failing.summary, failing.output), "assertion");

    const missing = await run(await project({ "test_calc.py": "from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n" }), "pytest -p no:cacheprovider");
    assert.equal(missing.summary.outcome, "fail");
    assert.deepEqual(missing.summary.failures, [{ name: "test_calc.py", message: "ModuleNotFoundError: No module named 'calc'" }]);
    assert.equal(failureKind(missing.summary, missing.output), "missing");

    const syntax = await run(await project({ "test_calc.py": "def test_add(:\n    assert True\n" }), "pytest -p no:cacheprovider");
    assert.equal(syntax.summary.outcome, "error");
    assert.equal(failureKind(syntax.summary, syntax.output), "syntax");
  });
});

// Representative samples of each runner's default output (jest 29, vitest 1-2; pytest and node's
// spec reporter captured from real runs here), for the runners this machine cannot run.
const JEST_FAIL = ` FAIL  src/calc.test.js
  calc
    ✓ adds (2 ms)
    ✕ adds wrong (3 ms)

  ● calc › adds wrong

    expect(received).toBe(expected) // Object.is equality

    Expected: 4
    Received: 3

      4 |   test("adds", () => expect(add(1, 2)).toBe(3));
      5 |   test("adds wrong", () => {
    > 6 |     expect(add(1, 2)).toBe(4);
        |                       ^
      7 |   });

      at Object.toBe (src/calc.test.js:6:23)

Test Suites: 1 failed, 1 total
Tests:       1 failed, 1 passed, 2 total
Snapshots:   0 total
Time:        0.512 s, estimated 1 s
Ran all test suites.
`;

const JEST_SUITE = (reason: string) => ` FAIL  src/calc.test.js
  ● Test suite failed to run

${reason}

Test Suites: 1 failed, 1 total
Tests:       0 total
Snapshots:   0 total
Time:        0.3 s
Ran all test suites.
`;

const VITEST_FAIL = ` RUN  v1.6.0 /home/u/calc

 ❯ test/calc.test.ts (2)
   ❯ calc (2)
     ✓ adds
     × adds wrong

⎯⎯⎯⎯⎯⎯⎯ Failed Tests 1 ⎯⎯⎯⎯⎯⎯⎯

 FAIL  test/calc.test.ts > calc > adds wrong
AssertionError: expected 3 to be 4 // Object.is equality

- Expected
+ Received

- 4
+ 3

 ❯ test/calc.test.ts:9:23
      7|   it("adds", () => expect(add(1, 2)).toBe(3));
      8|   it("adds wrong", () => {
      9|     expect(add(1, 2)).toBe(4);
       |                       ^

⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[1/1]⎯

 Test Files  1 failed (1)
      Tests  1 failed | 1 passed (2)
   Start at  10:12:01
   Duration  412ms (transform 31ms, setup 0ms, collect 24ms, tests 6ms, environment 0ms, prepare 61ms)
`;

const VITEST_SUITE = ` RUN  v1.6.0 /home/u/calc

 ❯ test/calc.test.ts (0)

⎯⎯⎯⎯⎯⎯ Failed Suites 1 ⎯⎯⎯⎯⎯⎯⎯

 FAIL  test/calc.test.ts [ test/calc.test.ts ]
Error: Failed to load url ../src/calc (resolved id: ../src/calc) in /home/u/calc/test/calc.test.ts. Does the file exist?
 ❯ loadAndTransform node_modules/vite/dist/node/chunks/dep-BcXSligG.js:51969:17

⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[1/1]⎯

 Test Files  1 failed (1)
      Tests  no tests
   Start at  10:14:22
   Duration  301ms
`;

const PYTEST_FAIL = `============================= test session starts ==============================
platform linux -- Python 3.11.7, pytest-9.0.3, pluggy-1.6.0
rootdir: /tmp/calc
collected 3 items

test_calc.py .FF                                                         [100%]

=================================== FAILURES ===================================
________________________________ test_add_wrong ________________________________

    def test_add_wrong():
>       assert add(1, 2) == 4
E       assert 3 == 4
E        +  where 3 = add(1, 2)

test_calc.py:7: AssertionError
______________________________ TestMore.test_attr ______________________________

self = <test_calc.TestMore object at 0x7fb4c2fec510>

    def test_attr(self):
        import calc
>       calc.mul(2, 3)
E       AttributeError: module 'calc' has no attribute 'mul'

test_calc.py:12: AttributeError
=========================== short test summary info ============================
FAILED test_calc.py::test_add_wrong - assert 3 == 4
FAILED test_calc.py::TestMore::test_attr - AttributeError: module 'calc' has ...
========================= 2 failed, 1 passed in 0.90s ==========================
`;

const NODE_SPEC = `✔ adds (0.98ms)
✖ adds wrong (0.94ms)
  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:

  3 !== 4

      at TestContext.<anonymous> (/tmp/calc/a.test.js:5:33)
      at Test.runInAsyncScope (node:async_hooks:206:9) {
    generatedMessage: true,
    code: 'ERR_ASSERTION'
  }

node:internal/modules/cjs/loader:1210
  throw err;
  ^

Error: Cannot find module './sub'
Require stack:
- /tmp/calc/b.test.js
    at Module._resolveFilename (node:internal/modules/cjs/loader:1207:15) {
  code: 'MODULE_NOT_FOUND'
}

Node.js v20.20.2
✖ /tmp/calc/b.test.js (141.33ms)
  'test failed'

ℹ tests 3
ℹ suites 0
ℹ pass 1
ℹ fail 2
ℹ cancelled 0
ℹ skipped 0
ℹ todo 0
ℹ duration_ms 276.32

✖ failing tests:

test at a.test.js:5:1
✖ adds wrong (0.94ms)
  AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:

  3 !== 4

      at TestContext.<anonymous> (/tmp/calc/a.test.js:5:33)

test at b.test.js:1:1
✖ /tmp/calc/b.test.js (141.33ms)
  'test failed'
`;

describe("Reading test output (samples)", () => {
  const read = (output: string, exitCode: number | null = 1, timedOut = false) => {
    const summary = parseTestOutput(output, exitCode, timedOut);
    return { ...summary, kind: failureKind(summary, output) };
  };

  it("jest: totals, '● Suite › name' failures, and a suite that failed to run", () => {
    const failing = read(JEST_FAIL);
    assert.deepEqual([failing.runner, failing.passed, failing.failed, failing.outcome, failing.kind], ["jest", 1, 1, "fail", "assertion"]);
    assert.deepEqual(failing.failures, [{ name: "calc > adds wrong", message: "expect(received).toBe(expected) // Object.is equality\n\nExpected: 4\nReceived: 3" }]);

    const missing = read(JEST_SUITE("    Cannot find module './calc' from 'src/calc.test.js'\n\n    > 1 | const { add } = require(\"./calc\");\n        |                 ^\n\n      at Resolver._throwModNotFoundError (node_modules/jest-resolve/build/resolver.js:427:11)"));
    assert.deepEqual([missing.passed, missing.failed, missing.outcome, missing.kind], [0, 0, "fail", "missing"]);
    assert.deepEqual(missing.failures, [{ name: "src/calc.test.js", message: "Cannot find module './calc' from 'src/calc.test.js'" }]);

    const syntax = read(JEST_SUITE("    SyntaxError: /home/u/calc/src/calc.test.js: Unexpected token (3:26)\n\n    > 3 | test(\"adds\", () => { if ( });"));
    assert.deepEqual([syntax.outcome, syntax.kind], ["error", "syntax"]);
  });

  it("vitest: totals, ' FAIL  file > suite > name' failures, and a suite that failed to load", () => {
    const failing = read(VITEST_FAIL);
    assert.deepEqual([failing.runner, failing.passed, failing.failed, failing.outcome, failing.kind], ["vitest", 1, 1, "fail", "assertion"]);
    assert.deepEqual(failing.failures.map((f) => f.name), ["calc > adds wrong"]);
    assert.match(failing.failures[0]!.message, /^AssertionError: expected 3 to be 4 \/\/ Object.is equality\n\n- Expected\n\+ Received/);

    const suite = read(VITEST_SUITE);
    assert.deepEqual([suite.runner, suite.passed, suite.failed, suite.outcome, suite.kind], ["vitest", 0, 0, "fail", "missing"]);
    assert.deepEqual(suite.failures.map((f) => f.name), ["test/calc.test.ts"]);
  });

  it("pytest: the totals line, the short summary's test ids, and the 'E' lines of each failure", () => {
    const failing = read(PYTEST_FAIL);
    assert.deepEqual([failing.runner, failing.passed, failing.failed, failing.outcome], ["pytest", 1, 2, "fail"]);
    assert.deepEqual(failing.failures, [
      { name: "test_calc.py::test_add_wrong", message: "assert 3 == 4\n +  where 3 = add(1, 2)" },
      { name: "test_calc.py::TestMore::test_attr", message: "AttributeError: module 'calc' has no attribute 'mul'" },
    ]);
    assert.equal(failing.kind, "missing", "a missing attribute outranks the assertion next to it");
    const nothing = read("============================ no tests ran in 0.58s =============================\n", 5);
    assert.deepEqual([nothing.runner, nothing.passed, nothing.failed, nothing.outcome], ["pytest", 0, 0, "error"]);
  });

  it("node's spec reporter: each failure once, and a file that crashed named with its error", () => {
    const summary = read(NODE_SPEC);
    assert.deepEqual([summary.runner, summary.passed, summary.failed, summary.outcome], ["node-test", 1, 2, "fail"]);
    assert.deepEqual(summary.failures, [
      { name: "adds wrong", message: "AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:\n\n3 !== 4" },
      { name: "/tmp/calc/b.test.js", message: "Error: Cannot find module './sub'\nRequire stack:\n- /tmp/calc/b.test.js" },
    ]);
  });

  it("falls back to the exit code for output it does not know, and a timeout is never a red", () => {
    assert.deepEqual(parseTestOutput("all good\n", 0, false), { runner: "unknown", passed: null, failed: null, failures: [], outcome: "pass" });
    assert.deepEqual(parseTestOutput("something broke\n", 2, false), { runner: "unknown", passed: null, failed: null, failures: [], outcome: "fail" });
    assert.equal(parseTestOutput(JEST_FAIL, null, true).outcome, "error");
    assert.equal(parseTestOutput("", null, false).outcome, "error", "killed by a signal");
    assert.equal(parseTestOutput("'foo' is not recognized as an internal or external command,\n", 1, false).outcome, "error");
  });

  it("ignores colours", () => {
    const coloured = JEST_FAIL.replace("Tests:", "\x1b[1mTests:\x1b[22m").replace(/1 failed/g, "\x1b[31m1 failed\x1b[39m").replace(/\n/g, "\r\n");
    assert.deepEqual([read(coloured).passed, read(coloured).failed, read(coloured).failures[0]?.name], [1, 1, "calc > adds wrong"]);
  });

  it("sorts the reasons of a red: syntax, missing code, assertion, other", () => {
    const kind = (output: string) => read(output).kind;
    assert.equal(kind("Uncaught SyntaxError: x\n"), "other", "only a SyntaxError that starts its line");
    assert.equal(kind("SyntaxError: Unexpected token 'x', \"x\" is not valid JSON\n"), "other", "JSON.parse at run time is not a syntax error in a test");
    assert.equal(kind("  File \"test_calc.py\", line 3\nIndentationError: unexpected indent\n"), "syntax");
    assert.equal(kind("test/calc.test.ts(3,9): error TS1005: ',' expected.\n"), "syntax");
    assert.equal(kind("ReferenceError: add is not defined\n"), "missing");
    assert.equal(kind("NameError: name 'add' is not defined\n"), "missing");
    assert.equal(kind("ImportError: cannot import name 'mul' from 'calc'\n"), "missing");
    assert.equal(kind("test/calc.test.ts(1,10): error TS2305: Module '\"../src/calc\"' has no exported member 'mul'.\n"), "missing");
    assert.equal(kind("AssertionError: expected 3 to equal 4\n"), "assertion");
    assert.equal(kind("Error: connection refused\n"), "other");
    assert.equal(read("ok\n", 0).kind, "other", "a green has no failure to sort");
  });
});
