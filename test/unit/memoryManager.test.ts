import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { openEmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { ContextBudgetError, packContext, renderForCounting } from "../../src/core/memory/contextPacker";
import type { MemoryModels } from "../../src/core/memory/knowledge";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { WorkingMemory } from "../../src/core/memory/workingMemory";
import type { Store } from "../../src/core/store/port";
import type { WorkingEntry } from "../../src/core/store/records";
import { ManualClock, ticket } from "../store/conformance";

// Models for memory's orchestration: words hashed into a bag-of-words vector (so texts sharing
// words are close), tokens counted as words, summaries that say what they summarized.
// Real tokenizers and embeddings are exercised in test/inference/memory.test.ts.
class WordModels implements MemoryModels {
  summaries: string[] = [];
  window = 400;
  embed = (texts: string[]) => Promise.resolve(texts.map(bagOfWords));
  embeddingModelId = () => "words";
  countTokens = (_role: string, text: string) => Promise.resolve(text.split(/\s+/).filter(Boolean).length);
  contextSize = () => this.window;
  ask = (_role: string, request: { messages: { content: string }[] }) => {
    const lines = request.messages[1]!.content.split("\n").length;
    this.summaries.push(request.messages[1]!.content);
    return Promise.resolve({ text: `summary of ${lines} turns` });
  };
}

function bagOfWords(text: string): number[] {
  const v = new Array<number>(64).fill(0);
  for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    let h = 0;
    for (const ch of word) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    v[h % 64]! += 1;
  }
  v[63]! += 0.01; // never a zero vector
  return v;
}

function newTicket(projectId: string, id: string) {
  const { createdAt, updatedAt, history, ...fields } = ticket(projectId, id, 0);
  void [createdAt, updatedAt, history];
  return fields;
}

function entry(projectId: string, seq: number, extra: Partial<WorkingEntry> = {}): WorkingEntry {
  return { _id: `e${projectId}${seq}`, projectId, seq, kind: "message", from: "pm", text: `turn ${seq}`, at: new Date(0), ...extra };
}

describe("WorkingMemory", () => {
  it("keeps at most its capacity per project, dropping the least recently used", () => {
    const working = new WorkingMemory(3);
    for (let seq = 0; seq < 4; seq++) working.add(entry("a", seq));
    working.add(entry("b", 0));
    assert.deepEqual(working.recent("a").map((e) => e.seq), [1, 2, 3]);
    assert.equal(working.size("b"), 1);
    working.get("a", "ea1"); // a use: now seq 2 is the least recently used
    working.add(entry("a", 4));
    assert.deepEqual(working.recent("a").map((e) => e.seq), [1, 3, 4]);
  });

  it("lets a summary replace the turns it covers, for its ticket only", () => {
    const working = new WorkingMemory(100);
    for (let seq = 0; seq < 5; seq++) working.add(entry("a", seq, { ticketId: seq % 2 ? "T1" : "T2" }));
    working.add(entry("a", 5, { ticketId: "T1", kind: "summary", replacesUpTo: 3, text: "s" }));
    assert.deepEqual(working.recent("a", { ticketId: "T1" }).map((e) => e.seq), [5]);
    assert.deepEqual(working.recent("a", { ticketId: "T2" }).map((e) => e.seq), [0, 2, 4]);
  });

  it("lets a newer summary replace an older one, which stands before the turns it replaced", () => {
    const working = new WorkingMemory(100);
    for (let seq = 0; seq < 5; seq++) working.add(entry("a", seq));
    working.add(entry("a", 5, { kind: "summary", replacesUpTo: 2, text: "first" }));
    working.add(entry("a", 6));
    assert.deepEqual(working.recent("a").map((e) => e.seq), [5, 3, 4, 6]);
    working.add(entry("a", 7, { kind: "summary", replacesUpTo: 4, text: "second" }));
    assert.deepEqual(working.recent("a").map((e) => e.seq), [7, 6]);
  });
});

