// Reads a GGUF file's header, metadata and tensor table without loading its weights: enough to
// tell the user what a model is (architecture, size, quantization, context) and to refuse a file
// that is not a model with a clear reason. Format: github.com/ggml-org/ggml docs/gguf.md (v2, v3).

/** Random access to the file; the core does no I/O itself. */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export type GgufValue = number | bigint | boolean | string | GgufValue[] | { skippedArray: number };

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: number;
  offset: bigint;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufValue>;
  /** Each key's GGUF value type, and for arrays their item type (so a file can be rewritten exactly). */
  types: Map<string, [type: number, itemType?: number]>;
  tensors: GgufTensorInfo[];
  /** Where tensor data starts (aligned), so a writer or checker can verify the file's length. */
  dataOffset: number;
}

export class GgufError extends Error {}

const MAGIC = 0x46554747; // "GGUF" little-endian
export const ValueType = {
  U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, Bool: 7, String: 8, Array: 9, U64: 10, I64: 11, F64: 12,
} as const;
export type ValueType = (typeof ValueType)[keyof typeof ValueType];

/** ggml tensor types: name, elements per block, bytes per block. */
export const GGML_TYPES: Record<number, [string, number, number]> = {
  0: ["F32", 1, 4], 1: ["F16", 1, 2], 2: ["Q4_0", 32, 18], 3: ["Q4_1", 32, 20], 6: ["Q5_0", 32, 22],
  7: ["Q5_1", 32, 24], 8: ["Q8_0", 32, 34], 9: ["Q8_1", 32, 36], 10: ["Q2_K", 256, 84], 11: ["Q3_K", 256, 110],
  12: ["Q4_K", 256, 144], 13: ["Q5_K", 256, 176], 14: ["Q6_K", 256, 210], 15: ["Q8_K", 256, 292],
  16: ["IQ2_XXS", 256, 66], 17: ["IQ2_XS", 256, 74], 18: ["IQ3_XXS", 256, 98], 19: ["IQ1_S", 256, 50],
  20: ["IQ4_NL", 32, 18], 21: ["IQ3_S", 256, 110], 22: ["IQ2_S", 256, 82], 23: ["IQ4_XS", 256, 136],
  24: ["I8", 1, 1], 25: ["I16", 1, 2], 26: ["I32", 1, 4], 27: ["I64", 1, 8], 28: ["F64", 1, 8],
  29: ["IQ1_M", 256, 56], 30: ["BF16", 1, 2],
};

/** Buffered little-endian cursor over a ByteSource. */
class Cursor {
  private buffer: Uint8Array = new Uint8Array(0);
  /** Item type of the last array read (GGUF arrays are homogeneous). */
  lastItemType: number | undefined;
  private bufferStart = 0;
  offset = 0;

  constructor(private readonly source: ByteSource, private readonly chunk = 1 << 20) {}

  private async ensure(length: number): Promise<DataView> {
    if (this.offset + length > this.source.size) {
      throw new GgufError(`the file ends at byte ${this.source.size}, inside its header (needed ${length} bytes at ${this.offset})`);
    }
    const start = this.offset - this.bufferStart;
    if (start < 0 || start + length > this.buffer.length) {
      this.buffer = await this.source.read(this.offset, Math.max(length, this.chunk));
      this.bufferStart = this.offset;
    }
    const view = new DataView(this.buffer.buffer, this.buffer.byteOffset + (this.offset - this.bufferStart), length);
    this.offset += length;
    return view;
  }

  async u32(): Promise<number> { return (await this.ensure(4)).getUint32(0, true); }
  async u64(): Promise<bigint> { return (await this.ensure(8)).getBigUint64(0, true); }

  /** A u64 used as a count or length: it must be small enough to be real. */
  async count(what: string, limit: number): Promise<number> {
    const value = await this.u64();
    if (value > BigInt(limit)) throw new GgufError(`${what} is ${value}, more than this file could hold`);
    return Number(value);
  }

  async string(): Promise<string> {
    const length = await this.count("a string length", this.source.size - this.offset);
    const view = await this.ensure(length);
    return new TextDecoder("utf-8", { fatal: false }).decode(view);
  }

