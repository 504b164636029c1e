import * as assert from "node:assert/strict";
import { VectorIndex } from "../../src/core/memory/vectorIndex";

/** Seeded numbers in [-1, 1). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return (s / 2 ** 30) - 1;
  };
}

function cosine(a: number[], b: number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

interface Meta { project: string; tags: string[] }

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
  });
});
