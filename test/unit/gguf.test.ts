import * as assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describeModelFile, readGgufFile } from "../../src/adapters/llm/ggufFile";
import { ValueType } from "../../src/core/models/gguf";
import { writeGguf } from "../fixtures/models/ggufWriter";

describe("GGUF reader", () => {
  let dir: string;
  let model: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "redgreen-gguf-"));
    model = path.join(dir, "tiny.gguf");
    await writeGguf(
      model,
      [
        ["general.architecture", "llama", ValueType.String],
        ["general.name", "tiny", ValueType.String],
        ["llama.context_length", 4096, ValueType.U32],
        ["llama.embedding_length", 8, ValueType.U32],
        ["tokenizer.ggml.scores", [0, -1.5, 2], ValueType.Array, ValueType.F32],
        ["tokenizer.ggml.tokens", Array.from({ length: 100 }, (_, i) => `t${i}`), ValueType.Array, ValueType.String],
      ],
      [
        { name: "token_embd.weight", dims: [8, 100], type: "F16" },
        { name: "output_norm.weight", dims: [8], type: "F32", fill: 1 },
      ],
    );
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("summarizes a model without loading it", async () => {
    const summary = await describeModelFile(model);
    assert.deepEqual(summary, {
      architecture: "llama",
      name: "tiny",
      parameters: 808,
      quantization: "F16",
      contextLength: 4096,
      embeddingLength: 8,
      sizeBytes: readFileSync(model).length,
      tensorCount: 2,
    });
  });

  it("keeps short arrays and their types, and skips long ones unless asked", async () => {
    const file = await readGgufFile(model);
    assert.deepEqual(file.metadata.get("tokenizer.ggml.scores"), [0, -1.5, 2]);
    assert.deepEqual(file.types.get("tokenizer.ggml.scores"), [ValueType.Array, ValueType.F32]);
    assert.deepEqual(file.metadata.get("tokenizer.ggml.tokens"), { skippedArray: 100 });
    const full = await readGgufFile(model, { maxArray: Infinity });
    assert.equal((full.metadata.get("tokenizer.ggml.tokens") as string[])[99], "t99");
  });

  it("names the file and the reason for a file that is not GGUF", async () => {
    const text = path.join(dir, "notes.gguf");
    writeFileSync(text, "this is not a model, just some text that is long enough");
    await assert.rejects(describeModelFile(text), /notes\.gguf is not a usable model file: .*GGUF magic/);
  });

  it("rejects a truncated file, naming it", async () => {
    const cut = path.join(dir, "cut.gguf");
    writeFileSync(cut, readFileSync(model).subarray(0, 400));
    await assert.rejects(describeModelFile(cut), /cut\.gguf is not a usable model file: .*(ends at byte|truncated|more than this file could hold)/);
  });

  it("rejects an unsupported version and an absurd count", async () => {
    const bytes = Buffer.from(readFileSync(model));
    bytes.writeUInt32LE(99, 4);
    const v99 = path.join(dir, "v99.gguf");
    writeFileSync(v99, bytes);
    await assert.rejects(describeModelFile(v99), /version 99/);
    const huge = Buffer.from(readFileSync(model));
    huge.writeBigUInt64LE(1n << 60n, 16);
    const absurd = path.join(dir, "absurd.gguf");
    writeFileSync(absurd, huge);
    await assert.rejects(describeModelFile(absurd), /metadata count is \d+, more than this file could hold/);
  });

  it("says clearly when the file does not exist", async () => {
    await assert.rejects(describeModelFile(path.join(dir, "missing.gguf")), /missing\.gguf: no such file/);
  });
});
