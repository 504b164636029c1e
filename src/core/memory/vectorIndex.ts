// Knowledge memory's nearest-neighbour search: vectors kept normalized in one Float32Array, so a
// cosine similarity is one dot product over contiguous memory, and the top k are kept in a small
// heap. Exact (not approximate). Where WebAssembly SIMD is available the rows live in a wasm
// memory and a kernel (simdDot.ts) scores them a chunk at a time, about six times faster than
// scalar JS; otherwise the same layout is scored in JS. Either way the selection is made here,
// and the hits' scores are recomputed in double precision, so both paths return the same numbers.
import { createDotKernel, type DotKernel, WASM_MAX_BYTES, WASM_PAGE_BYTES } from "./simdDot";

export interface VectorHit<M> {
  id: string;
  score: number;
  meta: M;
}

/** Rows scored per kernel call: their scores (4 KiB) stay in L1 while the heap reads them. */
const CHUNK_ROWS = 1024;
/** Cache-line alignment for the areas in wasm memory. */
const ALIGN = 64;

export class VectorIndex<M = undefined> {
  /** Floats per row: dimensions rounded up to a multiple of 4 and zero-padded, as the kernel reads four at a time. */
  private readonly stride: number;
  private ids: string[] = [];
  private metas: M[] = [];
  private readonly slots = new Map<string, number>();
  private capacity = 0;
  /** The rows, `stride` floats apart: a view on the kernel's memory, or a plain array without one. */
  private data!: Float32Array;
  /** The kernel's inputs and outputs (views on its memory, remade whenever it grows), or plain arrays. */
  private query!: Float32Array;
  private scores!: Float32Array;
  private kernel: DotKernel | undefined;
  // Kernel memory layout: the query at byte 0, then the chunk's scores, then the rows.
  private readonly scoresAt: number;
  private readonly dataAt: number;

