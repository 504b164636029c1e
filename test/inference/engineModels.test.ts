// Real inference through the engine: one model host process (node-llama-cpp on a generated GGUF
// model) shared by two clients of one engine. A model both load with the same file and options is
// loaded once; tokens stream to the client that asked; a model stays while any client holds it; a
// client that hangs up lets go; a crash of the host is told to every client.
import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { EngineConnection } from "../../src/adapters/engine/engineClient";
import { EngineModelHost } from "../../src/adapters/engine/engineModelHost";
import { LocalModelBackend } from "../../src/adapters/llm/localBackend";
import type { Logger } from "../../src/core/logger";
import type { ModelLoadSpec } from "../../src/core/models/ports";
import { startEngine, type RunningEngine } from "../../src/engine/engine";
import { EngineMethods, statusResult } from "../../src/protocol/engine";
import { chatModel } from "../fixtures/models/makeModels";

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const quiet: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const THREADS = 2;

describe("The engine's model host, shared by its clients (real node-llama-cpp)", function () {
  this.timeout(120_000);
  const dataDir = path.join(os.tmpdir(), `redgreen-engine-models-${process.pid}`);
  let engine: RunningEngine;
  let chatPath: string;
  const connections: EngineConnection[] = [];
  const backends: LocalModelBackend[] = [];

  const client = async () => {
    const connection = await EngineConnection.open({ dataDir, version: "1.0.0", client: "cli", log: quiet });
    connections.push(connection);
    const backend = new LocalModelBackend(new EngineModelHost(() => Promise.resolve(connection), quiet, false));
    backends.push(backend);
    return { connection, backend };
  };
  const status = () => connections[0]!.request(EngineMethods.status, {}, statusResult);
  const spec = (id: string, contextSize = 1024): ModelLoadSpec => ({ id, path: chatPath, contextSize, threads: THREADS, gpuLayers: 0, poolSize: 2, embedding: false });
  const hello = { messages: [{ role: "user" as const, content: "Say hello." }], maxTokens: 16, temperature: 0, seed: 1 };

  before(async () => {
    chatPath = await chatModel();
    const started = await startEngine({ dataDir, log: quiet, version: "1.0.0", idleMs: 60_000, modelHostEntry: path.join(repoRoot, "dist", "modelHost.js") });
    assert.notEqual(started, "running");
    engine = started as RunningEngine;
  });
  after(async () => {
    for (const backend of backends) backend.dispose();
    for (const connection of connections) connection.dispose();
    await engine.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it("loads a model two clients ask for under their own names once, streams each its own reply, and keeps it while either holds it", async () => {
    const [a, b] = [await client(), await client()];
    await a.backend.load(spec("pm"));
    const second = await b.backend.load(spec("developer"));
    assert.equal(second.loadMs, 0, "the second load found the model loaded");
    const loaded = (await status()).modelHost;
    assert.ok(loaded && loaded.pid !== process.pid, "one model host process, not this one");
    assert.deepEqual(loaded.models.map((m) => m.id), ["pm"]);
    const pieces: [string[], string[]] = [[], []];
    const [replyA, replyB] = await Promise.all([
      a.backend.chat("pm", hello, { onToken: (text) => pieces[0].push(text) }),
      b.backend.chat("developer", hello, { onToken: (text) => pieces[1].push(text) }),
    ]);
    assert.ok(pieces[0].length > 1 && pieces[1].length > 1, "both streamed");
    assert.equal(pieces[0].join(""), replyA.text);
    assert.equal(pieces[1].join(""), replyB.text);
    await a.backend.unload("pm");
    assert.equal((await b.backend.chat("developer", hello)).completionTokens > 0, true, "b still has it");
    await assert.rejects(a.backend.chat("pm", hello), /not loaded/);
    b.connection.dispose();
    for (let i = 0; i < 100 && (await status()).modelHost?.models.length; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual((await status()).modelHost?.models, [], "the last holder hung up: unloaded");
  });

  it("loads the same name with other options as a model of its own, and a cancelled chat stops without harming the host", async () => {
    const { backend } = await client();
    const other = await client();
    await backend.load(spec("pm"));
    await other.backend.load(spec("pm", 512));
    assert.deepEqual((await status()).modelHost?.models.map((m) => m.id).sort(), ["pm", "pm#2"]);
    const long = { ...hello, maxTokens: 200 };
    const whole = (await backend.chat("pm", long)).completionTokens;
    assert.ok(whole >= 40, `the uncancelled reply is long enough to cut (${whole} tokens)`);
    const abort = new AbortController();
    const cancelled = backend.chat("pm", long, { signal: abort.signal, onToken: () => abort.abort() });
    const outcome = await cancelled.then((result) => result.completionTokens, (error: unknown) => error);
    if (typeof outcome === "number") assert.ok(outcome < whole / 2, `stopped early (${outcome} of ${whole} tokens)`);
    else assert.match(String(outcome), /cancel|abort/i);
    assert.ok((await backend.chat("pm", hello)).completionTokens > 0, "the host goes on serving");
  });

  it("tells every client when the host crashes, and their models load again", async () => {
    const [a, b] = [await client(), await client()];
    await a.backend.load(spec("pm"));
    await b.backend.load(spec("pm"));
    const resets: [number, number] = [0, 0];
    a.backend.onDidReset(() => void (resets[0] += 1));
    b.backend.onDidReset(() => void (resets[1] += 1));
    process.kill((await status()).modelHost!.pid, "SIGKILL");
    for (let i = 0; i < 200 && (resets[0] === 0 || resets[1] === 0); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(resets, [1, 1], "both clients heard of the crash");
    for (let i = 0; i < 150; i++) {
      if (await a.backend.load(spec("pm")).then(() => true, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok((await a.backend.chat("pm", hello)).completionTokens > 0, "loaded again in the restarted host");
  });
});
