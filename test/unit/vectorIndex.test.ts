import * as assert from "node:assert/strict";
import { createDotKernel, SIMD_DOT_MODULE, WASM_PAGE_BYTES } from "../../src/core/memory/simdDot";
import { VectorIndex } from "../../src/core/memory/vectorIndex";
import { cosine } from "../fixtures/cosine";

/** Seeded numbers in [-1, 1). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return (s / 2 ** 30) - 1;
  };
}

interface Meta { project: string; tags: string[] }

/** The bits of the WebAssembly global these tests take away or break (lib "ES2022" does not declare it). */
interface WasmGlobals {
  WebAssembly?: { validate(bytes: Uint8Array): boolean; Memory: { prototype: { grow: (pages: number) => number } } };
}
const wasmGlobals = globalThis as unknown as WasmGlobals;

/**
 * Grows an index from capacity 1 (past several wasm pages), replaces and removes entries after the
 * growth, then checks ids, order and scores against a brute-force scan, with and without a filter.
 * `midway` runs between the first and second half of the inserts.
 */
function checkAgainstBruteForce(dims: number, count: number, midway: () => void = () => {}): void {
  const next = random(dims * 101 + count);
  const entries = new Map<string, { v: number[]; group: number }>();
  const index = new VectorIndex<number>(dims, 1);
  const put = (id: string, group: number) => {
    const v = Array.from({ length: dims }, next);
    entries.set(id, { v, group });
    index.upsert(id, v, group);
  };
  for (let i = 0; i < count / 2; i++) put(`e${i}`, i % 4);
  midway();
  for (let i = Math.ceil(count / 2); i < count; i++) put(`e${i}`, i % 4);
  for (let i = 0; i < count; i += 7) put(`e${i}`, 9); // replaced in place
  for (let i = 0; i < count; i += 3) {
    assert.equal(index.remove(`e${i}`), true);
    entries.delete(`e${i}`);
  }
  assert.equal(index.remove(`e${count - 1}`), entries.delete(`e${count - 1}`));
  for (let i = 0; i < count; i += 6) put(`e${i}`, 1); // back into the freed room
  assert.equal(index.size, entries.size);

  for (let q = 0; q < 10; q++) {
    const query = Array.from({ length: dims }, next);
    const keep = q % 2 === 0 ? undefined : (group: number) => group === 1;
    const expected = [...entries.entries()]
      .filter(([, e]) => !keep || keep(e.group))
      .map(([id, e]) => ({ id, score: cosine(query, e.v) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 10);
    const actual = index.search(query, 10, keep);
    assert.deepEqual(actual.map((h) => h.id), expected.map((h) => h.id));
    actual.forEach((hit, i) => assert.ok(Math.abs(hit.score - expected[i]!.score) < 1e-5, `${hit.score} vs ${expected[i]!.score}`));
    if (keep) assert.ok(actual.every((h) => h.meta === 1));
  }
}

describe("VectorIndex (knowledge memory k-NN)", () => {
  const dims = 32;
  const next = random(7);
  const vectors = new Map<string, { v: number[]; meta: Meta }>();
  const index = new VectorIndex<Meta>(dims, 4); // small capacity: exercises growth
  for (let i = 0; i < 2000; i++) {
    const v = Array.from({ length: dims }, next);
    const meta = { project: i % 3 === 0 ? "alpha" : "beta", tags: i % 5 === 0 ? ["decision"] : [] };
    vectors.set(`m${i}`, { v, meta });
    index.upsert(`m${i}`, v, meta);
  }

  function bruteForce(query: number[], k: number, keep: (meta: Meta) => boolean = () => true) {
    return [...vectors.entries()]
      .filter(([, e]) => keep(e.meta))
      .map(([id, e]) => ({ id, score: cosine(query, e.v) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
  }

  it("finds the same top k as a brute-force scan, best first", () => {
    for (let q = 0; q < 20; q++) {
      const query = Array.from({ length: dims }, next);
      const expected = bruteForce(query, 10);
      const actual = index.search(query, 10);
      assert.deepEqual(actual.map((h) => h.id), expected.map((h) => h.id));
      actual.forEach((hit, i) => assert.ok(Math.abs(hit.score - expected[i]!.score) < 1e-5));
    }
  });

  it("applies filters on project and tags", () => {
    const query = Array.from({ length: dims }, next);
    const keep = (m: Meta) => m.project === "alpha" && m.tags.includes("decision");
    assert.deepEqual(index.search(query, 5, keep).map((h) => h.id), bruteForce(query, 5, keep).map((h) => h.id));
    assert.ok(index.search(query, 5, keep).every((h) => h.meta.project === "alpha"));
  });

  it("replaces and removes entries, keeping results exact", () => {
    const local = new VectorIndex<null>(3);
    local.upsert("a", [1, 0, 0], null);
    local.upsert("b", [0, 1, 0], null);
    local.upsert("c", [0, 0, 1], null);
    local.upsert("a", [0, 0.9, 0.1], null);
    assert.deepEqual(local.search([0, 1, 0], 2).map((h) => h.id), ["b", "a"]);
    assert.equal(local.remove("b"), true);
    assert.equal(local.remove("b"), false);
    assert.equal(local.size, 2);
    assert.deepEqual(local.search([0, 1, 0], 3).map((h) => h.id), ["a", "c"]);
  });

  it("refuses vectors of the wrong size or with no direction", () => {
    const local = new VectorIndex<null>(3);
    assert.throws(() => local.upsert("x", [1, 2], null), /expected a vector of 3 dimensions, got 2/);
    assert.throws(() => local.upsert("x", [0, 0, 0], null), /no direction/);
    assert.throws(() => local.search([Number.NaN, 1, 1], 1), /no direction/);
    assert.equal(local.size, 0); // a refused vector leaves no empty slot behind
    assert.deepEqual(local.search([1, 1, 1], 3), []);
  });

  it("returns nothing for k = 0 and at most size hits", () => {
    const local = new VectorIndex<null>(5);
    local.upsert("a", [1, 2, 3, 4, 5], null);
    assert.deepEqual(local.search([1, 0, 0, 0, 0], 0), []);
    assert.deepEqual(local.search([1, 0, 0, 0, 0], 4).map((h) => h.id), ["a"]);
  });

  it("stays exact for dimensions not divisible by 4, through growth, replacement and removal", () => {
    checkAgainstBruteForce(37, 3000); // 40-float rows: the kernel's 16-wide part and its tail
    checkAgainstBruteForce(3, 1500); // shorter than one 16-float group
    checkAgainstBruteForce(20, 1200); // one 16-float group and one 4-float tail, no padding
    checkAgainstBruteForce(384, 2500); // the embedding size in use: 16-wide only
  });

  it("stays exact in plain JS where WebAssembly is unavailable", () => {
    const saved = wasmGlobals.WebAssembly;
    delete wasmGlobals.WebAssembly;
    try {
      assert.equal(createDotKernel(), undefined);
      checkAgainstBruteForce(37, 1500);
      checkAgainstBruteForce(384, 500);
    } finally {
      wasmGlobals.WebAssembly = saved;
    }
  });

  it("moves to plain JS, keeping its entries, when the wasm memory cannot grow", () => {
    const memory = wasmGlobals.WebAssembly!.Memory.prototype;
    const grow = memory.grow;
    let refused = 0;
    const breakGrowth = () => {
      memory.grow = () => {
        refused++;
        throw new RangeError("simulated: out of memory");
      };
    };
    try {
      checkAgainstBruteForce(37, 3000, breakGrowth);
      assert.ok(refused > 0);
    } finally {
      memory.grow = grow;
    }
  });
});

describe("simdDot (the wasm SIMD kernel)", () => {
  it("is valid where Node runs the tests, and refuses a damaged module", () => {
    assert.equal(wasmGlobals.WebAssembly!.validate(SIMD_DOT_MODULE), true);
    assert.ok(createDotKernel());
    const damaged = SIMD_DOT_MODULE.slice();
    damaged[damaged.length - 3] = 0xff;
    assert.equal(createDotKernel(damaged), undefined);
  });

  it("writes each row's dot product with the query, for every stride shape", () => {
    const next = random(3);
    for (const stride of [4, 8, 12, 16, 20, 36, 64, 68, 384]) {
      const kernel = createDotKernel()!;
      const rows = 9;
      const dataAt = 4096, outAt = 2048;
      kernel.memory.grow(Math.ceil((dataAt + rows * stride * 4) / WASM_PAGE_BYTES));
      const f32 = new Float32Array(kernel.memory.buffer);
      const scale = 1 / Math.sqrt(stride);
      for (let i = 0; i < stride; i++) f32[i] = next() * scale;
      for (let i = 0; i < rows * stride; i++) f32[dataAt / 4 + i] = next() * scale;
      f32[outAt / 4 + rows] = 42; // just past the last score: must stay untouched
      kernel.dots(0, dataAt, stride, rows, outAt);
      for (let r = 0; r < rows; r++) {
        let expected = 0;
        for (let i = 0; i < stride; i++) expected += f32[i]! * f32[dataAt / 4 + r * stride + i]!;
        assert.ok(Math.abs(f32[outAt / 4 + r]! - expected) < 1e-5, `stride ${stride}, row ${r}`);
      }
      assert.equal(f32[outAt / 4 + rows], 42);
      kernel.dots(0, dataAt, stride, 0, outAt + rows * 4); // no rows: writes nothing
      assert.equal(f32[outAt / 4 + rows], 42);
    }
  });
});
