// A WebAssembly kernel for the vector index's scan: scalar JS tops out at one multiply-add per
// float, while wasm's 128-bit SIMD does four per instruction. There is no wasm toolchain in the
// build, so the module (a few hundred bytes) is encoded here from the binary format spec:
// https://webassembly.github.io/spec/core/binary/ (SIMD opcodes under "Vector Instructions").
//
// The module exports its memory and one function:
//   dots(query, data, stride, rows, out)
// For r < rows it stores, as a float32 at byte `out + 4r`, the dot product of the `stride` floats
// at byte `query` with the `stride` floats at byte `data + 4·stride·r`. `stride` must be a
// multiple of 4 (callers zero-pad their rows), and every pointer should be 16-byte aligned.

/** The parts of the JS WebAssembly API used here: lib "ES2022" without "DOM" does not declare it. */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

export interface WasmMemory {
  /** Replaced (and the old one detached) by every grow: views must be made again after one. */
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

export interface DotKernel {
  readonly memory: WasmMemory;
  dots(query: number, data: number, stride: number, rows: number, out: number): void;
}

export const WASM_PAGE_BYTES = 65_536;
/** A 32-bit memory cannot address more than 65,536 pages. */
export const WASM_MAX_BYTES = 65_536 * WASM_PAGE_BYTES;

// --- Encoding helpers -------------------------------------------------------------------------

type Code = number | Code[];

/** Unsigned LEB128, the format's variable-length integer for sizes, counts and indices. */
function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Signed LEB128, used for i32.const immediates. */
function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function flat(code: Code[], out: number[] = []): number[] {
  for (const item of code) {
    if (typeof item === "number") out.push(item);
    else flat(item, out);
  }
  return out;
}
/** A vector: element count, then the elements. */
const vec = (items: Code[]): number[] => [...uleb(items.length), ...flat(items)];
const name = (text: string): number[] => vec([...text].map((c) => c.charCodeAt(0)));
/** A section: its id, its byte size, its body. */
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

// Value types.
const I32 = 0x7f;
const V128 = 0x7b;

// Control: blocks and loops take a block type (0x40: no result); a branch names its target by
// depth (0 = innermost). Branching to a block exits it; branching to a loop restarts it.
const BLOCK = [0x02, 0x40];
const LOOP = [0x03, 0x40];
const END = 0x0b;
const brIf = (depth: number) => [0x0d, ...uleb(depth)];
const br = (depth: number) => [0x0c, ...uleb(depth)];

const get = (local: number) => [0x20, ...uleb(local)];
const set = (local: number) => [0x21, ...uleb(local)];
const tee = (local: number) => [0x22, ...uleb(local)];

const i32Const = (value: number) => [0x41, ...sleb(value)];
const I32_EQZ = 0x45;
const I32_LT_U = 0x49;
const I32_GE_U = 0x4f;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_AND = 0x71;
const I32_SHL = 0x74;
const F32_ADD = 0x92;
/** f32.store: the memarg is log2 of the alignment (2: 4 bytes) and a constant offset. */
const f32Store = [0x38, 2, 0];

// SIMD instructions: prefix 0xfd, then the opcode as an unsigned LEB128.
const simd = (opcode: number) => [0xfd, ...uleb(opcode)];
/** v128.load with an alignment hint of 2^4 = 16 bytes and a constant byte offset. */
const v128Load = (offset: number) => [...simd(0x00), 4, ...uleb(offset)];
const V128_ZERO = [...simd(0x0c), ...new Array<number>(16).fill(0)]; // v128.const, 16 immediate bytes
const f32x4ExtractLane = (lane: number) => [...simd(0x1f), lane];
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);

// --- The dots function ------------------------------------------------------------------------

// Parameters come first in the local index space, then the declared locals.
const QUERY = 0, DATA = 1, STRIDE = 2, ROWS = 3, OUT = 4;
const ROW_BYTES = 5; // stride · 4
const WIDE_END = 6; // ROW_BYTES rounded down to 64: the part done 16 floats per iteration
const AT = 7; // byte position within the current row (and within the query)
// Four accumulators: consecutive adds to one register would wait on each other's latency.
const ACC = [8, 9, 10, 11] as const;

/** acc += data[row + AT + offset .. +16 bytes] · query[AT + offset .. +16 bytes], four lanes wide. */
const multiplyAdd = (acc: number, offset: number): Code[] => [
  get(DATA), get(AT), I32_ADD, v128Load(offset),
  get(QUERY), get(AT), I32_ADD, v128Load(offset),
  F32X4_MUL, get(acc), F32X4_ADD, set(acc),
];

