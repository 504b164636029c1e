// The engine's socket: what a store read costs through it (hello done, RemoteStore → Unix socket →
// the engine's store → back) against the same read on the store in this process. Both in one run,
// alternating, medians and p90 of single reads (the goal: p50 overhead under 1 ms).
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { EngineConnection } from "../../src/adapters/engine/engineClient";
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
}

void main();