describe("packContext", () => {
  const words = (text: string) => Promise.resolve(text.split(/\s+/).filter(Boolean).length);
  const t = { _id: "T-1", title: "Add login", goal: "Users can log in with a password", acceptanceCriteria: ["wrong password is refused", "session cookie is set"] };
  const recent = Array.from({ length: 60 }, (_, i) => entry("p", i, { text: `turn ${i} ${"word ".repeat(i % 7)}`, from: i % 2 ? "developer" : "tester" }));
  const knowledge = Array.from({ length: 10 }, (_, i) => ({ text: `fact ${i} about passwords and sessions`, score: 1 - i / 10 }));

  it("never exceeds its budget, always keeps the goal and criteria, and prefers the newest turns", async () => {
    for (let budget = 40; budget <= 400; budget += 13) {
      const packed = await packContext({ role: "developer", ticket: t, budget, recent, knowledge, countTokens: words });
      assert.ok(packed.tokens <= budget, `budget ${budget}: ${packed.tokens}`);
      assert.equal(packed.tokens, await words(renderForCounting(packed.messages)));
      const system = packed.messages[0]!.content;
      assert.match(system, /Goal: Users can log in with a password/);
      assert.match(system, /- wrong password is refused\n- session cookie is set/);
      const turns = packed.messages.slice(1);
      if (turns.length > 0) assert.match(turns.at(-1)!.content, /turn 59/);
      assert.equal(turns.length, packed.recentIncluded);
    }
  });

  it("fills space left after the turns with knowledge, best first", async () => {
    const packed = await packContext({ role: "developer", ticket: t, budget: 200, recent: recent.slice(-3), knowledge, countTokens: words });
    assert.equal(packed.recentIncluded, 3);
    assert.ok(packed.knowledgeIncluded >= 5);
    assert.match(packed.messages[0]!.content, /Relevant knowledge:\n- fact 0/);
    assert.deepEqual(packed.messages[1], { role: "assistant", content: "turn 57 word " }); // the role's own turn
    assert.deepEqual(packed.messages[2], { role: "user", content: "[tester] turn 58 word word " }); // another role's turn
  });

  it("refuses a budget that cannot even hold the goal, instead of dropping it", async () => {
    await assert.rejects(packContext({ role: "developer", ticket: t, budget: 10, recent, knowledge, countTokens: words }), ContextBudgetError);
  });
});

