// Knowledge memory's nearest-neighbour search: vectors kept normalized in one Float32Array, so a
// cosine similarity is one dot product over contiguous memory, and the top k are kept in a small
// heap. Exact (not approximate); filters are evaluated per candidate before its dot product.

export interface VectorHit<M> {
  id: string;
  score: number;
  meta: M;
}

export class VectorIndex<M = undefined> {
  private data: Float32Array;
  private ids: string[] = [];
  private metas: M[] = [];
  private readonly slots = new Map<string, number>();

  constructor(readonly dimensions: number, initialCapacity = 1024) {
    if (!Number.isInteger(dimensions) || dimensions < 1) throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
    this.data = new Float32Array(dimensions * Math.max(1, initialCapacity));
  }

  get size(): number {
    return this.ids.length;
  }

  /** Adds or replaces the vector for `id`. A zero vector cannot have a direction and is refused. */
  upsert(id: string, vector: ArrayLike<number>, meta: M): void {
    const slot = this.slots.get(id) ?? this.grow(id);
    this.write(slot, vector);
    this.metas[slot] = meta;
  }

  remove(id: string): boolean {
    const slot = this.slots.get(id);
    if (slot === undefined) return false;
    const last = this.ids.length - 1;
    if (slot !== last) {
      // Move the last entry into the hole: the layout stays dense.
      this.data.copyWithin(slot * this.dimensions, last * this.dimensions, (last + 1) * this.dimensions);
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
    const d = this.dimensions;
    const data = this.data;
    for (let slot = 0; slot < this.ids.length; slot++) {
      if (filter && !filter(this.metas[slot]!, this.ids[slot]!)) continue;
      const dot = dotAt(data, slot * d, q, d);
      if (count < k) {
        heapScores[count] = dot;
        heapSlots[count] = slot;
        siftUp(heapScores, heapSlots, count++);
      } else if (dot > heapScores[0]!) {
        heapScores[0] = dot;
        heapSlots[0] = slot;
        siftDown(heapScores, heapSlots, count);
      }
    }
    const hits: VectorHit<M>[] = [];
    for (let i = 0; i < count; i++) {
      const slot = heapSlots[i]!;
      hits.push({ id: this.ids[slot]!, score: heapScores[i]!, meta: this.metas[slot]! });
    }
    return hits.sort((a, b) => b.score - a.score);
  }

  private grow(id: string): number {
    const slot = this.ids.length;
    if ((slot + 1) * this.dimensions > this.data.length) {
      const bigger = new Float32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.ids.push(id);
    this.slots.set(id, slot);
    return slot;
  }

  private write(slot: number, vector: ArrayLike<number>): void {
    this.data.set(normalized(vector, this.dimensions), slot * this.dimensions);
  }
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
