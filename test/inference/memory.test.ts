// The Memory Manager over real models: the tiny chat model's tokenizer counts the packing
// budget and writes the summaries; the tiny BERT model makes the embeddings.
import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LocalModelBackend } from "../../src/adapters/llm/localBackend";
import { ModelHostProcess } from "../../src/adapters/llm/modelHostProcess";
import { openEmbeddedStore, type EmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { renderForCounting } from "../../src/core/memory/contextPacker";
import { memoryModelsOf } from "../../src/core/memory/knowledge";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { ModelManager } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import { cosine } from "../fixtures/cosine";
import { chatModel, embeddingModel } from "../fixtures/models/makeModels";
import { ticket } from "../store/conformance";
import { silent } from "../fixtures/kit";

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const WINDOW = 512;

describe("Memory Manager with real models", function () {
  this.timeout(120_000);
  let host: ModelHostProcess;
  let backend: LocalModelBackend;
  let models: ModelManager;
  let store: EmbeddedStore;
  let memory: MemoryManager;
  const dir = path.join(os.tmpdir(), `redgreen-memory-inference-${process.pid}`);

  before(async () => {
    host = new ModelHostProcess({ entry: path.join(repoRoot, "dist", "modelHost.js"), log: silent });
    backend = new LocalModelBackend(host);
    const registry = parseRegistry(
      {
        models: [
          { id: "code", backend: "local", path: await chatModel(), contextSize: WINDOW },
          { id: "embed", backend: "local", path: await embeddingModel(), contextSize: 512, embedding: true },
        ],
        roles: { developer: { model: "code" }, embedding: { model: "embed" } },
      },
      "test",
    );
    models = new ModelManager(registry, { local: backend }, { defaultThreads: () => 2 });
    store = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
    memory = await MemoryManager.open({ store, models: memoryModelsOf(() => models) });
    const { createdAt, updatedAt, history, ...fields } = ticket("p1", "T-1", Date.now());
    void [createdAt, updatedAt, history];
    await memory.tickets.create({ ...fields, goal: "Parse ISO dates in the import module", acceptanceCriteria: ["2024-02-29 parses", "2023-02-29 is refused"] }, "architect");
  });

  after(async () => {
    await store.close();
    models.dispose();
    backend.dispose();
    host.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("recalls by real embeddings exactly as a brute-force cosine scan ranks them", async () => {
    const texts = ["dates are parsed with a strict regex", "the importer reads CSV files", "leap years need a special case", "the UI uses codicons"];
    for (const text of texts) await memory.knowledge.remember("p1", text, ["design"]);
    const hits = await memory.knowledge.recall("leap years need a special case", { projectId: "p1", k: 4 });
    assert.equal(hits[0]!.memory.text, "leap years need a special case");
    assert.ok(Math.abs(hits[0]!.score - 1) < 1e-4, `identical text scores ${hits[0]!.score}`);
    const [query] = await models.embed(["leap years need a special case"]);
    const stored = await store.collection("memories").find({ projectId: "p1" });
    const brute = stored.map((m) => ({ text: m.text, score: cosine(query!, m.embedding) })).sort((a, b) => b.score - a.score);
    assert.deepEqual(hits.map((h) => h.memory.text), brute.map((b) => b.text));
    hits.forEach((hit, i) => assert.ok(Math.abs(hit.score - brute[i]!.score) < 1e-4));
  });

  it("packs within budgets counted by the model's tokenizer, goal always first", async () => {
    for (let i = 0; i < 12; i++) await memory.transcript.record({ kind: "message", projectId: "p1", ticketId: "T-1", channel: "agents", from: i % 2 ? "developer" : "tester", text: `cycle ${i}: test for 2024-02-${10 + i} is red, then green` });
    for (const budget of [60, 90, 150, 250, 400]) {
      const packed = await memory.knowledge.packContext("developer", "T-1", { budget, k: 2 });
      const counted = await models.countTokens("developer", renderForCounting(packed.messages));
      assert.equal(packed.tokens, counted);
      assert.ok(counted <= budget, `budget ${budget}, packed ${counted}`);
      assert.match(packed.messages[0]!.content, /Goal: Parse ISO dates[\s\S]*- 2023-02-29 is refused/);
    }
  });

  it("summarizes older turns with the model once they pass 80% of its window", async () => {
    const long = "the parser rejected the input because the month field was out of range and the test stayed red";
    for (let i = 0; i < 30; i++) await memory.transcript.record({ kind: "event", projectId: "p1", ticketId: "T-1", from: "tester", text: `run ${i}: ${long}` });
    const packed = await memory.knowledge.packContext("developer", "T-1", { budget: 300, k: 0 });
    const turns = memory.transcript.recent("p1", { ticketId: "T-1" });
    assert.equal(turns[0]!.kind, "summary");
    assert.equal(turns.at(-1)!.text, `run 29: ${long}`);
    const verbatim = await models.countTokens("developer", turns.slice(1).map((t) => `user: [${t.from}] ${t.text}`).join("\n"));
    assert.ok(verbatim <= 0.4 * WINDOW + 40, `kept ${verbatim} tokens verbatim`);
    assert.ok(packed.tokens <= 300);
  });
});
