import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { processTestRunner } from "../../src/adapters/exec/processTestRunner";
import { worktreeFiles } from "../../src/adapters/exec/worktreeFiles";
import { simpleGitPort } from "../../src/adapters/git/simpleGit";
import { openEmbeddedStore, type EmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import type { Plan } from "../../src/core/agents/architect";
import { GitOps } from "../../src/core/gitops/gitOps";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { ModelManager } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import type { ChatRequest } from "../../src/core/models/types";
import { Orchestrator, type OrchestratorDeps } from "../../src/core/orchestrator/orchestrator";
import { pauseProject, resumeProject } from "../../src/core/orchestrator/projectRules";
import { settingDefault, type SettingKey, type SettingValue } from "../../src/core/settings";
import { specTemplate } from "../../src/core/spec/spec";
import type { Project, Ticket } from "../../src/core/store/records";
import { approveTicket, requestChanges } from "../../src/core/tickets/review";
import { forever, readingDeveloper, readingTester } from "../fakes/readingPair";
import { FakeClock, ScriptedBackend } from "../fakes/scriptedBackend";
import { gitIn, noModels, silent } from "../fixtures/kit";

// The orchestrator on real repositories, real git and real `node --test` runs, with scripted
// models that read their prompts: no call from a test between the stages.

const root = path.join(os.tmpdir(), `redgreen-orchestrator-${process.pid}`);

/** A plan of one functionality whose tickets each ask for "`name()` returns N". */
function planOf(tickets: { name: string; value: number; extra?: string }[]): Plan {
  return {
    functionalities: [{
      name: "Answers",
      tickets: tickets.map((t, i) => ({
        key: `T${i + 1}`, title: `${t.name} answers`, description: "", goal: `\`${t.name}()\` returns ${t.value}`,
        acceptanceCriteria: [`\`${t.name}()\` returns ${t.value}${t.extra ?? ""}`], requirementIds: ["R-1"], severity: "medium" as const, estimateHours: 1, dependsOn: [],
      })),
    }],
  };
}

describe("The orchestrator (real git, real test runs, pairs that read their prompts)", function () {
  this.timeout(120_000);
  let n = 0;
  let store: EmbeddedStore;
  let memory: MemoryManager;
  let backend: ScriptedBackend;
  let models: ModelManager;
  let plans: Map<string, Plan>;
  const notices: string[] = [];
  const overrides: Partial<Record<SettingKey, unknown>> = {};
  const orchestrators: Orchestrator[] = [];

  const settings = { get: <K extends SettingKey>(key: K): SettingValue<K> => (key in overrides ? overrides[key] : settingDefault(key)) as SettingValue<K> };

  /** The Architect plans whichever project its prompt's spec names. */
  const architect = (request: ChatRequest) => {
    const prompt = request.messages.map((m) => m.content).join("\n");
    const name = [...plans.keys()].find((key) => prompt.includes(`# ${key}`));
    if (!name) throw new Error(`the Architect's prompt names no known project:\n${prompt.slice(0, 300)}`);
    return JSON.stringify(plans.get(name));
  };

  function orchestrator(residency?: OrchestratorDeps["residency"]): Orchestrator {
    const made = new Orchestrator({
      ...(residency ? { residency } : {}),
      memory, models: () => models, runner: processTestRunner(), files: worktreeFiles, settings: () => settings, log: silent,
      git: (project) => new GitOps(simpleGitPort, project.root, silent),
      human: { decideDev: () => Promise.resolve("pause"), notify: (_level, text) => void notices.push(text) },
      readSpec: (project) => fs.readFile(path.join(project.root, project.specPath), "utf8"),
      scan: () => Promise.resolve(undefined),
      refusal: () => Promise.resolve(undefined),
    });
    orchestrators.push(made);
    return made;
  }

  /** A repository with a passing suite and an approved spec, planned into `tickets`; the project's state is drafting. */
  async function repository(name: string, tickets: { name: string; value: number; extra?: string }[]): Promise<Project> {
    const dir = path.join(root, `p${++n}`);
    await fs.mkdir(path.join(dir, "test"), { recursive: true });
    gitIn(dir, "init", "-q", "-b", "main");
    await fs.writeFile(path.join(dir, "package.json"), JSON.stringify({ name: name.toLowerCase(), scripts: { test: "node --test" } }));
    await fs.writeFile(path.join(dir, "test", "smoke.test.js"), "require('node:test')('runs', () => {});\n");
    await fs.writeFile(path.join(dir, "SPEC.md"), specTemplate(name));
    gitIn(dir, "add", "-A");
    gitIn(dir, "commit", "-q", "-m", "start");
    plans.set(name, planOf(tickets));
    const project = await memory.projects.create({ _id: `proj${n}`, name, root: dir, priority: "medium", state: "drafting", testCommand: "node --test", specPath: "SPEC.md" }, "human");
    await memory.projects.saveSpecVersion(project._id, specTemplate(name), "human", true);
    return project;
  }

  /** Resolves with the project's ticket once the Resource Director has paused it. */
  const directorPauseOf = (project: Project) =>
    new Promise<Ticket>((resolve) => {
      const watch = memory.tickets.onDidChange((ticket) => {
        if (ticket.projectId !== project._id || !ticket.directorPause) return;
        watch.dispose();
        resolve(ticket);
      });
    });
  /** What the human's approval of the spec does to the record: the rest is the orchestrator's. */
  const approveSpec = (project: Project) => memory.projects.transition(project._id, "approved", "human", "spec v1 approved");
  const tickets = async (project: Project) => (await memory.tickets.of(project._id)).map((t) => [t.title, t.column]);
  const git = (project: Project, ...args: string[]) => gitIn(project.root, ...args);

  beforeEach(async () => {
    store = await openEmbeddedStore(path.join(root, `store${++n}`), { sweepIntervalMs: 0 });
    memory = await MemoryManager.open({ store, models: noModels });
    plans = new Map();
    backend = new ScriptedBackend({ arch: forever(architect), tester: forever(readingTester), dev: forever(readingDeveloper) });
    const registry = parseRegistry({
      models: ["arch", "tester", "dev"].map((id) => ({ id, backend: "local", path: `/m/${id}.gguf`, profile: "small" })),
      roles: { architect: { model: "arch" }, tester: { model: "tester" }, developer: { model: "dev" } },
    }, "test");
    models = new ModelManager(registry, { local: backend }, { defaultThreads: () => 2, clock: new FakeClock(), attemptsPerModel: 1 });
    notices.length = 0;
    for (const key of Object.keys(overrides)) delete overrides[key as SettingKey];
  });
  afterEach(async () => {
    await Promise.all(orchestrators.splice(0).map((o) => o.stop()));
    await store.close();
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it("takes an approved spec to tickets in review and, once approved, into DEV, with no call between the stages", async () => {
    const project = await repository("Answers", [{ name: "answer", value: 42 }, { name: "seven", value: 7 }]);
    const team = orchestrator().start();
    await approveSpec(project);
    await team.idle();
    assert.deepEqual(await tickets(project), [["answer answers", "review"], ["seven answers", "review"]]);
    assert.equal((await memory.projects.get(project._id))!.state, "executing");
    const testerPrompts = backend.calls.filter((c) => c.model === "tester").map((c) => c.request.messages[0]!.content);
    assert.ok(testerPrompts.some((p) => p.includes("`answer()` returns 42")), "the Tester was shown its ticket's criterion");
    for (const ticket of await memory.tickets.of(project._id)) await approveTicket(ticket._id, { memory, git: new GitOps(simpleGitPort, project.root, silent) });
    await team.idle();
    assert.equal(git(project, "show", "DEV:src/answer.js"), "exports.answer = () => 42;");
    assert.equal(git(project, "show", "DEV:src/seven.js"), "exports.seven = () => 7;");
    assert.ok(notices.some((text) => /merged it into DEV/.test(text)), notices.join("\n"));
    assert.equal(git(project, "rev-parse", "main"), git(project, "rev-list", "-n1", "main"), "main is where it was");
  });

  it("picks a ticket sent back by Request Changes up again with the comment, in the same pair, to a new red and green", async () => {
    const project = await repository("Comments", [{ name: "answer", value: 42 }]);
    const team = orchestrator().start();
    await approveSpec(project);
    await team.idle();
    const [ticket] = await memory.tickets.of(project._id);
    assert.equal(ticket!.column, "review");
    const before = git(project, "rev-parse", "ticket/comments-1");
    await requestChanges(ticket!._id, "Please add `extra()` returns 5 as well.", { memory });
    await team.idle();
    const after = (await memory.tickets.get(ticket!._id))!;
    assert.equal(after.column, "review");
    assert.equal(after.assignedPair, "pair-1");
    const subjects = git(project, "log", "--format=%s", `${before}..ticket/comments-1`);
    assert.match(subjects, /test: extra\(\) returns 5 \(red\)/);
    assert.match(subjects, /\(green\)/);
    assert.equal(git(project, "show", "ticket/comments-1:src/extra.js"), "exports.extra = () => 5;");
  });

  it("stops only the ticket that needs the human, visibly, while another project's ticket goes on through the one slot", async () => {
    const asking = await repository("Asking", [{ name: "unclear", value: 1, extra: " (this needs a human)" }]);
    const going = await repository("Going", [{ name: "fine", value: 2 }]);
    const team = orchestrator().start();
    await approveSpec(asking);
    await approveSpec(going);
    await team.idle();
    const waiting = (await memory.tickets.of(asking._id))[0]!;
    assert.equal(waiting.column, "inprogress");
    assert.deepEqual({ kind: waiting.waiting?.kind, text: waiting.waiting?.text }, { kind: "needsClarification", text: "Which value do you mean?" });
    assert.deepEqual(await tickets(going), [["fine answers", "review"]]);
    assert.equal(backend.maxActive, 1, "one slot: never two model calls at once");
    await team.idle();
    assert.equal((await memory.tickets.get(waiting._id))!.waiting?.kind, "needsClarification", "nothing resolved it without the human");
    await team.stop();
    await memory.tickets.move(waiting._id, "todo", "human", "back to To do");
    assert.equal((await memory.tickets.get(waiting._id))!.waiting, undefined, "the move that resumes it clears what it waited for");
  });

  it("gives a critical project's ready ticket the slot of a low project's pair at its next step, says why on the card and the agents' channel, and resumes the low one after", async () => {
    const slow = await repository("Slow", [{ name: "answer", value: 42 }]);
    const urgent = await repository("Urgent", [{ name: "seven", value: 7 }]);
    await memory.projects.setPriority(slow._id, "low", "human");
    await memory.projects.setPriority(urgent._id, "critical", "human");
    // While the low project's Tester writes its red, the critical project's spec is approved.
    let approving: Promise<unknown> | undefined;
    backend.script("tester", [(request) => {
      approving ??= approveSpec(urgent);
      return readingTester(request);
    }, ...forever(readingTester)]);
    const team = orchestrator().start();
    await approveSpec(slow);
    const paused = await directorPauseOf(slow);
    assert.equal(paused.column, "inprogress");
    assert.match(paused.directorPause!.reason, /^Urgent \(critical\) is owed a slot .*; Slow \(low\) has used more than its share/);
    assert.match(git(slow, "log", "-1", "--format=%s", "ticket/slow-1"), /\(red\)$/, "the step under way finished first");
    await team.idle();
    assert.deepEqual([...(await tickets(urgent)), ...(await tickets(slow))], [["seven answers", "review"], ["answer answers", "review"]]);
    const reviewFirst = (await memory.tickets.of(urgent._id))[0]!.history.find((h) => h.to === "review")!.at;
    const slowDone = (await memory.tickets.of(slow._id))[0]!;
    assert.ok(slowDone.history.find((h) => h.to === "review")!.at >= reviewFirst, "the critical ticket went first");
    assert.equal(slowDone.directorPause, undefined, "taken again, the card no longer says paused");
    const said = (await memory.transcript.messages(slow._id, { channel: "agents" })).filter((m) => m.from === "resource-director");
    assert.match(said[0]?.text ?? "", /^Pausing .* at its next step: Urgent \(critical\) is owed a slot/);
    assert.ok((await memory.transcript.agentLogs(slow._id)).some((log) => /paused by the Resource Director/.test(log.message)), "the decision is in agent_logs");
  });

  it("with memory for one heavy model, runs no second pair on another model beside it, though a slot is free", async () => {
    overrides["pairs.slots"] = 2;
    const first = await repository("First", [{ name: "answer", value: 42 }]);
    const second = await repository("Second", [{ name: "seven", value: 7 }]);
    const calls: string[] = [];
    const recording = (request: ChatRequest) => {
      calls.push(request.messages.some((m) => m.content.includes("seven")) ? "Second" : "First");
      return readingTester(request);
    };
    backend.script("tester", forever(recording));
    const modelOf = (project: Project) => `file /m/${project.name}.gguf`;
    const team = orchestrator({ of: modelOf, loaded: () => new Set(), memory: () => ({ capacity: 5, sizes: new Map([[modelOf(first), 4], [modelOf(second), 4]]) }) }).start();
    await Promise.all([approveSpec(first), approveSpec(second)]);
    await team.idle();
    assert.deepEqual([...(await tickets(first)), ...(await tickets(second))], [["answer answers", "review"], ["seven answers", "review"]]);
    const switches = calls.filter((call, i) => i > 0 && call !== calls[i - 1]).length;
    assert.equal(switches, 1, `one project's Tester calls all came before the other's: ${calls.join(", ")}`);
  });

  it("takes a priority change at the next step boundary: the project made critical gets the slot", async () => {
    const first = await repository("First", [{ name: "answer", value: 42 }]);
    const second = await repository("Second", [{ name: "seven", value: 7 }]);
    // Both medium: the first project's pair keeps the one slot while the second waits its turn.
    let raising: Promise<unknown> | undefined;
    backend.script("tester", [(request) => {
      raising ??= memory.projects.get(second._id).then(async (project) => {
        if (project?.state !== "executing") await approveSpec(second);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await memory.projects.setPriority(second._id, "critical", "human");
      });
      return readingTester(request);
    }, ...forever(readingTester)]);
    const team = orchestrator().start();
    await approveSpec(first);
    const paused = await directorPauseOf(first);
    assert.match(paused.directorPause!.reason, /^Second \(critical\) is owed a slot/);
    await team.idle();
    const reviewed = async (project: Project) => (await memory.tickets.of(project._id))[0]!.history.find((h) => h.to === "review")!.at.getTime();
    assert.ok((await reviewed(second)) <= (await reviewed(first)), "the project made critical finished first");
  });

  it("pauses a project at a step boundary and resumes it where it was; a restart mid-ticket resumes from the last red", async () => {
    const project = await repository("Pausing", [{ name: "answer", value: 42 }]);
    // The pause lands while the Tester's red step is under way (before its test run and commit):
    // that step completes, and the pair stops at the boundary after it.
    let pausing: Promise<unknown> | undefined;
    backend.script("tester", [(request) => {
      pausing ??= memory.projects.get(project._id).then((current) => pauseProject(memory, current!));
      return readingTester(request);
    }, ...forever(readingTester)]);
    let team = orchestrator().start();
    await approveSpec(project);
    await team.idle();
    await pausing;
    const paused = (await memory.tickets.of(project._id))[0]!;
    assert.equal(paused.column, "inprogress");
    assert.match(git(project, "log", "-1", "--format=%s", "ticket/pausing-1"), /\(red\)$/);
    const said = (await memory.transcript.messages(project._id, { channel: "agents" })).map((m) => `${m.from}: ${m.text}`);
    assert.ok(said.some((text) => /^pair-1: pair-1 stopped PAUSING-1 at a step boundary: the project is on hold\./.test(text)), `the agents' channel says why the pair stopped:\n${said.join("\n")}`);
    // A new process: the orchestrator starts again from the records alone.
    await team.stop();
    team = orchestrator().start();
    await resumeProject(memory, (await memory.projects.get(project._id))!, await fs.readFile(path.join(project.root, "SPEC.md"), "utf8"));
    await team.idle();
    assert.equal((await memory.tickets.get(paused._id))!.column, "review");
    assert.equal(git(project, "log", "--format=%s", "ticket/pausing-1").split("\n").filter((s) => s.endsWith("(red)")).length, 1, "the red was not written twice");
  });

  it("does not restart a pair in a loop on a ticket whose worktree cannot be made: it tells the human once and goes idle", async () => {
    overrides["pairs.autoStart"] = false;
    const project = await repository("Broken", [{ name: "answer", value: 42 }]);
    const team = orchestrator().start();
    await approveSpec(project);
    await team.idle();
    // Something the pair cannot get past before the ticket leaves To do: its worktree's path is taken.
    await fs.mkdir(path.join(project.root, ".redgreen", "worktrees"), { recursive: true });
    await fs.writeFile(path.join(project.root, ".redgreen", "worktrees", "broken-1"), "in the way\n");
    team.startPairs(project._id);
    await team.idle();
    assert.equal(notices.filter((text) => /BROKEN-1: pair-1 stopped on an error/.test(text)).length, 1, notices.join("\n"));
    assert.deepEqual(await tickets(project), [["answer answers", "todo"]]);
  });

  it("with auto-start off, plans but starts no pair until Start Pair", async () => {
    overrides["pairs.autoStart"] = false;
    const project = await repository("Manual", [{ name: "answer", value: 42 }]);
    const team = orchestrator().start();
    await approveSpec(project);
    await team.idle();
    assert.deepEqual(await tickets(project), [["answer answers", "todo"]]);
    const executing = (await memory.projects.get(project._id))!;
    assert.equal(team.waitsForStart(executing), true, "its pairs wait for Start Pair (the board offers it)");
    team.startPairs(project._id);
    assert.equal(team.waitsForStart(executing), false);
    await team.idle();
    assert.deepEqual(await tickets(project), [["answer answers", "review"]]);
    // That Start Pair lasted until the work ran out: a ticket planned later waits for the next one.
    const [first] = await memory.tickets.of(project._id);
    const branch = await new GitOps(simpleGitPort, project.root, silent).createTicketBranch("MANUAL-9", first!.functionalityId);
    await memory.tickets.create({ ...first!, _id: "MANUAL-9", title: "later", column: "todo", assignedPair: null, branch, filesChanged: [], testPassRate: null }, "architect");
    await team.idle();
    assert.deepEqual(await tickets(project), [["answer answers", "review"], ["later", "todo"]]);
    assert.equal(team.waitsForStart(executing), true, "the Start Pair ended with the work");
    overrides["pairs.autoStart"] = true;
    assert.equal(team.waitsForStart(executing), false);
    await team.pausePairs(project._id);
    assert.equal(team.waitsForStart(executing), true, "Pause Pair holds them until Start Pair, auto-start or not");
  });
});
