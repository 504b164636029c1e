import { open } from "node:fs/promises";
import { GgufError, readGguf, summarizeGguf, type GgufFile, type ModelFileSummary } from "../../core/models/gguf";

/** Reads a GGUF file's header from disk; every problem becomes a GgufError naming the file. */
export async function readGgufFile(path: string, options: { maxArray?: number } = {}): Promise<GgufFile & { sizeBytes: number }> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new GgufError(`${path}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(error)}`);
  }
  try {
    const { size } = await handle.stat();
    const source = {
      size,
      read: async (offset: number, length: number) => {
        const buffer = new Uint8Array(Math.min(length, size - offset));
        await handle.read(buffer, 0, buffer.length, offset);
        return buffer;
      },
    };
    return { ...(await readGguf(source, options)), sizeBytes: size };
  } catch (error) {
    if (error instanceof GgufError) throw new GgufError(`${path} is not a usable model file: ${error.message}`);
    throw error;
  } finally {
    await handle.close();
  }
}

export async function describeModelFile(path: string): Promise<ModelFileSummary> {
  const file = await readGgufFile(path);
  try {
    return summarizeGguf(file, file.sizeBytes);
  } catch (error) {
    throw new GgufError(`${path} is not a usable model file: ${(error as Error).message}`);
  }
}
