// The engine's team, in this process (the integration suite drives it from real windows): two
// clients, each with its own scripted model server that reads its prompts, configure the team and
// join their projects; one orchestrator in the engine runs both projects' pairs with each client's
// models, each client sees the agents' work live, and the human's questions and notices reach the
// client whose project it is. A client that hangs up takes its pairs with it at their next step,
// unless its engine.keepWorking is on.
import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { EngineConnection } from "../../src/adapters/engine/engineClient";
import { RemoteStore } from "../../src/adapters/engine/remoteStore";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import type { Plan } from "../../src/core/agents/architect";
import { specTemplate } from "../../src/core/spec/spec";
import type { Project, Ticket } from "../../src/core/store/records";
import { startEngine, type RunningEngine } from "../../src/engine/engine";
import { ClientMethods, decideDevParams, EngineMethods, noticeParams, statusResult, TeamNotifications } from "../../src/protocol/engine";
import * as z from "zod";
import { readingDeveloper, readingTester } from "../fakes/readingPair";
import { startScriptedOpenAi, type ScriptedRequest } from "../fixtures/scriptedOpenAi";
import { gitIn, noModels, silent } from "../fixtures/kit";
import { approveTicket } from "../../src/core/tickets/review";
import { GitOps } from "../../src/core/gitops/gitOps";
import { simpleGitPort } from "../../src/adapters/git/simpleGit";

const planOf = (name: string, value: number): Plan => ({
  functionalities: [{
    name: "Answers",
    tickets: [{ key: "T1", title: `${name} answers`, description: "", goal: `\`${name}()\` returns ${value}`, acceptanceCriteria: [`\`${name}()\` returns ${value}`], requirementIds: ["R-1"], severity: "medium", estimateHours: 1, dependsOn: [] }],
  }],
});

/** `count` tickets of one functionality, each asking for its own `nameI()`. */
const manyTickets = (name: string, count: number): Plan => ({
  functionalities: [{
    name: "Answers",
    tickets: Array.from({ length: count }, (_, i) => ({ key: `T${i + 1}`, title: `${name}${i} answers`, description: "", goal: `\`${name}${i}()\` returns ${i}`, acceptanceCriteria: [`\`${name}${i}()\` returns ${i}`], requirementIds: ["R-1"], severity: "medium" as const, estimateHours: 1, dependsOn: [] })),
  }],
});

/** A client's model server: the Architect plans the project its prompt names; the pair reads its prompts. */
function answerFor(plans: Map<string, Plan>) {
  return (request: ScriptedRequest): string => {
    const properties = request.schema?.properties ?? {};
    const prompt = request.messages.map((m) => m.content).join("\n");
    if ("functionalities" in properties) {
      const name = [...plans.keys()].find((key) => prompt.includes(`# ${key}`));
      if (!name) throw new Error("the Architect's prompt names no project of this client");
      return JSON.stringify(plans.get(name));
    }
    const chat = { messages: request.messages as { role: "system" | "user" | "assistant"; content: string }[] };
    return "criterion" in properties ? readingTester(chat) : readingDeveloper(chat);
  };
}

interface Window {
  connection: EngineConnection;
  memory: MemoryManager;
  server: Awaited<ReturnType<typeof startScriptedOpenAi>>;
  plans: Map<string, Plan>;
  notices: z.infer<typeof noticeParams>[];
}

