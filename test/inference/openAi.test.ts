// The OpenAI-compatible backend against a real server: the model host's own endpoint on loopback.
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import path from "node:path";
import * as z from "zod";
import { LocalModelBackend } from "../../src/adapters/llm/localBackend";
import { ModelHostProcess } from "../../src/adapters/llm/modelHostProcess";
import { OpenAiBackend } from "../../src/adapters/llm/openAiBackend";
import { ModelManager } from "../../src/core/models/manager";
import type { ModelLoadSpec } from "../../src/core/models/ports";
import { parseRegistry } from "../../src/core/models/registry";
import { chatModel, embeddingModel } from "../fixtures/models/makeModels";
import { silent } from "../fixtures/kit";

/** A loopback port nothing listens on (just released). */
function freedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const repoRoot = path.resolve(__dirname, "..", "..", "..");

describe("OpenAI-compatible backend against the model host's endpoint", function () {
  this.timeout(120_000);
  const token = randomBytes(24).toString("hex");
  let host: ModelHostProcess;
  let local: LocalModelBackend;
  let url: string;
  const remote = new OpenAiBackend({ REDGREEN_TOKEN: token, WRONG_TOKEN: "not-the-token-at-all" });
  const spec = (over: Partial<ModelLoadSpec> = {}): ModelLoadSpec => ({
    id: "remote-chat", path: url, remoteModel: "chat", apiKeyEnv: "REDGREEN_TOKEN",
    contextSize: 1024, threads: 2, gpuLayers: 0, poolSize: 1, embedding: false, ...over,
  });

  before(async () => {
    host = new ModelHostProcess({ entry: path.join(repoRoot, "dist", "modelHost.js"), log: silent });
    local = new LocalModelBackend(host);
    await local.load({ id: "chat", path: await chatModel(), contextSize: 1024, threads: 2, gpuLayers: 0, poolSize: 2, embedding: false });
    await local.load({ id: "embed", path: await embeddingModel(), contextSize: 512, threads: 2, gpuLayers: 0, poolSize: 1, embedding: true });
    url = `http://127.0.0.1:${await local.serve(0, token)}/v1`;
    await remote.load(spec());
  });

  after(() => {
    local.dispose();
    host.dispose();
  });

  it("streams a chat completion over HTTP, with usage", async () => {
    const pieces: string[] = [];
    const result = await remote.chat("remote-chat", { messages: [{ role: "user", content: "Hello" }], maxTokens: 16, temperature: 0 }, { onToken: (t) => pieces.push(t) });
    assert.ok(pieces.length > 1);
    assert.equal(pieces.join(""), result.text);
    assert.ok(result.promptTokens > 0 && result.completionTokens > 0);
  });

  it("honours a JSON-schema response format", async () => {
    const schema = z.object({ verdict: z.enum(["approve", "reject"]) });
    const result = await remote.chat("remote-chat", {
      messages: [{ role: "user", content: "Verdict?" }], maxTokens: 30, temperature: 0.5, seed: 4,
      jsonSchema: z.toJSONSchema(schema),
    });
    assert.ok(schema.safeParse(JSON.parse(result.text)).success, result.text);
  });

  it("stops when cancelled mid-stream", async () => {
    const abort = new AbortController();
    let n = 0;
    const result = await remote.chat("remote-chat", { messages: [{ role: "user", content: "Go on and on." }], maxTokens: 2000, temperature: 0.9 }, {
      signal: abort.signal,
      onToken: () => { if (++n === 3) abort.abort(); },
    });
    assert.equal(result.stopReason, "cancelled");
    assert.ok(result.text.length > 0);
  });

  it("embeds over HTTP, matching the host's own vectors", async () => {
    await remote.load(spec({ id: "remote-embed", remoteModel: "embed", embedding: true }));
    const [overHttp] = await remote.embed("remote-embed", ["red green refactor"]);
    const [direct] = await local.embed("embed", ["red green refactor"]);
    assert.equal(overHttp!.length, 64);
    assert.deepEqual(overHttp, direct);
  });

  it("counts tokens exactly through the server's tokenizer", async () => {
    const text = "The tester writes one failing test.";
    assert.equal(await remote.countTokens("remote-chat", text), await local.countTokens("chat", text));
  });

  it("serves the ModelManager like any backend", async () => {
    const registry = parseRegistry(
      { models: [{ id: "srv", backend: "openai", url, model: "chat", apiKeyEnv: "REDGREEN_TOKEN" }], roles: { pm: { model: "srv" } } },
      "test",
    );
    const manager = new ModelManager(registry, { openai: remote }, { defaultThreads: () => 2 });
    const answer = await manager.ask("pm", { messages: [{ role: "user", content: "Hi" }], maxTokens: 6 });
    assert.equal(answer.model, "srv");
    assert.ok(answer.attempts[0]!.completionTokens > 0);
    manager.dispose();
  });

  it("explains a wrong token, an unknown model and an unreachable server", async () => {
    await assert.rejects(remote.load(spec({ id: "x", apiKeyEnv: "WRONG_TOKEN" })), /answered GET \/models with 401: Missing or wrong bearer token/);
    await assert.rejects(remote.load(spec({ id: "y", remoteModel: "gpt-9" })), /does not offer the model "gpt-9" \(it offers: chat, embed\)/);
    const closed = await freedPort();
    await assert.rejects(remote.load(spec({ id: "z", path: `http://127.0.0.1:${closed}/v1` })), new RegExp(`Cannot reach the model server at http://127\\.0\\.0\\.1:${closed}/v1: ECONNREFUSED`));
    await assert.rejects(remote.load(spec({ id: "w", apiKeyEnv: "UNSET_VARIABLE" })), /environment variable UNSET_VARIABLE, which is not set/);
  });
});