  constructor(readonly dimensions: number, initialCapacity = 1024) {
    if (!Number.isInteger(dimensions) || dimensions < 1) throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
    this.stride = Math.ceil(dimensions / 4) * 4;
    this.scoresAt = alignUp(this.stride * 4);
    this.dataAt = alignUp(this.scoresAt + CHUNK_ROWS * 4);
    const capacity = Math.max(1, Math.ceil(initialCapacity) || 1);
    this.kernel = createDotKernel();
    if (!this.kernel || !this.reserveInKernel(this.kernel, capacity)) this.useArrays(capacity);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Adds or replaces the vector for `id`. A zero vector cannot have a direction and is refused. */
  upsert(id: string, vector: ArrayLike<number>, meta: M): void {
    const unit = normalized(vector, this.dimensions); // before allocating: a refused vector leaves no slot behind
    const slot = this.slots.get(id) ?? this.allocate(id);
    this.data.set(unit, slot * this.stride);
    this.metas[slot] = meta;
  }

  remove(id: string): boolean {
    const slot = this.slots.get(id);
    if (slot === undefined) return false;
    const last = this.ids.length - 1;
    if (slot !== last) {
      // Move the last entry into the hole: the layout stays dense. Whole rows move, so padding stays zero.
      this.data.copyWithin(slot * this.stride, last * this.stride, (last + 1) * this.stride);
      this.ids[slot] = this.ids[last]!;
      this.metas[slot] = this.metas[last]!;
      this.slots.set(this.ids[slot], slot);
    }
    this.ids.pop();
    this.metas.pop();
    this.slots.delete(id);
    return true;
  }

  /** The k entries most similar to `query` (cosine), best first, among those `filter` accepts. */
  search(query: ArrayLike<number>, k: number, filter?: (meta: M, id: string) => boolean): VectorHit<M>[] {
    const q = normalized(query, this.dimensions);
    const heapScores = new Float64Array(k);
    const heapSlots = new Int32Array(k);
    let count = 0;
    this.query.set(q);
    const { ids, metas } = this;
    for (let start = 0; start < ids.length; start += CHUNK_ROWS) {
      const rows = Math.min(CHUNK_ROWS, ids.length - start);
      this.scoreChunk(start, rows);
      const scores = this.scores;
      for (let i = 0; i < rows; i++) {
        const score = scores[i]!;
        // The filter is asked only about rows that would make the top k: most never get that far.
        if (count === k && !(score > heapScores[0]!)) continue;
        const slot = start + i;
        if (filter && !filter(metas[slot]!, ids[slot]!)) continue;
        if (count < k) {
          heapScores[count] = score;
          heapSlots[count] = slot;
          siftUp(heapScores, heapSlots, count++);
        } else {
          heapScores[0] = score;
          heapSlots[0] = slot;
          siftDown(heapScores, heapSlots, count);
        }
      }
    }
    const hits: VectorHit<M>[] = [];
    for (let i = 0; i < count; i++) {
      const slot = heapSlots[i]!;
      // The kernel sums in float32; the reported score is summed in double, as the JS path does.
      hits.push({ id: ids[slot]!, score: dotAt(this.data, slot * this.stride, q, this.dimensions), meta: metas[slot]! });
    }
    return hits.sort((a, b) => b.score - a.score);
  }

  /** Writes the scores of rows start..start+rows against `this.query` to `this.scores`. */
  private scoreChunk(start: number, rows: number): void {
    if (this.kernel) {
      this.kernel.dots(0, this.dataAt + start * this.stride * 4, this.stride, rows, this.scoresAt);
      return;
    }
    const { data, query, scores, stride, dimensions } = this;
    for (let i = 0; i < rows; i++) scores[i] = dotAt(data, (start + i) * stride, query, dimensions);
  }

  private allocate(id: string): number {
    const slot = this.ids.length;
    if (slot >= this.capacity) {
      const wanted = this.capacity * 2;
      if (!this.kernel || !this.reserveInKernel(this.kernel, wanted)) this.useArrays(wanted);
    }
    this.ids.push(id);
    this.slots.set(id, slot);
    return slot;
  }

  /** Grows the kernel's memory to hold `rows` rows; false if it cannot (the 4 GiB limit, or no address space). */
  private reserveInKernel(kernel: DotKernel, rows: number): boolean {
    const needed = this.dataAt + rows * this.stride * 4;
    const have = kernel.memory.buffer.byteLength;
    if (needed > have) {
      if (needed > WASM_MAX_BYTES) return false;
      try {
        kernel.memory.grow(Math.ceil((needed - have) / WASM_PAGE_BYTES));
      } catch {
        return false;
      }
    }
    // Growing detached the old buffer and every view on it.
    const buffer = kernel.memory.buffer;
    this.capacity = Math.floor((buffer.byteLength - this.dataAt) / (this.stride * 4));
    this.data = new Float32Array(buffer, this.dataAt, this.capacity * this.stride);
    this.query = new Float32Array(buffer, 0, this.stride);
    this.scores = new Float32Array(buffer, this.scoresAt, CHUNK_ROWS);
    return true;
  }

  /** Moves to plain arrays of `rows` rows (keeping the entries) and scores in JS from then on. */
  private useArrays(rows: number): void {
    const data = new Float32Array(rows * this.stride);
    if (this.data) data.set(this.data.subarray(0, this.ids.length * this.stride));
    this.kernel = undefined;
    this.capacity = rows;
    this.data = data;
    this.query = new Float32Array(this.stride);
    this.scores = new Float32Array(CHUNK_ROWS);
  }
}

function alignUp(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

/** Dot product of data[base..base+d) with q; independent accumulators let the CPU overlap work. */
function dotAt(data: Float32Array, base: number, q: Float32Array, d: number): number {
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  let i = 0;
  for (; i + 7 < d; i += 8) {
    const o = base + i;
    a0 += data[o]! * q[i]!;
    a1 += data[o + 1]! * q[i + 1]!;
    a2 += data[o + 2]! * q[i + 2]!;
    a3 += data[o + 3]! * q[i + 3]!;
    a4 += data[o + 4]! * q[i + 4]!;
    a5 += data[o + 5]! * q[i + 5]!;
    a6 += data[o + 6]! * q[i + 6]!;
    a7 += data[o + 7]! * q[i + 7]!;
  }
  for (; i < d; i++) a0 += data[base + i]! * q[i]!;
  return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

function normalized(vector: ArrayLike<number>, dimensions: number): Float32Array {
  if (vector.length !== dimensions) throw new RangeError(`expected a vector of ${dimensions} dimensions, got ${vector.length}`);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) norm += vector[i]! * vector[i]!;
  norm = Math.sqrt(norm);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new RangeError("a zero or non-finite vector has no direction");
  const out = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) out[i] = vector[i]! / norm;
  return out;
}

// A min-heap on scores: its root is the weakest of the current top k.
function siftUp(scores: Float64Array, slots: Int32Array, i: number): void {
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (scores[parent]! <= scores[i]!) return;
    swap(scores, slots, i, parent);
    i = parent;
  }
}

function siftDown(scores: Float64Array, slots: Int32Array, size: number): void {
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    const right = left + 1;
    let smallest = i;
    if (left < size && scores[left]! < scores[smallest]!) smallest = left;
    if (right < size && scores[right]! < scores[smallest]!) smallest = right;
    if (smallest === i) return;
    swap(scores, slots, i, smallest);
    i = smallest;
  }
}

function swap(scores: Float64Array, slots: Int32Array, a: number, b: number): void {
  [scores[a], scores[b]] = [scores[b]!, scores[a]!];
  [slots[a], slots[b]] = [slots[b]!, slots[a]!];
}
