// The ModelManager over the real model host: structured replies and idle eviction, for real.
import * as assert from "node:assert/strict";
import path from "node:path";
import * as z from "zod";
import { LocalModelBackend } from "../../src/adapters/llm/localBackend";
import { ModelHostProcess } from "../../src/adapters/llm/modelHostProcess";
import { ModelManager } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import { chatModel } from "../fixtures/models/makeModels";

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

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

  it("unloads the heavy model from the host once it has been idle for its TTL", async () => {
    await manager.ask("architect", { messages: [{ role: "user", content: "Plan." }], maxTokens: 4 });
    assert.ok((await backend.info()).models.some((m) => m.id === "heavy"), "loaded for the call");
    await new Promise((resolve) => setTimeout(resolve, 1600));
    assert.ok(!(await backend.info()).models.some((m) => m.id === "heavy"), "evicted after 1 s idle");
    assert.ok((await backend.info()).models.some((m) => m.id === "small"), "small models stay");
  });
});
