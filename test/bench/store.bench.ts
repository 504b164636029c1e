// The embedded store: durable appends per second, and the time to reload 10,000 working-memory
// entries after a restart. Baselines measured in the same run on the same disk:
// - appends: a bare loop of fs write + fdatasync per line (what durability costs at least);
// - reload: reading the same files and JSON.parse of each line (what loading costs at least).
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { openEmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { noModels } from "../fixtures/kit";

const SEQUENTIAL = 400;
const CONCURRENT = 4000;
const WRITERS = 16;
const WORKING = 10_000;
const root = path.join(os.tmpdir(), `redgreen-store-bench-${process.pid}`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const text = "the tester ran the suite: 14 passed, 1 failed (parseDate rejects 2024-02-29)";

let n = 0;
const doc = () => ({ _id: `c${++n}`, projectId: "p1", channel: "agents" as const, from: "tester", text, at: new Date() });

async function rawAppends(file: string, count: number): Promise<number> {
  const handle = await fs.open(file, "a");
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    await handle.write(`${JSON.stringify({ put: doc() })}\n`);
    await handle.datasync();
  }
  const seconds = (performance.now() - start) / 1000;
  await handle.close();
  return count / seconds;
}

async function storeAppends(dir: string, count: number, writers: number): Promise<number> {
  const store = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
  const conversations = store.collection("conversations");
  let left = count;
  const start = performance.now();
  await Promise.all(Array.from({ length: writers }, async () => {
    while (left-- > 0) await conversations.insert(doc());
  }));
  const seconds = (performance.now() - start) / 1000;
  await store.close();
  return count / seconds;
}

async function main(): Promise<void> {
  await fs.mkdir(root, { recursive: true });
  const raw: number[] = [], sequential: number[] = [], concurrent: number[] = [];
  for (let run = 0; run < 3; run++) {
    raw.push(await rawAppends(path.join(root, `raw${run}.jsonl`), SEQUENTIAL));
    sequential.push(await storeAppends(path.join(root, `seq${run}`), SEQUENTIAL, 1));
    concurrent.push(await storeAppends(path.join(root, `con${run}`), CONCURRENT, WRITERS));
  }
  const r = median(raw), s = median(sequential), c = median(concurrent);
  console.log(`durable appends, one writer: store ${s.toFixed(0)}/s, bare write+fdatasync ${r.toFixed(0)}/s, ratio ${(s / r).toFixed(2)}`);
  console.log(`durable appends, ${WRITERS} writers (group commit): store ${c.toFixed(0)}/s, ratio to bare one-by-one ${(c / r).toFixed(2)}`);

  // Working memory: 10,000 entries written through the Memory Manager, then reopened.
  const dir = path.join(root, "working");
  let store = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
  const memory = await MemoryManager.open({ store, models: noModels, workingCapacity: WORKING });
  let left = WORKING;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (left-- > 0) await memory.transcript.record({ kind: "event", projectId: "p1", ticketId: "T-1", from: "tester", text });
  }));
  await store.close();
  // Events also go to agent_logs, which the store loads too: the baseline parses both files.
  const files = ["conversations_current.jsonl", "agent_logs.jsonl"].map((name) => path.join(dir, name));
  const reload: number[] = [], parse: number[] = [];
  for (let run = 0; run < 5; run++) {
    let start = performance.now();
    let lines = 0;
    for (const file of files) lines += (await fs.readFile(file, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as unknown).length;
    parse.push(performance.now() - start);
    start = performance.now();
    store = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
    const reopened = await MemoryManager.open({ store, models: noModels, workingCapacity: WORKING });
    reload.push(performance.now() - start);
    if (reopened.transcript.recent("p1").length !== WORKING || lines !== 2 * WORKING) throw new Error("reload lost entries");
    await store.close();
  }
  const rl = median(reload), p = median(parse);
  console.log(`reload of ${WORKING} working entries (open store + Memory Manager): ${rl.toFixed(0)} ms, bare read+JSON.parse of its two files ${p.toFixed(0)} ms, ratio ${(rl / p).toFixed(1)}`);
  await fs.rm(root, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
