// The ModelManager over the real model host: structured replies and idle eviction, for real.
import * as assert from "node:assert/strict";
import path from "node:path";
import * as z from "zod";
import { LocalModelBackend } from "../../src/adapters/llm/localBackend";
import { ModelHostProcess } from "../../src/adapters/llm/modelHostProcess";
import { ModelManager, ModelReplyError } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import { chatModel } from "../fixtures/models/makeModels";
import { silent } from "../fixtures/kit";

const repoRoot = path.resolve(__dirname, "..", "..", "..");

describe("ModelManager with the real model host", function () {
  this.timeout(120_000);
  let host: ModelHostProcess;
  let backend: LocalModelBackend;
  let manager: ModelManager;

  before(async () => {
    const modelPath = await chatModel();
    host = new ModelHostProcess({ entry: path.join(repoRoot, "dist", "modelHost.js"), log: silent });
    backend = new LocalModelBackend(host);
    const registry = parseRegistry(
      {
        models: [
          { id: "small", backend: "local", path: modelPath, contextSize: 1024, poolSize: 2 },
          { id: "heavy", backend: "local", path: modelPath, contextSize: 1024, profile: "heavy", idleTtlSeconds: 1 },
        ],
        roles: { pm: { model: "small", fallback: "heavy" }, architect: { model: "heavy" } },
      },
      "test",
    );
    manager = new ModelManager(registry, { local: backend }, { defaultThreads: () => 2 });
  });

  after(() => {
    manager.dispose();
    backend.dispose();
    host.dispose();
  });

  it("returns a structured reply that was constrained, parsed and validated", async () => {
    const schema = z.object({ intent: z.enum(["approve", "change", "question", "other"]) });
    const result = await manager.ask("pm", { messages: [{ role: "user", content: "Looks good, go ahead." }], maxTokens: 40, seed: 7 }, { schema });
    assert.ok(["approve", "change", "question", "other"].includes(result.value.intent));
    const record = result.attempts.at(-1)!;
    assert.equal(record.outcome, "ok");
    assert.ok(record.promptTokens > 0 && record.completionTokens > 0 && record.totalMs > 0);
  });

  it("retries a reply the grammar allowed but zod rejects, then escalates, recording each attempt", async () => {
    // JSON-schema grammars do not enforce minimum/maximum (INFRA.md): only zod catches this.
    const schema = z.object({ year: z.number().int().min(2100).max(2101) });
    await assert.rejects(
      manager.ask("pm", { messages: [{ role: "user", content: "Which year?" }], maxTokens: 24, temperature: 0.9, seed: 11 }, { schema }),
      (error: Error) => {
        assert.ok(error instanceof ModelReplyError, error.message);
        assert.deepEqual(error.attempts.map((a) => [a.model, a.outcome, a.escalated]), [
          ["small", "invalid", false], ["small", "invalid", false], ["heavy", "invalid", true], ["heavy", "invalid", true],
        ]);
        return true;
      },
    );
  });

  it("runs heavy calls one after the other, and small calls side by side", async () => {
    const timeline = async (role: "architect" | "pm") => {
      const stamps: number[][] = [[], []];
      await Promise.all([0, 1].map((i) =>
        manager.ask(role, { messages: [{ role: "user", content: `Story ${i}` }], maxTokens: 24, temperature: 0.9, seed: 20 + i }, {
          onToken: () => stamps[i]!.push(performance.now()),
        })));
      const [a, b] = stamps as [number[], number[]];
      return { a, b, overlap: Math.min(a.at(-1)!, b.at(-1)!) > Math.max(a[0]!, b[0]!) };
    };
    const heavy = await timeline("architect");
    assert.ok(heavy.a.length > 1 && heavy.b.length > 1);
    assert.equal(heavy.overlap, false, "the heavy model's lock lets one call stream at a time");
    const small = await timeline("pm");
    assert.equal(small.overlap, true, "the small model's pool streams both calls at once");
  });

  it("unloads the heavy model from the host once it has been idle for its TTL", async () => {
    await manager.ask("architect", { messages: [{ role: "user", content: "Plan." }], maxTokens: 4 });
    assert.ok((await backend.info()).models.some((m) => m.id === "heavy"), "loaded for the call");
    await new Promise((resolve) => setTimeout(resolve, 1600));
    assert.ok(!(await backend.info()).models.some((m) => m.id === "heavy"), "evicted after 1 s idle");
    assert.ok((await backend.info()).models.some((m) => m.id === "small"), "small models stay");
  });
});