  async value(type: number, maxArray: number): Promise<GgufValue> {
    switch (type) {
      case ValueType.U8: return (await this.ensure(1)).getUint8(0);
      case ValueType.I8: return (await this.ensure(1)).getInt8(0);
      case ValueType.U16: return (await this.ensure(2)).getUint16(0, true);
      case ValueType.I16: return (await this.ensure(2)).getInt16(0, true);
      case ValueType.U32: return this.u32();
      case ValueType.I32: return (await this.ensure(4)).getInt32(0, true);
      case ValueType.F32: return (await this.ensure(4)).getFloat32(0, true);
      case ValueType.Bool: return (await this.ensure(1)).getUint8(0) !== 0;
      case ValueType.String: return this.string();
      case ValueType.U64: return this.u64();
      case ValueType.I64: return (await this.ensure(8)).getBigInt64(0, true);
      case ValueType.F64: return (await this.ensure(8)).getFloat64(0, true);
      case ValueType.Array: {
        const itemType = await this.u32();
        this.lastItemType = itemType;
        const length = await this.count("an array length", this.source.size - this.offset);
        const keep = length <= maxArray;
        const items: GgufValue[] = [];
        for (let i = 0; i < length; i++) {
          const item = await this.value(itemType, maxArray);
          if (keep) items.push(item);
        }
        return keep ? items : { skippedArray: length };
      }
      default:
        throw new GgufError(`unknown metadata value type ${type} at byte ${this.offset - 4}`);
    }
  }
}

/**
 * Parses the header. Arrays longer than `maxArray` (a tokenizer's vocabulary) are skipped and
 * reported by length only, unless the caller needs them.
 */
export async function readGguf(source: ByteSource, { maxArray = 64 } = {}): Promise<GgufFile> {
  const cursor = new Cursor(source);
  if (source.size < 24) throw new GgufError(`it has ${source.size} bytes, too few for a GGUF header`);
  const magic = await cursor.u32();
  if (magic !== MAGIC) throw new GgufError("it does not start with the GGUF magic bytes (not a GGUF model file)");
  const version = await cursor.u32();
  if (version !== 2 && version !== 3) throw new GgufError(`it is GGUF version ${version}; versions 2 and 3 are supported`);
  const tensorCount = await cursor.count("the tensor count", source.size);
  const kvCount = await cursor.count("the metadata count", source.size);
  const metadata = new Map<string, GgufValue>();
  const types = new Map<string, [number, number?]>();
  for (let i = 0; i < kvCount; i++) {
    const key = await cursor.string();
    const type = await cursor.u32();
    metadata.set(key, await cursor.value(type, maxArray));
    types.set(key, type === ValueType.Array ? [type, cursor.lastItemType] : [type]);
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = await cursor.string();
    const nDims = await cursor.u32();
    if (nDims > 8) throw new GgufError(`tensor ${name} claims ${nDims} dimensions`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(Number(await cursor.u64()));
    tensors.push({ name, dims, type: await cursor.u32(), offset: await cursor.u64() });
  }
  const alignment = Number(metadata.get("general.alignment") ?? 32);
  const dataOffset = Math.ceil(cursor.offset / alignment) * alignment;
  const dataSize = tensors.reduce((end, t) => Math.max(end, Number(t.offset) + tensorBytes(t)), 0);
  if (tensors.length > 0 && dataOffset + dataSize > source.size) {
    throw new GgufError(`its tensors need ${dataOffset + dataSize} bytes but the file has ${source.size} (truncated?)`);
  }
  return { version, metadata, types, tensors, dataOffset };
}

export function tensorBytes(tensor: GgufTensorInfo): number {
  const info = GGML_TYPES[tensor.type];
  if (!info) throw new GgufError(`tensor ${tensor.name} has unknown type ${tensor.type}`);
  const elements = tensor.dims.reduce((a, b) => a * b, 1);
  return (elements / info[1]) * info[2];
}

export interface ModelFileSummary {
  architecture: string;
  name?: string;
  parameters: number;
  /** The most common tensor type by bytes, e.g. "Q4_K" or "F16". */
  quantization: string;
  contextLength?: number;
  embeddingLength?: number;
  sizeBytes: number;
  tensorCount: number;
}

/** What a user wants to know about a model file before choosing it. */
export function summarizeGguf(file: GgufFile, sizeBytes: number): ModelFileSummary {
  const architecture = file.metadata.get("general.architecture");
  if (typeof architecture !== "string") throw new GgufError("it has no general.architecture (not a model file)");
  const bytesByType = new Map<string, number>();
  let parameters = 0;
  for (const tensor of file.tensors) {
    parameters += tensor.dims.reduce((a, b) => a * b, 1);
    const type = GGML_TYPES[tensor.type]?.[0] ?? `type ${tensor.type}`;
    bytesByType.set(type, (bytesByType.get(type) ?? 0) + tensorBytes(tensor));
  }
  const quantization = [...bytesByType.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "none";
  const number = (key: string) => {
    const value = file.metadata.get(key);
    return typeof value === "number" || typeof value === "bigint" ? Number(value) : undefined;
  };
  const name = file.metadata.get("general.name");
  return {
    architecture,
    ...(typeof name === "string" ? { name } : {}),
    parameters,
    quantization,
    contextLength: number(`${architecture}.context_length`),
    embeddingLength: number(`${architecture}.embedding_length`),
    sizeBytes,
    tensorCount: file.tensors.length,
  };
}
