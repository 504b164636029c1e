// Real inference: the model host process running node-llama-cpp on generated GGUF models.
import * as assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as z from "zod";
import { LocalModelBackend } from "../../src/adapters/llm/localBackend";
import { ModelHostCrashedError, ModelHostProcess } from "../../src/adapters/llm/modelHostProcess";
import type { Logger } from "../../src/core/logger";
import type { ModelLoadSpec } from "../../src/core/models/ports";
import { chatModel, embeddingModel } from "../fixtures/models/makeModels";

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const THREADS = 2; // this machine has 2 cores; node-llama-cpp's default would oversubscribe them

const quietLog: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

function startHost() {
  const host = new ModelHostProcess({ entry: path.join(repoRoot, "dist", "modelHost.js"), log: quietLog, restartDelayMs: 100 });
  return { host, backend: new LocalModelBackend(host) };
}

describe("model host (real node-llama-cpp)", function () {
  this.timeout(120_000);
  let chatPath: string;
  let embeddingPath: string;
  let host: ModelHostProcess;
  let backend: LocalModelBackend;
  const chatSpec = (): ModelLoadSpec => ({
    id: "chat", path: chatPath, contextSize: 1024, threads: THREADS, gpuLayers: 0, poolSize: 2, embedding: false,
  });

  before(async () => {
    chatPath = await chatModel();
    embeddingPath = await embeddingModel();
    ({ host, backend } = startHost());
    await backend.load(chatSpec());
  });

  after(() => {
    backend.dispose();
    host.dispose();
  });

  it("streams a chat reply token by token, and the pieces make the reply", async () => {
    const pieces: string[] = [];
    const result = await backend.chat(
      "chat",
      { messages: [{ role: "user", content: "Say hello." }], maxTokens: 24, temperature: 0, seed: 1 },
      { onToken: (text) => pieces.push(text) },
    );
    assert.ok(pieces.length > 1, `expected several streamed pieces, got ${pieces.length}`);
    assert.equal(pieces.join(""), result.text);
    assert.ok(result.completionTokens > 0 && result.completionTokens <= 24);
    assert.ok(result.promptTokens > 3, "the ChatML prompt has tokens");
    assert.ok(result.firstTokenMs !== undefined && result.firstTokenMs <= result.totalMs);
  });

  it("stops generating when cancelled mid-stream", async () => {
    const abort = new AbortController();
    let pieces = 0;
    const result = await backend.chat(
      "chat",
      { messages: [{ role: "user", content: "Write a long story." }], maxTokens: 2000, temperature: 0.8, seed: 2 },
      { signal: abort.signal, onToken: () => { if (++pieces === 3) abort.abort(); } },
    );
    assert.equal(result.stopReason, "cancelled");
    assert.ok(result.completionTokens < 2000, `generated ${result.completionTokens} tokens`);
  });

  it("constrains output to a JSON schema, and the reply parses and validates", async () => {
    const verdict = z.object({ verdict: z.enum(["approve", "reject"]), confidence: z.enum(["low", "high"]) });
    const result = await backend.chat("chat", {
      messages: [{ role: "user", content: "Approve or reject?" }],
      maxTokens: 60,
      temperature: 0.7,
      seed: 3,
      jsonSchema: z.toJSONSchema(verdict),
    });
    const parsed = verdict.safeParse(JSON.parse(result.text));
    assert.ok(parsed.success, `reply ${result.text} did not validate`);
  });

  it("serves two calls at once from its pool of sequences", async () => {
    const ask = (seed: number) =>
      backend.chat("chat", { messages: [{ role: "user", content: `Count to ${seed}.` }], maxTokens: 12, temperature: 0, seed });
    const [a, b] = await Promise.all([ask(4), ask(5)]);
    assert.ok(a.completionTokens > 0 && b.completionTokens > 0);
    const info = await backend.info();
    assert.deepEqual(info.models.map((m) => [m.id, m.sequences, m.busy]), [["chat", 2, 0]]);
  });

  it("counts tokens with the model's own tokenizer", async () => {
    const one = await backend.countTokens("chat", "hello");
    const many = await backend.countTokens("chat", "hello hello hello hello");
    assert.ok(one >= 1 && many > one);
  });

  it("embeds text into vectors of the model's dimension, the same for the same text", async () => {
    await backend.load({ id: "embed", path: embeddingPath, contextSize: 512, threads: THREADS, gpuLayers: 0, poolSize: 1, embedding: true });
    const [a, b, c] = await backend.embed("embed", ["red green refactor", "red green refactor", "a different sentence"]);
    assert.equal(a!.length, 64);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it("gives a clear error for a missing or corrupted model file, and keeps working", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "redgreen-bad-model-"));
    try {
      await assert.rejects(backend.load({ ...chatSpec(), id: "missing", path: path.join(dir, "nope.gguf") }), /nope\.gguf: no such file/);
      const corrupt = path.join(dir, "corrupt.gguf");
      writeFileSync(corrupt, readFileSync(chatPath).subarray(0, 100_000));
      await assert.rejects(backend.load({ ...chatSpec(), id: "corrupt", path: corrupt }), /corrupt\.gguf is not a usable model file/);
      const again = await backend.chat("chat", { messages: [{ role: "user", content: "Still there?" }], maxTokens: 4 });
      assert.ok(again.completionTokens > 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("survives the host being killed with SIGKILL mid-call: clear error, restart, next call works", async () => {
    const { host: victim, backend: local } = startHost();
    try {
      await local.load(chatSpec());
      let resets = 0;
      local.onDidReset(() => resets++);
      const states: string[] = [];
      victim.onDidChangeState((state) => states.push(state));
      const call = local.chat(
        "chat",
        { messages: [{ role: "user", content: "Talk for a long time." }], maxTokens: 4000, temperature: 0.8, seed: 9 },
        { onToken: () => victim.kill("SIGKILL") },
      );
      await assert.rejects(call, (error: Error) => {
        assert.ok(error instanceof ModelHostCrashedError, `got ${error.constructor.name}: ${error.message}`);
        assert.match(error.message, /killed by SIGKILL.*restarts by itself/);
        return true;
      });
      assert.equal(resets, 1, "the backend reports that its models are gone");
      await local.load(chatSpec());
      const after = await local.chat("chat", { messages: [{ role: "user", content: "Hello again." }], maxTokens: 4 });
      assert.ok(after.completionTokens > 0);
      assert.deepEqual(states.slice(0, 3), ["crashed", "starting", "ready"]);
    } finally {
      local.dispose();
      victim.dispose();
    }
  });
});

describe("model host start-up", () => {
  it("says why it could not start, and tries again on the next call", async () => {
    const host = new ModelHostProcess({ entry: "/nonexistent/modelHost.js", execPath: "/nonexistent/node", log: quietLog });
    const backend = new LocalModelBackend(host);
    const starts: string[] = [];
    host.onDidChangeState((state) => { if (state === "starting") starts.push(state); });
    try {
      await assert.rejects(backend.info(), /Could not start the model host \(\/nonexistent\/node\): spawn \/nonexistent\/node ENOENT/);
      await assert.rejects(backend.info(), /Could not start the model host/);
      assert.equal(starts.length, 2, "the second call tried to start the host again");
      assert.equal(host.state, "stopped");
    } finally {
      backend.dispose();
      host.dispose();
    }
  });
});
