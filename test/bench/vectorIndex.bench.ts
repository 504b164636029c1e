// Top-10 cosine search over 100,000 vectors of 384 dimensions: VectorIndex against a naive scan
// over arrays of numbers (norms computed per comparison, all scores sorted), same data, same run.
import { VectorIndex } from "../../src/core/memory/vectorIndex";

const COUNT = Number(process.env.REDGREEN_BENCH_VECTORS) || 100_000;
const DIMS = 384;
const QUERIES = 15;

let seed = 1;
const next = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 30 - 1;
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function cosine(v: number[], query: number[]): number {
  let dot = 0, nv = 0, nq = 0;
  for (let d = 0; d < DIMS; d++) {
    dot += v[d]! * query[d]!;
    nv += v[d]! * v[d]!;
    nq += query[d]! * query[d]!;
  }
  return dot / Math.sqrt(nv * nq);
}

function naiveTop10(vectors: number[][], query: number[]): { i: number; score: number }[] {
  return vectors.map((v, i) => ({ i, score: cosine(v, query) })).sort((a, b) => b.score - a.score).slice(0, 10);
}

const vectors = Array.from({ length: COUNT }, () => Array.from({ length: DIMS }, next));
const index = new VectorIndex<number>(DIMS, COUNT);
vectors.forEach((v, i) => index.upsert(`v${i}`, v, i));
const queries = Array.from({ length: QUERIES }, () => Array.from({ length: DIMS }, next));

const ours: number[] = [];
const naive: number[] = [];
for (const query of queries) {
  let t = performance.now();
  const hits = index.search(query, 10).map((h) => h.meta);
  ours.push(performance.now() - t);
  t = performance.now();
  const expected = naiveTop10(vectors, query);
  naive.push(performance.now() - t);
  // Float32 storage may swap near-ties; every hit must be as good as the naive 10th best.
  const tenth = expected[9]!.score;
  if (hits.length !== 10 || hits.some((i) => cosine(vectors[i]!, query) < tenth - 1e-5)) {
    throw new Error("VectorIndex disagrees with the naive scan");
  }
}
console.log(`k-NN: top-10 of ${COUNT.toLocaleString("en")} vectors x ${DIMS} dims, median of ${QUERIES} queries`);
console.log(`  VectorIndex ${median(ours).toFixed(1)} ms (goal < 30 ms)   naive scan ${median(naive).toFixed(1)} ms   ratio ${(median(ours) / median(naive)).toFixed(3)}`);
