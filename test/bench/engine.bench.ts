// The engine's socket: what a store read costs through it (hello done, RemoteStore → Unix socket →
// the engine's store → back) against the same read on the store in this process. Both in one run,
// alternating, medians and p90 of single reads (the goal: p50 overhead under 1 ms).
// Then the model host, with the engine as users run it (dist/engine.js, a process of its own):
// streamed chat tokens per second through the engine (client → engine → its model host) against a
// model host of the client's own, alternating (goal ≥ 0.97); and the resident memory of two
// clients using one model through the engine's one host, against two hosts of their own with the
// model loaded in each (expect about half).
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readFileSync } from "node:fs";
import { EngineConnection } from "../../src/adapters/engine/engineClient";
import { EngineModelHost } from "../../src/adapters/engine/engineModelHost";
import { LocalModelBackend } from "../../src/adapters/llm/localBackend";
import { ModelHostProcess } from "../../src/adapters/llm/modelHostProcess";
import type { ModelLoadSpec } from "../../src/core/models/ports";
import { EngineMethods, statusResult } from "../../src/protocol/engine";
import { chatModel } from "../fixtures/models/makeModels";
import { RemoteStore } from "../../src/adapters/engine/remoteStore";
import type { Store } from "../../src/core/store/port";
import type { Project } from "../../src/core/store/records";
import { startEngine, type RunningEngine } from "../../src/engine/engine";
import { silent } from "../fixtures/kit";

const READS = 2000;
const ROUNDS = 3;
const root = path.join(os.tmpdir(), `redgreen-engine-bench-${process.pid}`);
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(values.length * q)]!;

const project: Project = {
  _id: "p1", name: "Bench", root: "/tmp/bench", priority: "high", state: "executing", testCommand: "npm test", specPath: "SPEC.md",
  createdAt: new Date(), updatedAt: new Date(),
};

/** Times single `get`s, one at a time, in milliseconds. */
async function reads(store: Store, count: number): Promise<number[]> {
  const projects = store.collection("projects");
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await projects.get("p1");
    times.push(performance.now() - start);
  }
  return times;
}

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const TOKENS = Number(process.env.REDGREEN_BENCH_TOKENS) || 96;
const RUNS = Number(process.env.REDGREEN_BENCH_RUNS) || 9;
const median = (values: number[]) => quantile(values, 0.5);
const packageVersion = (JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version;
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

/** Tokens per second after the first streamed token, for one greedy reply of TOKENS tokens. */
async function streamRate(backend: LocalModelBackend, id: string): Promise<number> {
  let first = 0;
  let pieces = 0;
  const result = await backend.chat(id, { messages: [{ role: "user", content: "Write a story about a red test turning green." }], maxTokens: TOKENS, temperature: 0, seed: 1 }, {
    onToken: () => {
      if (pieces++ === 0) first = performance.now();
    },
  });
  return (result.completionTokens - 1) / ((performance.now() - first) / 1000);
}

async function modelBench(): Promise<void> {
  const modelPath = await chatModel();
  const spec = (id: string): ModelLoadSpec => ({ id, path: modelPath, contextSize: 1024, threads: 2, gpuLayers: 0, poolSize: 1, embedding: false });
  const dataDir = `${root}-models`;
  const open = () => EngineConnection.open({ dataDir, entry: path.join(repoRoot, "dist", "engine.js"), version: packageVersion, client: "cli", log: silent });
  const clients = [await open(), await open()];
  const through = clients.map((connection) => new LocalModelBackend(new EngineModelHost(() => Promise.resolve(connection), silent, false)));
  const ownHosts = [0, 1].map(() => new ModelHostProcess({ entry: path.join(repoRoot, "dist", "modelHost.js"), log: silent }));
  const own = ownHosts.map((host) => new LocalModelBackend(host));
  for (const [i, backend] of through.entries()) await backend.load(spec(`client${i}`));
  for (const backend of own) await backend.load(spec("own"));
  const rates = { through: [] as number[], own: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    rates.own.push(await streamRate(own[0]!, "own"));
    rates.through.push(await streamRate(through[0]!, "client0"));
  }
  const [o, t] = [median(rates.own), median(rates.through)];
  console.log(`streamed tokens/s, a model host of its own: median ${o.toFixed(1)}; through the engine: median ${t.toFixed(1)}; ratio ${(t / o).toFixed(3)} (goal ≥ 0.97; ${RUNS} runs each, alternating, ${TOKENS} tokens); relay cost ${((1 / t - 1 / o) * 1000).toFixed(2)} ms per token`);
  const engineHost = (await clients[0]!.request(EngineMethods.status, {}, statusResult)).modelHost!;
  const shared = rssMb(engineHost.pid);
  const separate = (await Promise.all(own.map((backend) => backend.info()))).reduce((sum, info) => sum + rssMb(info.pid), 0);
  console.log(`resident memory, two clients on one model: one engine model host ${shared.toFixed(0)} MB (${engineHost.models.length} model loaded) against two hosts of their own ${separate.toFixed(0)} MB; ratio ${(shared / separate).toFixed(2)} (expect about 0.5)`);
  for (const backend of [...through, ...own]) backend.dispose();
  for (const host of ownHosts) host.dispose();
  await clients[1]!.stopEngine();
  clients[0]!.dispose();
  await fs.rm(dataDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  await fs.rm(root, { recursive: true, force: true });
  const engine = (await startEngine({ dataDir: root, log: silent, version: "bench", idleMs: 600_000 })) as RunningEngine;
  const client = await EngineConnection.open({ dataDir: root, version: "bench", client: "cli", log: silent });
  const remote = new RemoteStore(client, silent);
  await engine.store.collection("projects").insert(project);
  const local: number[] = [];
  const through: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    local.push(...(await reads(engine.store, READS)));
    through.push(...(await reads(remote, READS)));
  }
  const [l50, t50] = [quantile(local, 0.5), quantile(through, 0.5)];
  console.log(`store get in process: p50 ${(l50 * 1000).toFixed(0)} µs, p90 ${(quantile(local, 0.9) * 1000).toFixed(0)} µs`);
  console.log(`store get through the engine socket: p50 ${(t50 * 1000).toFixed(0)} µs, p90 ${(quantile(through, 0.9) * 1000).toFixed(0)} µs`);
  console.log(`engine overhead per request: p50 ${((t50 - l50) * 1000).toFixed(0)} µs (goal < 1000 µs), ratio ${(t50 / l50).toFixed(1)}`);
  client.dispose();
  await engine.stop();
  await fs.rm(root, { recursive: true, force: true });
  await modelBench();
}

// Exits when done: stdout and stderr piped to another process stay open once the model hosts are gone.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