const dotsBody: Code[] = [
  get(STRIDE), i32Const(2), I32_SHL, tee(ROW_BYTES),
  i32Const(-64), I32_AND, set(WIDE_END),
  BLOCK,
  get(ROWS), I32_EQZ, brIf(0),
  LOOP, // one row per iteration
  ACC.map((acc) => [V128_ZERO, set(acc)]),
  i32Const(0), set(AT),
  BLOCK,
  get(WIDE_END), I32_EQZ, brIf(0), // a row shorter than 16 floats has no wide part
  LOOP,
  multiplyAdd(ACC[0], 0), multiplyAdd(ACC[1], 16), multiplyAdd(ACC[2], 32), multiplyAdd(ACC[3], 48),
  get(AT), i32Const(64), I32_ADD, tee(AT), get(WIDE_END), I32_LT_U, brIf(0),
  END,
  END,
  BLOCK, // the remaining 0–3 groups of 4 floats
  LOOP,
  get(AT), get(ROW_BYTES), I32_GE_U, brIf(1),
  multiplyAdd(ACC[0], 0),
  get(AT), i32Const(16), I32_ADD, set(AT), br(0),
  END,
  END,
  // The store's address goes on the stack before its value.
  get(OUT),
  get(ACC[0]), get(ACC[1]), F32X4_ADD, get(ACC[2]), get(ACC[3]), F32X4_ADD, F32X4_ADD, tee(ACC[0]),
  f32x4ExtractLane(0), get(ACC[0]), f32x4ExtractLane(1), F32_ADD,
  get(ACC[0]), f32x4ExtractLane(2), F32_ADD, get(ACC[0]), f32x4ExtractLane(3), F32_ADD,
  f32Store,
  get(OUT), i32Const(4), I32_ADD, set(OUT),
  get(DATA), get(ROW_BYTES), I32_ADD, set(DATA),
  get(ROWS), i32Const(1), I32_SUB, tee(ROWS), brIf(0),
  END,
  END,
];

function encodeModule(): Uint8Array {
  // Locals are declared as runs of (count, type).
  const locals = vec([[3, I32], [ACC.length, V128]]);
  const dotsCode = [...locals, ...flat(dotsBody), END];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, // "\0asm"
    0x01, 0x00, 0x00, 0x00, // version 1
    // Type section: one signature, (i32 × 5) -> (); 0x60 introduces a function type.
    ...section(1, vec([[0x60, vec([I32, I32, I32, I32, I32]), vec([])]])),
    // Function section: function 0 has signature 0.
    ...section(3, vec([0])),
    // Memory section: one memory, limits flag 0 (minimum only) of 1 page; JS grows it.
    ...section(5, vec([[0x00, 1]])),
    // Export section: (name, kind, index); kind 0 is a function, 2 a memory.
    ...section(7, vec([[name("memory"), 0x02, 0], [name("dots"), 0x00, 0]])),
    // Code section: each body is prefixed with its byte size.
    ...section(10, vec([[uleb(dotsCode.length), dotsCode]])),
  ]);
}

/** The encoded module, exported so tests can check it validates where SIMD is expected. */
export const SIMD_DOT_MODULE: Uint8Array = encodeModule();

// Compiled once and shared: every index instantiates its own memory from the same module.
let compiled: object | null | undefined;

/**
 * A fresh kernel instance with its own memory (one page to start), or undefined where
 * WebAssembly or its SIMD extension is unavailable or the engine refuses another memory;
 * callers then keep to plain JS.
 */
export function createDotKernel(moduleBytes: Uint8Array = SIMD_DOT_MODULE): DotKernel | undefined {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) return undefined;
  try {
    let module: object | null;
    if (moduleBytes === SIMD_DOT_MODULE) {
      compiled ??= wasm.validate(moduleBytes) ? new wasm.Module(moduleBytes) : null;
      module = compiled;
    } else {
      module = wasm.validate(moduleBytes) ? new wasm.Module(moduleBytes) : null;
    }
    if (!module) return undefined;
    const { exports } = new wasm.Instance(module, {});
    const { memory, dots } = exports as { memory?: WasmMemory; dots?: DotKernel["dots"] };
    if (!memory || typeof dots !== "function") return undefined;
    return { memory, dots };
  } catch {
    // Out of address space for another memory, for one: the JS scan still works.
    return undefined;
  }
}
