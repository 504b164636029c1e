import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { worktreeFiles } from "../../src/adapters/exec/worktreeFiles";
import { processTestRunner } from "../../src/adapters/exec/processTestRunner";
import { simpleGitPort } from "../../src/adapters/git/simpleGit";
import { openEmbeddedStore, type EmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { GitOps } from "../../src/core/gitops/gitOps";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { ModelManager } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import type { Project, Ticket } from "../../src/core/store/records";
import { changesTestSettings, checkEdits, DEFAULT_TEST_PATHS, filesTestsRun, globToRegExp, refuseEdits } from "../../src/core/tdd/edits";
import { totalCoverage } from "../../src/core/tdd/coverage";
import { DEFAULT_TDD_LIMITS, runTicket, type TddDeps } from "../../src/core/tdd/engine";
import { FakeClock, ScriptedBackend, type ScriptedReply } from "../fakes/scriptedBackend";
import type { ChatRequest } from "../../src/core/models/types";
import { requestChanges } from "../../src/core/tickets/review";
import { noModels, silent } from "../fixtures/kit";

// The TDD engine on a real repository with a real test command (`node --test`), the pair played
// by scripted replies: what the engine accepts as red and green, what it refuses, and where it stops.

const root = path.join(os.tmpdir(), `redgreen-tdd-${process.pid}`);
let n = 0;

const RED_TEST = { path: "test/sum.test.js", content: "const { test } = require('node:test');\nconst assert = require('node:assert');\nconst { sum } = require('../src/sum.js');\ntest('adds two numbers', () => assert.strictEqual(sum(2, 3), 5));\n" };
const tester = (edits: { path: string; content?: string }[], status = "test") => JSON.stringify({ status, criterion: "adds two numbers", note: "", edits });
const developer = (edits: { path: string; content?: string }[], status = "code") => JSON.stringify({ status, note: "", edits });
const COVERED = tester([], "covered");
const SKIP = JSON.stringify({ status: "skip", note: "", edits: [] });
const GREEN = developer([{ path: "src/sum.js", content: "exports.sum = (a, b) => a + b;\n" }]);

describe("The TDD engine (real git, real node --test, scripted pair)", function () {
  this.timeout(60_000);
  let store: EmbeddedStore;
  let memory: MemoryManager;
  let dir: string;
  let project: Project;
  let ticket: Ticket;
  let git: GitOps;
  const sh = (...args: string[]) => execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", ...args], { cwd: dir, encoding: "utf8" }).trim();

  /** The pair: `code` serves both roles, `big` is their fallback; replies are taken in order. */
  function deps(replies: { code: ScriptedReply[]; big?: ScriptedReply[] }): { deps: TddDeps; backend: ScriptedBackend } {
    const backend = new ScriptedBackend({ code: replies.code, big: replies.big ?? [] });
    const registry = parseRegistry({
      models: [{ id: "code", backend: "local", path: "/m/code.gguf", profile: "small" }, { id: "big", backend: "local", path: "/m/big.gguf", profile: "heavy" }],
      roles: { tester: { model: "code", fallback: "big" }, developer: { model: "code", fallback: "big" } },
    }, "test");
    const models = new ModelManager(registry, { local: backend }, { defaultThreads: () => 2, clock: new FakeClock(), attemptsPerModel: 1 });
    return {
      backend,
      deps: { memory, models, git, runner: processTestRunner(), files: worktreeFiles, testPaths: DEFAULT_TEST_PATHS, limits: { ...DEFAULT_TDD_LIMITS, testTimeoutMs: 30_000 }, pair: "pair-1" },
    };
  }

  beforeEach(async () => {
    dir = path.join(root, `p${++n}`);
    await fs.mkdir(path.join(dir, "test"), { recursive: true });
    sh("init", "-q", "-b", "main");
    await fs.writeFile(path.join(dir, "package.json"), JSON.stringify({ name: "calc", scripts: { test: "node --test" } }));
    await fs.writeFile(path.join(dir, "test", "smoke.test.js"), "require('node:test')('runs', () => {});\n");
    sh("add", ".");
    sh("commit", "-q", "-m", "start");
    store = await openEmbeddedStore(path.join(root, `store${n}`), { sweepIntervalMs: 0 });
    memory = await MemoryManager.open({ store, models: noModels });
    git = new GitOps(simpleGitPort, dir, silent);
    project = await memory.projects.create({ _id: `p${n}`, name: "Calc", root: dir, priority: "high", state: "executing", testCommand: "node --test", specPath: "SPEC.md" }, "human");
    await git.createDev();
    await git.ensureFeature("math");
    const branch = await git.createTicketBranch("CALC-1", "math");
    ticket = await memory.tickets.create({
      _id: "CALC-1", projectId: project._id, functionalityId: "math", title: "Sum", description: "", goal: "Add two numbers.", acceptanceCriteria: ["adds two numbers"],
      requirementIds: ["R-1"], column: "todo", severity: "medium", timeEstimate: 1, assignedPair: null, filesChanged: [], testPassRate: null, branch, blockedBy: [],
    }, "architect");
  });
  afterEach(() => store.close());
  after(() => fs.rm(root, { recursive: true, force: true }));

  const worktree = () => path.join(dir, ".redgreen", "worktrees", "calc-1");
  const log = () => execFileSync("git", ["log", "--format=%s%n%b%n--", "feature/math..ticket/calc-1"], { cwd: dir, encoding: "utf8" });
  const agentsSaid = async () => (await memory.transcript.messages(project._id, { channel: "agents" })).map((c) => c.text).join("\n");
  const saidToHuman = async () => (await memory.transcript.messages(project._id, { channel: "human" })).map((c) => c.text).join("\n");

  it("takes a ticket red → green → review, with commits, trailers and ticket fields", async () => {
    const { deps: d } = deps({ code: [tester([RED_TEST]), GREEN, SKIP, COVERED] });
    const outcome = await runTicket(project, ticket, d);
    assert.deepEqual(outcome, { kind: "review", passRate: 1, filesChanged: ["src/sum.js", "test/sum.test.js"] });
    const after = (await memory.tickets.get("CALC-1"))!;
    assert.equal(after.column, "review");
    assert.equal(after.assignedPair, "pair-1");
    assert.equal(after.testPassRate, 1);
    const history = log();
    assert.match(history, /test: adds two numbers \(red\)[\s\S]*Redgreen-Ticket: CALC-1[\s\S]*Redgreen-Functionality: math[\s\S]*Redgreen-Agent: tester/);
    assert.match(history, /feat: Sum \(green\)[\s\S]*Redgreen-Agent: developer/);
    assert.ok(history.indexOf("(green)") < history.indexOf("(red)"), "red was committed before green (log is newest first)");
    assert.equal(execFileSync("git", ["status", "--porcelain"], { cwd: dir, encoding: "utf8" }), "", "the user's working tree is untouched");
    assert.ok(!existsSync(path.join(dir, "src", "sum.js")), "nothing was written in the user's working tree");
  });

  it("refuses a Developer who edits a test file, logs it, and keeps the test as it was", async () => {
    const cheat = developer([{ path: "test/sum.test.js", content: "require('node:test')('adds two numbers', () => {});\n" }]);
    const { deps: d } = deps({ code: [tester([RED_TEST]), cheat, GREEN, SKIP, COVERED] });
    assert.equal((await runTicket(project, ticket, d)).kind, "review");
    const events = await memory.transcript.agentLogs(project._id, {});
    assert.ok(events.some((e) => e.level === "warn" && /edit refused: the Developer may not change the test file test\/sum.test.js/.test(e.message)));
    assert.match(await fs.readFile(path.join(worktree(), "test", "sum.test.js"), "utf8"), /sum\(2, 3\), 5/, "the worktree keeps the Tester's test");
    assert.match(execFileSync("git", ["show", "ticket/calc-1:test/sum.test.js"], { cwd: dir, encoding: "utf8" }), /sum\(2, 3\), 5/);
  });

  it("refuses a test that passes at once (no red), and a test with a syntax error (wrong reason)", async () => {
    const passing = tester([{ path: "test/sum.test.js", content: "require('node:test')('adds two numbers', () => {});\n" }]);
    const broken = tester([{ path: "test/sum.test.js", content: "require('node:test')('adds two numbers', () => {\n" }]);
    const { deps: d } = deps({ code: [passing, broken, tester([RED_TEST]), GREEN, SKIP, COVERED] });
    assert.equal((await runTicket(project, ticket, d)).kind, "review");
    const agents = (await memory.transcript.messages(project._id, { channel: "agents" })).map((c) => c.text).join("\n");
    assert.match(agents, /Attempt 1 of the red step failed: the new test passes at once: that is not red/);
    assert.match(agents, /Attempt 2 of the red step failed: the new test does not fail for the right reason \(a syntax error\)/);
    assert.equal((log().match(/\(red\)/g) ?? []).length, 1, "only the real red was committed");
  });

  it("moves a failure seen twice to the fallback model, blocks on the third, and asks the human with the output", async () => {
    const wrong = developer([{ path: "src/sum.js", content: "exports.sum = (a, b) => a - b;\n" }]);
    const { deps: d, backend } = deps({ code: [tester([RED_TEST]), wrong, wrong], big: [wrong] });
    const outcome = await runTicket(project, ticket, d);
    assert.equal(outcome.kind, "blocked");
    assert.deepEqual(backend.calls.map((c) => c.model), ["code", "code", "code", "big"], "tester, developer twice, then the fallback");
    const said = await saidToHuman();
    assert.match(said, /CALC-1 \(Sum\) is blocked: the Developer's step failed 3 times/);
    assert.match(said, /```[\s\S]*(AssertionError|Expected)[\s\S]*```/, "the failing output reaches the chat");
    const agents = (await memory.transcript.messages(project._id, { channel: "agents" })).map((c) => `${c.from}: ${c.text}`).join("\n");
    assert.match(agents, /: Stopped on CALC-1: it is blocked: the Developer's step failed 3 times/, "the agents' channel says why the pair stopped");
    assert.equal((await memory.tickets.get("CALC-1"))!.column, "inprogress");
    assert.match((await memory.tickets.get("CALC-1"))!.history.at(-1)!.note!, /^blocked: /);
    assert.doesNotMatch(log(), /\(green\)/);
  });

  it("refuses a green whose code, while the suite runs, rewrites a test and writes a file beside the edits", async () => {
    // Correct code that also rewrites the smoke test and drops a file when it is loaded: before, git
    // add -A took both into the green commit, past the rule that the Developer never touches tests.
    const cheat = developer([{ path: "src/sum.js", content: "const fs = require('fs');\nfs.writeFileSync(__dirname + '/../test/smoke.test.js', '// gone\\n');\nfs.writeFileSync(__dirname + '/../notes.txt', 'x');\nexports.sum = (a, b) => a + b;\n" }]);
    const { deps: d } = deps({ code: [tester([RED_TEST]), cheat, GREEN, SKIP, COVERED] });
    assert.equal((await runTicket(project, ticket, d)).kind, "review");
    assert.match(await agentsSaid(), /Attempt 1 of the green step failed: the test run changed files besides the edits \((notes\.txt, test\/smoke\.test\.js|test\/smoke\.test\.js, notes\.txt)\)/);
    assert.match(execFileSync("git", ["show", "ticket/calc-1:test/smoke.test.js"], { cwd: dir, encoding: "utf8" }), /runs/, "the smoke test is committed as it was");
    assert.equal(execFileSync("git", ["ls-tree", "--name-only", "ticket/calc-1", "notes.txt"], { cwd: dir, encoding: "utf8" }), "");
    assert.ok(!existsSync(path.join(worktree(), "notes.txt")), "the refused attempt left nothing in the worktree");
  });

  it("counts an ignored .gitignore that a run plants as a write of its own: it would steer later commits", async () => {
    const planter = developer([{ path: "src/sum.js", content: "require('fs').writeFileSync(__dirname + '/.gitignore', '*\\n');\nexports.sum = (a, b) => a + b;\n" }]);
    const { deps: d } = deps({ code: [tester([RED_TEST]), planter, GREEN, SKIP, COVERED] });
    assert.equal((await runTicket(project, ticket, d)).kind, "review");
    assert.match(await agentsSaid(), /Attempt 1 of the green step failed: the test run changed files besides the edits \(src\/\.gitignore\)/);
    assert.ok(!existsSync(path.join(worktree(), "src", ".gitignore")), "the reset removed it");
    assert.equal(execFileSync("git", ["show", "ticket/calc-1:src/sum.js"], { cwd: dir, encoding: "utf8" }), "exports.sum = (a, b) => a + b;\n");
  });

  it("runs the repository's pre-commit hook in the sandbox before each agent commit, and no hook through git", async () => {
    const hooks = path.join(dir, ".git", "hooks");
    const escaped = path.join(root, `escaped-${n}`);
    const postCommit = path.join(root, `post-commit-${n}`);
    // The hook uses git (which needs the repository's git folder, hidden under /tmp otherwise) and
    // tries to write outside the worktree; git itself must run no hook for an agent's commit.
    await fs.writeFile(path.join(hooks, "pre-commit"), `#!/bin/sh\necho hooked > ${escaped}\nif git diff --cached | grep -q TODO; then echo "no TODO in commits" >&2; exit 1; fi\n`, { mode: 0o755 });
    await fs.writeFile(path.join(hooks, "post-commit"), `#!/bin/sh\ntouch ${postCommit}\n`, { mode: 0o755 });
    const todo = developer([{ path: "src/sum.js", content: "// TODO tidy\nexports.sum = (a, b) => a + b;\n" }]);
    const { deps: d } = deps({ code: [tester([RED_TEST]), todo, GREEN, SKIP, COVERED] });
    assert.equal((await runTicket(project, ticket, d)).kind, "review");
    assert.match(await agentsSaid(), /Attempt 1 of the green step failed: the repository's pre-commit hook refused the commit \(exit code 1\): no TODO in commits/);
    assert.doesNotMatch(execFileSync("git", ["show", "ticket/calc-1:src/sum.js"], { cwd: dir, encoding: "utf8" }), /TODO/);
    assert.ok(!existsSync(escaped), "the hook ran in the sandbox: its write outside the worktree stayed there");
    assert.ok(!existsSync(postCommit), "git ran no hook of its own for the agents' commits");
  });

  it("after Request Changes, returns a ticket to review only after a new red and green, never on a bare \"covered\"", async () => {
    const { deps: d, backend } = deps({ code: [tester([RED_TEST]), GREEN, SKIP, COVERED] });
    assert.equal((await runTicket(project, ticket, d)).kind, "review");
    await requestChanges("CALC-1", "Also add negative numbers.", { memory });
    backend.script("code", [COVERED, COVERED, COVERED]);
    const lazy = await runTicket(project, (await memory.tickets.get("CALC-1"))!, d);
    assert.equal(lazy.kind, "blocked", "three bare \"covered\" in a row: the human decides");
    assert.match(await agentsSaid(), /Attempt 1 of the red step failed: changes were requested in review/);
    assert.equal((await memory.tickets.get("CALC-1"))!.column, "inprogress");
    const negative = { path: "test/negative.test.js", content: "const { test } = require('node:test');\nconst assert = require('node:assert');\nconst { sum } = require('../src/sum.js');\ntest('adds negatives', () => assert.strictEqual(sum(-2, -3), -5));\nconst { negate } = require('../src/sum.js');\ntest('negates', () => assert.strictEqual(negate(2), -2));\n" };
    const withNegate = developer([{ path: "src/sum.js", content: "exports.sum = (a, b) => a + b;\nexports.negate = (a) => -a;\n" }]);
    backend.script("code", [tester([negative]), withNegate, SKIP, COVERED]);
    const answered = await runTicket(project, (await memory.tickets.get("CALC-1"))!, d);
    assert.equal(answered.kind, "review");
    assert.equal((log().match(/\(red\)/g) ?? []).length, 2, "a new red answers the comment");
  });

  it("commits a checkpoint of work in progress when a step runs long, and still marks red and green", async () => {
    project = await memory.projects.create({ ...project, _id: `${project._id}-slow`, name: "Slow Calc", testCommand: "node --test && node -e \"setTimeout(() => {}, 700)\"" }, "human");
    ticket = await memory.tickets.create({ ...ticket, _id: "SLOW-1", projectId: project._id, branch: await git.createTicketBranch("SLOW-1", "math") }, "architect");
    const { deps: d } = deps({ code: [tester([RED_TEST]), GREEN, SKIP, COVERED] });
    const outcome = await runTicket(project, ticket, { ...d, limits: { ...d.limits, checkpointMs: 200 } });
    assert.equal(outcome.kind, "review");
    const subjects = execFileSync("git", ["log", "--format=%s", "feature/math..ticket/slow-1"], { cwd: dir, encoding: "utf8" }).split("\n").filter(Boolean).reverse();
    assert.ok(subjects.some((s) => s === "checkpoint: SLOW-1 work in progress"), subjects.join(" | "));
    assert.ok(subjects.indexOf("test: adds two numbers (red)") < subjects.indexOf("feat: Sum (green)"), subjects.join(" | "));
    assert.match(execFileSync("git", ["show", "ticket/slow-1:src/sum.js"], { cwd: dir, encoding: "utf8" }), /a \+ b/);
  });

  it("finishes only when the coverage command's total reaches the target, and blocks (asking the human) when it does not", async () => {
    const covered = { command: "node --test --experimental-test-coverage", target: 90 };
    const greenWithExtra = developer([{ path: "src/sum.js", content: "exports.sum = (a, b) => a + b;\nexports.negate = (a) => {\n  const minus = -a;\n  return minus;\n};\n" }]);
    const { deps: low } = deps({ code: [tester([RED_TEST]), greenWithExtra, SKIP, COVERED, COVERED], big: [COVERED] });
    const outcome = await runTicket(project, ticket, { ...low, limits: { ...low.limits, checkpointMs: 0, coverage: covered } });
    assert.equal(outcome.kind, "blocked");
    assert.match(await saidToHuman(), /coverage [\d.]+% is below the 90% target/);
    assert.equal((await memory.tickets.get("CALC-1"))!.column, "inprogress");
  });

  it("goes to review when the coverage target is met", async () => {
    const { deps: d } = deps({ code: [tester([RED_TEST]), GREEN, SKIP, COVERED] });
    const outcome = await runTicket(project, ticket, { ...d, limits: { ...d.limits, checkpointMs: 0, coverage: { command: "node --test --experimental-test-coverage", target: 100 } } });
    assert.equal(outcome.kind, "review");
    assert.match((await memory.transcript.messages(project._id, { channel: "agents" })).map((c) => c.text).join("\n"), /Coverage: 100% \(target 100%\)/);
  });

  it("reads the total coverage of node, istanbul, coverage.py and go", () => {
    assert.equal(totalCoverage("# all files      | 100.00 |   100.00 |   66.67 |"), 100);
    assert.equal(totalCoverage("All files |   85.71 |       50 |     100 |   85.71 |"), 85.71);
    assert.equal(totalCoverage("Name    Stmts   Miss  Cover\nTOTAL      20      4    80%\n"), 80);
    assert.equal(totalCoverage("ok  \texample.com/calc\t0.002s\tcoverage: 72.5% of statements"), 72.5);
    assert.equal(totalCoverage("no coverage here"), undefined);
  });

  it("refuses a Developer who narrows the test script in package.json", async () => {
    await fs.writeFile(path.join(dir, "package.json"), JSON.stringify({ name: "calc", scripts: { test: "node --test" } }));
    project = await memory.projects.create({ ...project, _id: `${project._id}-npm`, name: "Npm Calc", testCommand: "npm test --silent" }, "human");
    ticket = await memory.tickets.create({ ...ticket, _id: "NPM-1", projectId: project._id, branch: await git.createTicketBranch("NPM-1", "math") }, "architect");
    const narrow = developer([{ path: "package.json", content: JSON.stringify({ name: "calc", scripts: { test: "node --test test/smoke.test.js" } }) }]);
    const { deps: d } = deps({ code: [tester([RED_TEST]), narrow, GREEN, SKIP, COVERED] });
    assert.equal((await runTicket(project, ticket, d)).kind, "review");
    const agents = (await memory.transcript.messages(project._id, { channel: "agents" })).map((c) => c.text).join("\n");
    assert.match(agents, /Attempt 1 of the green step failed: edit refused: the Developer may not change how tests run \(the scripts, module resolution or runner settings in package.json\)/);
  });

  it("finishes only when the committed branch passes on its own, not with an ignored file the worktree holds", async () => {
    const wt = await git.openTicket("CALC-1", "math");
    await fs.writeFile(path.join(wt, ".gitignore"), "local/\n");
    execFileSync("git", ["add", ".gitignore"], { cwd: wt });
    execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", "commit", "-qm", "ignore local/"], { cwd: wt });
    await fs.mkdir(path.join(wt, "local"));
    await fs.writeFile(path.join(wt, "local", "two.js"), "module.exports = 2;\n"); // left by an earlier run, never committed
    const needsLocal = tester([{ path: "test/sum.test.js", content: RED_TEST.content.replace("sum(2, 3), 5", "sum(require('../local/two.js'), 3), 5") }]);
    const { deps: d } = deps({ code: [needsLocal, GREEN, SKIP, COVERED] });
    const outcome = await runTicket(project, ticket, d);
    assert.equal(outcome.kind, "blocked", `${JSON.stringify(outcome)}\n${await agentsSaid()}`);
    assert.match((outcome as { reason: string }).reason, /the suite fails on the committed branch/);
    assert.equal((await memory.tickets.get("CALC-1"))!.column, "inprogress", "not in review");
  });

  it("refuses a Developer who changes a script the test command runs", async () => {
    project = await memory.projects.create({ ...project, _id: `${project._id}-sh`, name: "Sh Calc", testCommand: "sh run-tests.sh" }, "human");
    ticket = await memory.tickets.create({ ...ticket, _id: "SH-1", projectId: project._id, branch: await git.createTicketBranch("SH-1", "math") }, "architect");
    const wt = await git.openTicket("SH-1", "math");
    await fs.writeFile(path.join(wt, "run-tests.sh"), "node --test\n");
    execFileSync("git", ["add", "run-tests.sh"], { cwd: wt });
    execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", "commit", "-qm", "a test script"], { cwd: wt });
    const narrow = developer([{ path: "./run-tests.sh", content: "node --test test/smoke.test.js\n" }]);
    const { deps: d } = deps({ code: [tester([RED_TEST]), narrow, GREEN, SKIP, COVERED] });
    assert.equal((await runTicket(project, ticket, d)).kind, "review");
    assert.match(await agentsSaid(), /Attempt 1 of the green step failed: edit refused: the Developer may not change how tests run \(run-tests\.sh\)/);
  });

  it("does not take a suite that lost tests for green (production code that turns a test off)", async () => {
    const wt = await git.openTicket("CALC-1", "math");
    await fs.mkdir(path.join(wt, "src"), { recursive: true });
    await fs.writeFile(path.join(wt, "src", "config.js"), "exports.quiet = false;\n");
    await fs.writeFile(path.join(wt, "test", "old.test.js"), "const { test } = require('node:test');\ntest('an old test', () => {});\nif (!require('../src/config.js').quiet) test('a test config can turn off', () => {});\n");
    execFileSync("git", ["add", "."], { cwd: wt });
    execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", "commit", "-qm", "an old test"], { cwd: wt });
    const quieter = developer([{ path: "src/config.js", content: "exports.quiet = true;\n" }, { path: "src/sum.js", content: "exports.sum = (a, b) => a + b;\n" }]);
    const { deps: d } = deps({ code: [tester([RED_TEST]), quieter, GREEN, SKIP, COVERED] });
    const outcome = await runTicket(project, ticket, d);
    assert.equal(outcome.kind, "review", `${JSON.stringify(outcome)}\n${await agentsSaid()}`);
    assert.match(await agentsSaid(), /Attempt 1 of the green step failed: the suite reports 3 passing tests where 4 ran before: tests may not disappear/);
  });

  it("refuses edits through an aliased package.json, into a git-ignored folder, and through a dangling link", async () => {
    // node --test without arguments stops at a dangling link; named files it runs.
    project = await memory.projects.create({ ...project, _id: `${project._id}-link`, name: "Link Calc", testCommand: "node --test test/*.test.js" }, "human");
    ticket = await memory.tickets.create({ ...ticket, _id: "LINK-1", projectId: project._id, branch: await git.createTicketBranch("LINK-1", "math") }, "architect");
    const wt = await git.openTicket("LINK-1", "math");
    const outside = path.join(root, `outside-${n}`);
    await fs.writeFile(path.join(wt, ".gitignore"), "vendor/\n");
    await fs.mkdir(path.join(wt, "src"), { recursive: true });
    await fs.symlink(outside, path.join(wt, "src", "helper.js"));
    execFileSync("git", ["add", "."], { cwd: wt });
    execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", "commit", "-qm", "ignore vendor, a link"], { cwd: wt });
    const aliased = developer([{ path: "package.json/.", content: JSON.stringify({ name: "calc", scripts: { test: "node --test test/smoke.test.js" } }) }]);
    const ignored = developer([{ path: "vendor/sum/index.js", content: "exports.sum = (a, b) => a + b;\n" }]);
    const linked = developer([{ path: "src/helper.js", content: "exports.sum = (a, b) => a + b;\n" }]);
    const { deps: d } = deps({ code: [tester([RED_TEST]), aliased, ignored, linked, GREEN, SKIP, COVERED] });
    const outcome = await runTicket(project, ticket, { ...d, limits: { ...d.limits, attemptsPerStep: 4 } });
    assert.equal(outcome.kind, "review", `${JSON.stringify(outcome)}\n${await agentsSaid()}`);
    const said = await agentsSaid();
    assert.match(said, /Attempt 1 of the green step failed: edit refused: the Developer may not change how tests run \(the scripts, module resolution or runner settings in package\.json\)/);
    assert.match(said, /Attempt 2 of the green step failed: edit refused: vendor\/sum\/index\.js is ignored by git/);
    assert.match(said, /Attempt 3 of the green step failed: edit could not be applied: .*src\/helper\.js goes through a symbolic link \(src\/helper\.js\)/);
    assert.ok(!existsSync(outside), "nothing was written where the link points");
  });

  it("when the suite is red already, takes only a new failing test as red", async () => {
    const wt = await git.openTicket("CALC-1", "math");
    await fs.writeFile(path.join(wt, "test", "old.test.js"), "require('node:test')('an old failure', () => require('node:assert').strictEqual(1, 2));\n");
    execFileSync("git", ["add", "."], { cwd: wt });
    execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", "commit", "-qm", "an old red test"], { cwd: wt });
    const passing = tester([{ path: "test/sum.test.js", content: "require('node:test')('adds two numbers', () => {});\n" }]);
    const { deps: d } = deps({ code: [passing, tester([RED_TEST])], big: [] });
    await runTicket(project, ticket, { ...d, limits: { ...d.limits, cyclesPerTicket: 1, attemptsPerStep: 2 } });
    const agents = (await memory.transcript.messages(project._id, { channel: "agents" })).map((c) => c.text).join("\n");
    assert.match(agents, /Attempt 1 of the red step failed: no new test fails: the suite was red already/);
    assert.match(agents, /Red: adds two numbers/);
  });
});


describe("What the pair is shown (prompt contract, scripts that read their prompts)", function () {
  this.timeout(60_000);
  const text = (request: ChatRequest) => request.messages.map((m) => m.content).join("\n");
  const system = (request: ChatRequest) => request.messages.filter((m) => m.role === "system").map((m) => m.content).join("\n");
  /** The Tester writes the test for the first criterion it is shown, named as the criterion says; no criterion shown, no test. */
  const readingTester = (request: ChatRequest) => {
    const criterion = /Acceptance criteria:\n- (.+)/.exec(system(request))?.[1];
    if (!criterion) return JSON.stringify({ status: "blocked", criterion: "", note: "I was not shown the ticket's acceptance criteria", edits: [] });
    const [, a, b, want] = /(\d+) and (\d+) give (\d+)/.exec(criterion) ?? [];
    const content = `const { test } = require('node:test');\nconst assert = require('node:assert');\nconst { sum } = require('../src/sum.js');\ntest(${JSON.stringify(criterion)}, () => assert.strictEqual(sum(${a}, ${b}), ${want}));\n`;
    return JSON.stringify({ status: "test", criterion, note: "", edits: [{ path: "test/sum.test.js", content }] });
  };
  /** The Developer writes code only when the last run it is shown names the failing test. */
  const readingDeveloper = (request: ChatRequest) => {
    const shown = text(request);
    if (!/sum/.test(shown.slice(shown.indexOf("Last test run:")))) return JSON.stringify({ status: "blocked", note: "I was not shown the failing run", edits: [] });
    return JSON.stringify({ status: "code", note: "", edits: [{ path: "src/sum.js", content: "exports.sum = (a, b) => a + b;\n" }] });
  };

  it("gives the Tester and the Developer the ticket's goal and criteria, the last run, and a reviewer's comment", async () => {
    const dir = path.join(root, `contract${++n}`);
    await fs.mkdir(path.join(dir, "test"), { recursive: true });
    const sh = (...args: string[]) => execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", ...args], { cwd: dir, encoding: "utf8" });
    sh("init", "-q", "-b", "main");
    await fs.writeFile(path.join(dir, "test", "smoke.test.js"), "require('node:test')('runs', () => {});\n");
    sh("add", ".");
    sh("commit", "-q", "-m", "start");
    const store = await openEmbeddedStore(path.join(root, `store-contract${n}`), { sweepIntervalMs: 0 });
    try {
      const memory = await MemoryManager.open({ store, models: noModels });
      const git = new GitOps(simpleGitPort, dir, silent);
      const project = await memory.projects.create({ _id: `c${n}`, name: "Contract", root: dir, priority: "high", state: "executing", testCommand: "node --test", specPath: "SPEC.md" }, "human");
      await git.createDev();
      await git.ensureFeature("math");
      const ticket = await memory.tickets.create({
        _id: "CON-1", projectId: project._id, functionalityId: "math", title: "Sum", description: "", goal: "Sum two integers for the till.", acceptanceCriteria: ["2 and 40 give 42"],
        requirementIds: ["R-1"], column: "todo", severity: "medium", timeEstimate: 1, assignedPair: null, filesChanged: [], testPassRate: null, branch: await git.createTicketBranch("CON-1", "math"), blockedBy: [],
      }, "architect");
      const backend = new ScriptedBackend({ code: [readingTester, readingDeveloper, SKIP, COVERED, COVERED], big: [] });
      const registry = parseRegistry({ models: [{ id: "code", backend: "local", path: "/m/code.gguf", profile: "small" }], roles: { tester: { model: "code" }, developer: { model: "code" } } }, "test");
      const models = new ModelManager(registry, { local: backend }, { defaultThreads: () => 2, clock: new FakeClock(), attemptsPerModel: 1 });
      const d: TddDeps = { memory, models, git, runner: processTestRunner(), files: worktreeFiles, testPaths: DEFAULT_TEST_PATHS, limits: { ...DEFAULT_TDD_LIMITS, testTimeoutMs: 30_000 }, pair: "pair-1" };
      assert.equal((await runTicket(project, ticket, d)).kind, "review", "the scripts found what they need in their prompts");
      assert.match(execFileSync("git", ["show", "ticket/con-1:test/sum.test.js"], { cwd: dir, encoding: "utf8" }), /sum\(2, 40\), 42/, "the test was derived from the criterion shown");
      for (const call of backend.calls) {
        assert.match(system(call.request), /Goal: Sum two integers for the till\./);
        assert.match(system(call.request), /- 2 and 40 give 42/);
        assert.equal(call.request.messages.filter((m) => m.role === "system").length, 1, "one system message");
      }
      assert.match(text(backend.calls[1]!.request), /Last test run:[\s\S]*Cannot find module '\.\.\/src\/sum\.js'/, "the Developer sees the red run");
      await requestChanges("CON-1", "Also log each sum to the audit trail.", { memory });
      backend.calls.length = 0;
      const comment = (request: ChatRequest) => (/audit trail/.test(text(request)) ? COVERED : JSON.stringify({ status: "blocked", criterion: "", note: "no comment shown", edits: [] }));
      backend.script("code", [comment, COVERED]);
      await runTicket(project, (await memory.tickets.get("CON-1"))!, d);
      assert.match(text(backend.calls[0]!.request), /changes requested on CON-1 \(Sum\): Also log each sum to the audit trail\./, "the reviewer's comment reaches the pair");
    } finally {
      await store.close();
    }
  });
});

describe("Edit rules", () => {
  it("keeps each role on its side of the test paths, inside the worktree, whatever the case", () => {
    assert.deepEqual(refuseEdits([{ path: "src/a.js", content: "" }, { path: "test/a.test.js", content: "" }], "developer", DEFAULT_TEST_PATHS), ["the Developer may not change the test file test/a.test.js"]);
    assert.match(refuseEdits([{ path: "src/a.js", content: "" }], "tester", DEFAULT_TEST_PATHS)[0]!, /the Tester writes only test files; src\/a.js is not one/);
    for (const path of ["../x.js", "/etc/passwd", "C:/x.js", "a/../../x.js", ".git/config", ".GIT/config", "src/.Git/x"]) {
      assert.equal(refuseEdits([{ path, content: "" }], "developer", DEFAULT_TEST_PATHS).length, 1, path);
    }
    assert.deepEqual(refuseEdits([{ path: "jest.config.js", content: "" }, { path: "tests/conftest.py", content: "" }], "developer", ["test/**"]), ["the Developer may not change how tests run (jest.config.js)", "the Developer may not change how tests run (tests/conftest.py)"]);
    assert.ok(changesTestSettings('{"scripts":{"test":"node --test"}}', '{"scripts":{"test":"node --test x"}}'));
    assert.ok(changesTestSettings('{"scripts":{"test":"node --test"}}', '{"scripts":{"test":"node --test","build":"tsc"}}'), "a new script may be what the test script calls");
    assert.ok(globToRegExp("test/**", true).test("Test/helper.js"), "case-insensitive file systems");
    assert.ok(!globToRegExp("test/**", false).test("Test/helper.js"));
    assert.ok(globToRegExp("**/*_test.go", false).test("pkg/sum_test.go") && globToRegExp("**/*_test.go", false).test("sum_test.go"));
  });

  it("judges the normalized path, refuses Windows aliases, git's own files, files that act later and what the tests run", () => {
    assert.deepEqual(checkEdits([{ path: "./src/../package.json", content: "" }], "developer", { testPaths: DEFAULT_TEST_PATHS }).edits.map((e) => e.path), ["package.json"]);
    for (const alias of ["package.json.", "package.json ", "PACKAG~1.JSO", "GIT~1/config", "src/a.js:hidden", "CON", "src/nul.txt", "src/aux.js", "src/"]) {
      assert.equal(refuseEdits([{ path: alias, content: "" }], "developer", DEFAULT_TEST_PATHS).length, 1, alias);
    }
    for (const role of ["developer", "tester"] as const) {
      for (const file of [".gitattributes", "sub/.gitattributes", ".gitmodules", ".husky/pre-commit", ".githooks/pre-push", ".vscode/settings.json", ".redgreen/models.json", "test/.gitattributes"]) {
        assert.equal(refuseEdits([{ path: file, content: "" }], role, DEFAULT_TEST_PATHS).length, 1, `${role}: ${file}`);
      }
    }
    for (const config of ["vite.config.ts", "tsconfig.json", "packages/a/tsconfig.build.json", ".npmrc", "pyproject.toml", "babel.config.js", "setup.cfg", ".babelrc"]) {
      assert.match(refuseEdits([{ path: config, content: "" }], "developer", DEFAULT_TEST_PATHS)[0] ?? "", /may not change how tests run/, config);
    }
    assert.match(checkEdits([{ path: "tools/hooks/pre-commit", content: "" }], "developer", { testPaths: DEFAULT_TEST_PATHS, protectedFiles: ["tools/hooks"] }).refused[0] ?? "", /how tests run/);
    const tree = ["run-tests.sh", "scripts/test.js", "bin/check", "src/a.js"];
    assert.deepEqual(filesTestsRun("sh ./run-tests.sh", JSON.stringify({ scripts: { test: "node scripts/test.js && bin/check", build: "tsc" } }), tree).sort(), ["bin/check", "run-tests.sh", "scripts/test.js"]);
    assert.ok(changesTestSettings('{"scripts":{"build":"tsc"}}', '{"scripts":{"build":"tsc && cp stub.js dist/"}}'), "every script, not only test");
    assert.ok(changesTestSettings('{"type":"commonjs"}', '{"type":"module"}'));
    assert.ok(changesTestSettings('{}', '{"imports":{"#sum":"./stub.js"}}'));
    assert.ok(!changesTestSettings('{"scripts":{"test":"node --test"}}', '{"scripts":{"test":"node --test"},"dependencies":{"a":"1"}}'));
  });
});

