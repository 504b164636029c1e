import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { engineStatusOutput, initOutput, runOutput } from "../../src/cli/schemas";
import type { ChatRequest } from "../../src/core/models/types";
import { readingDeveloper, readingTester } from "../fakes/readingPair";
import { startScriptedOpenAi, type ScriptedRequest } from "../fixtures/scriptedOpenAi";
import { cliIn, gitIn, parsed, snapshotCli, type Run } from "./harness";

// The team from a terminal, as a real process: `init` → `spec approve` → `run` (the Architect plans,
// pairs take the tickets by themselves) → `review approve` → DEV holds the code. The models are a
// scripted OpenAI-compatible server on loopback whose pairs read their prompts.

const plan = (criteria: string[]) => ({
  functionalities: [{ name: "Answers", tickets: criteria.map((criterion, i) => ({ key: `T${i + 1}`, title: `Answer ${i + 1}`, description: "", goal: criterion, acceptanceCriteria: [criterion], requirementIds: ["R-1"], severity: "medium", estimateHours: 1, dependsOn: [] })) }],
});

describe("redgreen run: the team from a terminal", function () {
  this.timeout(120_000);
  const root = path.join(os.tmpdir(), `redgreen-cli-team-${process.pid}`);
  let n = 0;
  let cli: string;
  let home: string;
  let data: string;
  let criteria: string[];
  let server: Awaited<ReturnType<typeof startScriptedOpenAi>>;
  let rg: (...args: string[]) => Run;

  /** The Architect by its reply schema; the pairs read their prompts. */
  const answer = (request: ScriptedRequest): string => {
    const properties = request.schema?.properties ?? {};
    if ("functionalities" in properties) return JSON.stringify(plan(criteria));
    return "criterion" in properties ? readingTester(request as ChatRequest) : readingDeveloper(request as ChatRequest);
  };

  /** The CLI as a running process (the scripted server answers in this one meanwhile). */
  function start(args: string[]): { done: Promise<Run>; stderr: () => string; signal(name: NodeJS.Signals): void } {
    const child = spawn(process.execPath, [cli, "--data", data, ...args], { cwd: home, env: { ...process.env, XDG_DATA_HOME: path.join(home, "xdg"), NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const done = new Promise<Run>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
    return { done, stderr: () => stderr, signal: (name) => child.kill(name) };
  }

  before(async () => {
    cli = await snapshotCli(root);
    server = await startScriptedOpenAi(answer);
  });
  afterEach(() => {
    assert.equal(rg("engine", "stop").code, 0);
  });
  after(async () => {
    await server.close();
    await fs.rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    home = path.join(root, `t${++n}`);
    data = path.join(home, "data");
    await fs.mkdir(data, { recursive: true });
    const model = (id: string) => ({ id, backend: "openai", url: server.url, model: "scripted" });
    await fs.writeFile(path.join(data, "models.json"), `// the user's registry, as JSONC\n${JSON.stringify({ models: ["reasoning", "heavy", "code"].map(model) })}\n`);
    const sync = cliIn(cli, home);
    rg = (...args) => sync(["--data", data, ...args]);
  });

  /** A trusted project with a first test, its spec approved. */
  async function approvedProject(): Promise<string> {
    const folder = path.join(home, "answers");
    assert.equal(rg("trust", folder).code, 0);
    parsed(initOutput, rg("init", folder, "--name", "Answers", "--test-command", "node --test", "--json"));
    await fs.mkdir(path.join(folder, "test"));
    await fs.writeFile(path.join(folder, "test", "smoke.test.js"), "require('node:test')('runs', () => {});\n");
    gitIn(folder, "add", "test");
    gitIn(folder, "commit", "-q", "-m", "a first test");
    const approved = rg("spec", "approve", folder);
    assert.equal(approved.code, 0, approved.stderr);
    return folder;
  }

  it("plans, runs every ticket to review by itself, and after review approve DEV holds the code", async () => {
    criteria = ["`answer()` returns 42", "`seven()` returns 7"];
    const folder = await approvedProject();
    const ran = await start(["run", folder, "--json"]).done;
    assert.equal(ran.code, 0, ran.stderr);
    const result = runOutput.parse(JSON.parse(ran.stdout));
    assert.deepEqual(result.tickets.review, ["ANSWERS-1", "ANSWERS-2"]);
    assert.equal(result.exitCode, 0);
    assert.match(ran.stderr, /ANSWERS-1 tester: Red: answer\(\) returns 42/, "progress goes to stderr");
    // The pairs ran in the data folder's engine (the one scheduler of the machine), not in the command.
    assert.match(await fs.readFile(path.join(data, "engine", "engine.log"), "utf8"), /pair-1 works on ANSWERS-1 of "Answers"/);
    for (const ticket of result.tickets.review) assert.equal(rg("review", "approve", ticket).code, 0);
    assert.equal(gitIn(folder, "show", "DEV:src/answer.js"), "exports.answer = () => 42;");
    assert.equal(gitIn(folder, "show", "DEV:src/seven.js"), "exports.seven = () => 7;");
    assert.equal(gitIn(folder, "status", "--porcelain"), "", "the user's working tree is untouched");
  });

  it("with --in-process, runs the team in the command's own process, with no engine", async () => {
    criteria = ["`answer()` returns 42"];
    const folder = await approvedProject();
    assert.equal(rg("engine", "stop").code, 0);
    const ran = await start(["--in-process", "run", folder, "--json"]).done;
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual(runOutput.parse(JSON.parse(ran.stdout)).tickets.review, ["ANSWERS-1"]);
    assert.equal(parsed(engineStatusOutput, rg("engine", "status", "--json")).running, false, "no engine was started");
  });

  it("exits 2 when a ticket waits for the human, naming it", async () => {
    criteria = ["`unclear()` returns 1 (this needs a human)"];
    const folder = await approvedProject();
    const ran = await start(["run", folder, "--json"]).done;
    assert.equal(ran.code, 2, ran.stderr);
    const result = runOutput.parse(JSON.parse(ran.stdout));
    assert.deepEqual(result.waitingForHuman, [{ ticket: "ANSWERS-1", title: "Answer 1", reason: "needs clarification: Which value do you mean?" }]);
  });

  it("stops at a step boundary on Ctrl-C, losing nothing, and the next run goes on from the last red; one run per project at a time", async () => {
    criteria = ["`answer()` returns 42"];
    const folder = await approvedProject();
    const running = start(["run", folder]);
    const deadline = Date.now() + 60_000;
    while (!/Red: answer\(\) returns 42/.test(running.stderr()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    // Meanwhile the project belongs to this run: a second run, or any change to it, is refused, naming it.
    const second = rg("run", folder);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /^error: "Answers" is being changed by another redgreen command \(pid \d+\): wait for it to finish, or stop a run there with Ctrl-C\n$/);
    assert.match(rg("pause", folder).stderr, /"Answers" is being changed by another redgreen command/, "and so is any other change to it");
    assert.equal(rg("status", folder).code, 0, "reading it is not");
    running.signal("SIGINT");
    const stopped = await running.done;
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /Stopping the pairs at their next step/);
    const reds = () => gitIn(folder, "log", "--format=%s", "ticket/answers-1").split("\n").filter((s) => s.endsWith("(red)"));
    assert.deepEqual(reds(), ["test: answer() returns 42 (red)"], "the verified red is committed");
    const again = await start(["run", folder]).done;
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(reds(), ["test: answer() returns 42 (red)"], "not written twice");
    assert.equal(gitIn(folder, "show", "ticket/answers-1:src/answer.js"), "exports.answer = () => 42;");
  });
});
