// npm run bench: generation speed through Redgreen's model host against raw node-llama-cpp,
// measured in one run on the same generated model (Qwen2-0.5B's shape, Q8_0), with the same
// threads, prompt, seed and greedy decoding; runs alternate and never overlap.
import os from "node:os";
import path from "node:path";
import { LocalModelBackend } from "../../src/adapters/llm/localBackend";
import { ModelHostProcess } from "../../src/adapters/llm/modelHostProcess";
import { ModelManager } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import { chatModel, QWEN2_05B } from "../fixtures/models/makeModels";

const THREADS = Number(process.env.REDGREEN_BENCH_THREADS) || Math.min(2, os.availableParallelism());
const TOKENS = Number(process.env.REDGREEN_BENCH_TOKENS) || 96;
const RUNS = Number(process.env.REDGREEN_BENCH_RUNS) || 5;
const PROMPT = "Write a short story about a test that was red and then turned green.";
const CONTEXT = 1024;
const repoRoot = path.resolve(__dirname, "..", "..", "..");

interface Run {
  firstTokenMs: number;
  tokens: number;
  /** Tokens per second after the first token (generation only). */
  tokensPerSecond: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function summarize(runs: Run[]) {
  return {
    firstTokenMs: median(runs.map((r) => r.firstTokenMs)),
    tokensPerSecond: median(runs.map((r) => r.tokensPerSecond)),
    tokens: median(runs.map((r) => r.tokens)),
  };
}

type Runner = { loadMs: number; run(): Promise<Run>; dispose(): Promise<void> };

async function raw(modelPath: string): Promise<Runner> {
  const { getLlama, LlamaChatSession, LlamaLogLevel } = await import("node-llama-cpp");
  // Load time counts library start-up too, as the host's does (it starts llama.cpp lazily).
  const started = performance.now();
  const llama = await getLlama({ build: "never", gpu: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: CONTEXT, threads: THREADS });
  const loadMs = performance.now() - started;
  const sequence = context.getSequence();
  return {
    loadMs,
    async run() {
      // The clock starts where the host's does: before the chat session is set up.
      const begin = performance.now();
      const session = new LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
      // The same conversation the host builds: only the caller's messages, no default system prompt.
      session.setChatHistory([]);
      let first = 0;
      const before = sequence.tokenMeter.usedOutputTokens;
      await session.prompt(PROMPT, { maxTokens: TOKENS, temperature: 0, seed: 1, onTextChunk: () => (first ||= performance.now()) });
      const end = performance.now();
      const tokens = sequence.tokenMeter.usedOutputTokens - before;
      session.dispose({ disposeSequence: false });
      await sequence.clearHistory();
      return { firstTokenMs: first - begin, tokens, tokensPerSecond: (tokens - 1) / ((end - first) / 1000) };
    },
    async dispose() {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

async function throughHost(modelPath: string): Promise<Runner> {
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const host = new ModelHostProcess({ entry: path.join(repoRoot, "dist", "modelHost.js"), log: silent, gpu: false });
  const backend = new LocalModelBackend(host);
  const registry = parseRegistry(
    { models: [{ id: "bench", backend: "local", path: modelPath, contextSize: CONTEXT, threads: THREADS, poolSize: 1 }], roles: { pm: { model: "bench" } } },
    "bench",
  );
  const manager = new ModelManager(registry, { local: backend }, { defaultThreads: () => THREADS });
  await backend.info(); // start the process first: its start-up is not model load time
  const started = performance.now();
  await manager.countTokens("pm", "warm"); // loads the model
  const loadMs = performance.now() - started;
  return {
    loadMs,
    async run() {
      const begin = performance.now();
      let first = 0;
      const { attempts } = await manager.ask(
        "pm",
        { messages: [{ role: "user", content: PROMPT }], maxTokens: TOKENS, temperature: 0, seed: 1 },
        { onToken: () => (first ||= performance.now()) },
      );
      const end = performance.now();
      const tokens = attempts.at(-1)!.completionTokens;
      return { firstTokenMs: first - begin, tokens, tokensPerSecond: (tokens - 1) / ((end - first) / 1000) };
    },
    dispose() {
      manager.dispose();
      backend.dispose();
      host.dispose();
      return Promise.resolve();
    },
  };
}

async function main(): Promise<void> {
  const modelPath = await chatModel(QWEN2_05B, "qwen2-0.5b-q8_0.gguf");
  console.log(`model: ${path.basename(modelPath)} (Qwen2-0.5B shape, Q8_0, random weights), threads: ${THREADS}, ${TOKENS} tokens x ${RUNS} runs each (medians), greedy`);
  const baseline = await raw(modelPath);
  const ours = await throughHost(modelPath);
  // Alternate, after one unmeasured warm-up each, so that warm-up, caches and clock changes
  // weigh on both sides alike; calls never overlap.
  await baseline.run();
  await ours.run();
  const baseRuns: Run[] = [];
  const ourRuns: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    baseRuns.push(await baseline.run());
    ourRuns.push(await ours.run());
  }
  await baseline.dispose();
  await ours.dispose();
  const b = summarize(baseRuns);
  const o = summarize(ourRuns);
  const row = (name: string, load: number, s: ReturnType<typeof summarize>) =>
    console.log(`${name.padEnd(34)} load ${load.toFixed(0).padStart(6)} ms   first token ${s.firstTokenMs.toFixed(0).padStart(5)} ms   ${s.tokensPerSecond.toFixed(2).padStart(6)} tok/s   (${s.tokens} tokens)`);
  row("raw node-llama-cpp, in process", baseline.loadMs, b);
  row("ModelManager -> model host process", ours.loadMs, o);
  console.log(`generation throughput ratio (host / raw): ${(o.tokensPerSecond / b.tokensPerSecond).toFixed(3)}   (goal >= 0.97)`);
  console.log(`extra time to first token: ${(o.firstTokenMs - b.firstTokenMs).toFixed(1)} ms`);
  console.log(`model load time ratio (host / raw): ${(ours.loadMs / baseline.loadMs).toFixed(3)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