describe("The engine's team (one orchestrator for every client's projects)", function () {
  this.timeout(120_000);
  const root = path.join(os.tmpdir(), `redgreen-engine-team-${process.pid}`);
  let n = 0;
  let dataDir: string;
  let engine: RunningEngine;
  const windows: Window[] = [];

  beforeEach(async () => {
    dataDir = path.join(root, `d${++n}`);
    const started = await startEngine({ dataDir, log: process.env.TEAM_DEBUG ? { trace: console.error, debug: console.error, info: console.error, warn: console.error, error: console.error } : silent, version: "1.0.0", idleMs: 60_000 });
    assert.notEqual(started, "running");
    engine = started as RunningEngine;
  });
  afterEach(async () => {
    for (const window of windows.splice(0)) {
      window.connection.dispose();
      await window.server.close();
    }
    await engine.stop();
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  /** A client as a window is: its store and Memory Manager through the engine, and its own model server. */
  async function openWindow(settings: Record<string, unknown> = {}, paceMs?: number, replyMs = 0): Promise<Window> {
    const connection = await EngineConnection.open({ dataDir, version: "1.0.0", client: "editor", log: silent });
    const memory = await MemoryManager.open({ store: new RemoteStore(connection, silent), models: noModels });
    const plans = new Map<string, Plan>();
    const answer = answerFor(plans);
    const server = await startScriptedOpenAi(async (request) => {
      await new Promise((resolve) => setTimeout(resolve, replyMs));
      return answer(request);
    }, { paceMs });
    const notices: Window["notices"] = [];
    connection.onNotification(TeamNotifications.notice, noticeParams, (notice) => notices.push(notice), silent);
    const window = { connection, memory, server, plans, notices };
    windows.push(window);
    const model = (id: string) => ({ id, backend: "openai", url: server.url, model: "scripted" });
    // As many slots as asked on any machine: no reserve, no cap (two cores would make one slot).
    const machine = { "resources.reserve": { cpuPercent: 0, memoryGB: 0 }, "resources.hardCap": 100 };
    await connection.request(EngineMethods.configureTeam, { settings: { ...machine, ...settings }, registry: { models: [model("heavy"), model("code")], roles: { architect: { model: "heavy" }, developer: { model: "code" }, tester: { model: "code" } } } }, z.null());
    return window;
  }

  /** A repository with a passing suite and an approved spec, created by `window`. */
  async function approvedProject(window: Window, name: string, value: number): Promise<Project> {
    const dir = path.join(root, `p${++n}`);
    await fs.mkdir(path.join(dir, "test"), { recursive: true });
    gitIn(dir, "init", "-q", "-b", "main");
    await fs.writeFile(path.join(dir, "test", "smoke.test.js"), "require('node:test')('runs', () => {});\n");
    await fs.writeFile(path.join(dir, "SPEC.md"), specTemplate(name));
    gitIn(dir, "add", "-A");
    gitIn(dir, "commit", "-q", "-m", "start");
    window.plans.set(name, planOf(name.toLowerCase(), value));
    const project = await window.memory.projects.create({ _id: name.toLowerCase(), name, root: dir, priority: "medium", state: "drafting", testCommand: "node --test", specPath: "SPEC.md" }, "human");
    await window.memory.projects.saveSpecVersion(project._id, specTemplate(name), "human", true);
    return window.memory.projects.transition(project._id, "approved", "human", "spec v1 approved");
  }

  const join = (window: Window, project: Project, trusted = true) => window.connection.request(EngineMethods.joinTeam, { projectId: project._id, trusted }, z.object({ granted: z.boolean() }).loose());
  const status = (window: Window) => window.connection.request(EngineMethods.status, {}, statusResult);

  async function waitFor(check: () => Promise<boolean>, why: string, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(why);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Resolves with the project's tickets once `ready` says so, as `window` sees them (live, through the engine). */
  async function until(window: Window, project: Project, ready: (tickets: Ticket[]) => boolean, ms = 60_000): Promise<Ticket[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const tickets = await window.memory.tickets.of(project._id);
      if (tickets.length > 0 && ready(tickets)) return tickets;
      if (Date.now() > deadline) throw new Error(`${project.name}: ${JSON.stringify(tickets.map((t) => [t._id, t.column, t.waiting]))}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it("plans and runs both clients' projects with each client's own models, and each client sees the work live", async () => {
    const a = await openWindow({ "pairs.slots": 2 });
    const b = await openWindow();
    const alpha = await approvedProject(a, "Alpha", 7);
    const beta = await approvedProject(b, "Beta", 9);
    // Nothing happens before a client's team joins: the engine works only on joined projects.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(a.server.requests.length + b.server.requests.length, 0);
    assert.deepEqual((await join(a, alpha)).granted, true);
    assert.deepEqual((await join(b, beta)).granted, true);
    assert.equal((await join(b, alpha)).granted, false, "one team per project");

    const seen: string[] = [];
    b.memory.tickets.onDidChange((ticket) => seen.push(`${ticket._id} ${ticket.column}`));
    const [ticketA] = await until(b, alpha, (tickets) => tickets.every((t) => t.column === "review"));
    await until(a, beta, (tickets) => tickets.every((t) => t.column === "review"));
    assert.ok(seen.includes(`${ticketA!._id} inprogress`) && seen.includes(`${ticketA!._id} review`), `b followed a's ticket live: ${seen.join(", ")}`);

    // Each project's agents asked only their own client's models.
    const asked = (window: Window) => window.server.requests.map((r) => r.messages.map((m) => m.content).join("\n"));
    assert.ok(asked(a).length >= 3 && asked(a).every((prompt) => !/\bbeta\(\)|# Beta/.test(prompt)), "a's models never saw Beta");
    assert.ok(asked(b).length >= 3 && asked(b).every((prompt) => !/\balpha\(\)|# Alpha/.test(prompt)), "b's models never saw Alpha");
    assert.ok(asked(a).some((prompt) => prompt.includes("`alpha()` returns 7")), "the Tester was shown Alpha's criterion");
    const engineStatus = await status(a);
    assert.deepEqual(engineStatus.pairs.map((pair) => pair.id), ["pair-1", "pair-2"], "the most slots a client asked for");
    assert.deepEqual(engineStatus.teams.map((team) => team.projectId).sort(), ["alpha", "beta"]);
  });

  it("shares its one pair between a critical, a medium and a low project as the Resource Director's policy says", async function () {
    this.timeout(180_000);
    // One slot; a review cycle of a minute (a quarter of it is the Director's quantum); every model reply takes 1.5 s.
    const window = await openWindow({ "pairs.slots": 1, "resources.reviewMinutes": 1 }, undefined, 1500);
    const tiers = { Crit: "critical", Med: "medium", Low: "low" } as const;
    const projects: Project[] = [];
    for (const [name, tier] of Object.entries(tiers)) {
      const project = await approvedProject(window, name, 1);
      window.plans.set(name, manyTickets(name.toLowerCase(), 12));
      projects.push(await window.memory.projects.setPriority(project._id, tier, "human"));
    }
    for (const project of projects) assert.equal((await join(window, project)).granted, true);
    await waitFor(async () => (await status(window)).allocations.length === 3, "the Director did not allocate to the three projects", 60_000);
    // SPEC-001's quotas 90 / 40 / 10 % with a cap of 100 % here: scaled by one factor, 1 / 1.4.
    assert.deepEqual((await status(window)).allocations.map((a) => [a.name, Math.round(a.share * 1000)]), [["Crit", 643], ["Med", 286], ["Low", 71]]);
    const seen = new Map<string, number>();
    const steps = new Set<string>();
    const until = Date.now() + 100_000;
    while (Date.now() < until) {
      for (const pair of (await status(window)).pairs) {
        if (pair.projectId) seen.set(pair.projectId, (seen.get(pair.projectId) ?? 0) + 1);
        if (pair.step) steps.add(`${pair.step} on ${pair.model ?? "no model"}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // What each pair does is told with it: the step, and the model the step asks (the client's).
    assert.ok(steps.has("red on code") && steps.has("green on code"), `steps seen: ${[...steps].join(", ")}`);
    const total = [...seen.values()].reduce((a, b) => a + b, 0);
    const share = (project: Project) => (seen.get(project._id) ?? 0) / total;
    const [crit, med, low] = projects.map(share) as [number, number, number];
    // About 100 s of turns of 15 s or more (a turn changes at a ticket's end or, after 15 s, at a
    // step boundary): the order and the rough size, not the decimals (the simulator checks those).
    assert.ok(crit > med && med > low && low > 0, `observed shares ${[crit, med, low].map((v) => v.toFixed(2)).join(", ")}`);
    assert.ok(crit > 0.45 && crit < 0.85, `critical observed ${crit.toFixed(2)} of the pair's time, policy 0.64`);
  });

  it("is idle for one project only once its ready tickets are done, even while another project holds the only pair", async () => {
    const a = await openWindow({}, 20);
    const b = await openWindow();
    const alpha = await approvedProject(a, "Alpha", 7);
    await join(a, alpha);
    await until(a, alpha, (tickets) => tickets.some((t) => t.column === "inprogress"));
    const beta = await approvedProject(b, "Beta", 9);
    await join(b, beta);
    await b.connection.request(EngineMethods.teamIdle, { projectId: beta._id }, z.null());
    const tickets = await b.memory.tickets.of(beta._id);
    assert.deepEqual(tickets.map((t) => t.column), ["review"], "Beta's ticket waited for the pair, and the wait with it");
  });

  it("does not work in a folder its client does not trust, and starts once the client joins it trusted", async () => {
    const a = await openWindow();
    const alpha = await approvedProject(a, "Alpha", 7);
    await join(a, alpha, false);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(a.server.requests.length, 0, "nothing ran in an untrusted folder");
    assert.equal((await a.memory.projects.get(alpha._id))?.state, "approved");
    await join(a, alpha, true);
    await until(a, alpha, (tickets) => tickets.every((t) => t.column === "review"));
  });

  it("asks the client whose project it is about an existing DEV branch, and tells that client alone what it should know", async () => {
    const a = await openWindow();
    const b = await openWindow();
    const alpha = await approvedProject(a, "Alpha", 7);
    gitIn(alpha.root, "branch", "DEV");
    const asked: unknown[] = [];
    a.connection.onRequest(ClientMethods.decideDev, decideDevParams, (params) => {
      asked.push(params);
      return Promise.resolve("reuse");
    });
    b.connection.onRequest(ClientMethods.decideDev, decideDevParams, () => Promise.reject(new Error("b was asked about a's project")));
    await join(a, alpha);
    const [ticket] = await until(a, alpha, (tickets) => tickets.every((t) => t.column === "review"));
    assert.deepEqual(asked, [{ projectId: "alpha", name: "Alpha" }]);
    // The human approves the functionality's last ticket: the engine's team merges it into DEV and says so to a.
    await approveTicket(ticket!._id, { memory: a.memory, git: new GitOps(simpleGitPort, alpha.root, silent) });
    await waitFor(() => Promise.resolve(a.notices.length > 0), "no notice");
    assert.match(a.notices[0]?.text ?? "none", /Alpha: every ticket of .* is done and its suite is green; the Architect merged it into DEV/);
    assert.equal(a.notices[0]?.projectId, "alpha");
    assert.deepEqual(b.notices, []);
    assert.match(gitIn(alpha.root, "log", "--format=%s", "DEV"), /Merge feature\/answers into DEV/);
  });

  it("stops a client's pairs at their next step when it hangs up; with engine.keepWorking they go on to review", async () => {
    // Replies paced 20 ms a word: a step takes long enough to hang up in the middle of it.
    const a = await openWindow({}, 20);
    const alpha = await approvedProject(a, "Alpha", 7);
    await join(a, alpha);
    await until(a, alpha, (tickets) => tickets.some((t) => t.column === "inprogress"));
    a.connection.dispose();
    const watcher = await openWindow();
    await waitFor(async () => !(await status(watcher)).pairs.some((pair) => pair.ticketId), "the pair did not stop");
    const stopped = await watcher.memory.tickets.of(alpha._id);
    assert.equal(stopped[0]?.column, "inprogress", "the pair stopped at a step boundary when its client went");
    assert.equal(stopped[0]?.waiting, undefined, "and the ticket does not wait for the human: it was not blocked");

    const keeper = await openWindow({ "engine.keepWorking": true }, 20);
    await join(keeper, alpha);
    await waitFor(async () => (await status(watcher)).pairs.some((pair) => pair.ticketId), "the pair did not resume");
    keeper.connection.dispose();
    await until(watcher, alpha, (tickets) => tickets.every((t) => t.column === "review"));
  });
});