describe("MemoryManager", function () {
  this.timeout(20_000);
  const root = path.join(os.tmpdir(), `redgreen-memory-${process.pid}`);
  let dir: string;
  let n = 0;
  let store: Store;
  let clock: ManualClock;
  let models: WordModels;
  const open = async () => {
    store = await openEmbeddedStore(dir, { clock, sweepIntervalMs: 0 });
    return MemoryManager.open({ store, models, clock, workingCapacity: 50 });
  };

  beforeEach(() => {
    dir = path.join(root, `m${++n}`);
    clock = new ManualClock();
    models = new WordModels();
  });
  afterEach(() => store.close());
  after(() => fs.rm(root, { recursive: true, force: true }));

  it("writes messages and events through to working and session memory, and reloads working memory after a restart", async () => {
    let memory = await open();
    for (let i = 0; i < 70; i++) {
      clock.time += 1000;
      await memory.transcript.record(i % 3 ? { kind: "message", projectId: "p1", ticketId: "T-1", channel: "agents", from: "developer", text: `message ${i}` } : { kind: "event", projectId: "p1", ticketId: "T-1", from: "tester", level: "info", text: `event ${i}` });
    }
    await memory.transcript.record({ kind: "message", projectId: "p2", channel: "human", from: "human", text: "hello PM" });
    const before = memory.transcript.recent("p1").map((e) => e.text);
    assert.equal(before.length, 50);
    assert.equal(before.at(-1), "event 69");
    await store.close();

    memory = await open();
    assert.deepEqual(memory.transcript.recent("p1").map((e) => e.text), before);
    assert.deepEqual(memory.transcript.recent("p2").map((e) => e.text), ["hello PM"]);
    const next = await memory.transcript.record({ kind: "message", projectId: "p1", channel: "agents", from: "pm", text: "after restart" });
    assert.ok(next.seq > memory.transcript.recent("p1").at(-2)!.seq, "sequence numbers continue after a restart");

    assert.equal((await memory.transcript.messages("p1")).length, 47);
    assert.equal((await memory.transcript.agentLogs("p1")).length, 24);
  });

  it("answers session queries by project, ticket and time range; chat expires after the retention period", async () => {
    const memory = await open();
    const t0 = clock.now();
    for (let i = 0; i < 10; i++) {
      clock.time = t0 + i * 60_000;
      await memory.transcript.record({ kind: "message", projectId: "p1", ticketId: i < 5 ? "T-1" : "T-2", channel: "agents", from: "developer", text: `m${i}` });
    }
    assert.deepEqual((await memory.transcript.messages("p1", { ticketId: "T-2" })).map((c) => c.text), ["m5", "m6", "m7", "m8", "m9"]);
    assert.deepEqual((await memory.transcript.messages("p1", { from: new Date(t0 + 2 * 60_000), to: new Date(t0 + 4 * 60_000) })).map((c) => c.text), ["m2", "m3"]);
    clock.time = t0 + 90 * 86_400_000 + 3 * 60_000; // 90 days after m3
    assert.deepEqual((await memory.transcript.messages("p1")).map((c) => c.text), ["m4", "m5", "m6", "m7", "m8", "m9"]);
  });

  it("keeps spec versions in order and tickets with the history of every move", async () => {
    const memory = await open();
    await memory.projects.saveSpecVersion("p1", "v1 text", "pm", false);
    await memory.projects.saveSpecVersion("p1", "v2 text", "human", true);
    assert.deepEqual((await memory.projects.specHistory("p1")).map((v) => [v.version, v.approved]), [[1, false], [2, true]]);
    await memory.tickets.create(newTicket("p1", "T-1"), "architect");
    await memory.tickets.move("T-1", "inprogress", "developer");
    await memory.tickets.update("T-1", { directorPause: { reason: "another project's turn", since: new Date() } }, "resource-director", "paused");
    const moved = await memory.tickets.move("T-1", "review", "tester", "all green");
    assert.equal(moved.directorPause, undefined, "a move ends the Resource Director's pause, as it ends a wait for the human");
    assert.deepEqual(moved.history.map((h) => [h.by, h.from, h.to]), [["architect", undefined, "todo"], ["developer", "todo", "inprogress"], ["resource-director", undefined, undefined], ["tester", "inprogress", "review"]]);
    assert.equal((await memory.tickets.get("T-1"))!.column, "review");
    assert.match(memory.transcript.recent("p1").at(-1)!.text, /moved T-1 from inprogress to review: all green/);
  });

  it("recalls the closest memories, filtered by project and tags, after a restart too", async () => {
    let memory = await open();
    await memory.knowledge.remember("p1", "the login form posts the password to the auth service", ["auth"]);
    await memory.knowledge.remember("p1", "invoices are rendered as pdf files", ["billing"]);
    await memory.knowledge.remember("p2", "the login page of the other project", ["auth"]);
    const hits = await memory.knowledge.recall("where does the login password go", { projectId: "p1" });
    assert.equal(hits[0]!.memory.text, "the login form posts the password to the auth service");
    assert.ok(hits.every((h) => h.memory.projectId === "p1"));
    assert.ok(hits[0]!.score > hits[1]!.score);
    await store.close();
    memory = await open();
    const tagged = await memory.knowledge.recall("login", { tags: ["auth"], k: 10 });
    assert.deepEqual(tagged.map((h) => h.memory.projectId).sort(), ["p1", "p2"]);
  });

  it("packs a ticket's context; above 80% of the window it summarizes older turns and the summary replaces them", async () => {
    models.window = 200;
    const memory = await open();
    await memory.tickets.create(newTicket("p1", "T-1"), "architect");
    await memory.knowledge.remember("p1", "Do the thing by calling the thing service", []);
    for (let i = 0; i < 30; i++) await memory.transcript.record({ kind: "message", projectId: "p1", ticketId: "T-1", channel: "agents", from: i % 2 ? "developer" : "tester", text: `turn ${i} ran the tests again` });
    // 30 turns of ~7 words: past 80% of 200 tokens, so older turns are summarized first.
    const packed = await memory.knowledge.packContext("developer", "T-1", { budget: 150 });
    assert.equal(models.summaries.length, 1);
    assert.ok(packed.tokens <= 150);
    assert.match(packed.messages[0]!.content, /Goal: Do the thing/);
    assert.match(packed.messages[0]!.content, /thing service/);
    const working = memory.transcript.recent("p1", { ticketId: "T-1" });
    assert.equal(working[0]!.kind, "summary");
    assert.match(working[0]!.text, /^summary of \d+ turns$/);
    assert.ok(!models.summaries[0]!.includes("turn 29"), "the newest turns are kept verbatim");
    assert.equal(working.at(-1)!.text, "turn 29 ran the tests again");
    await memory.knowledge.packContext("developer", "T-1", { budget: 150 });
    assert.equal(models.summaries.length, 1, "below the threshold now: no second summary");
    await store.close();
    const reopened = await open();
    assert.equal(reopened.transcript.recent("p1", { ticketId: "T-1" })[0]!.kind, "summary", "the summary still replaces the turns after a restart");
  });
});
