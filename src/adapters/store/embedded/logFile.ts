import { constants, promises as fs } from "node:fs";
import path from "node:path";

// One collection's data file: JSON lines, appended only. A write is acknowledged after its line
// is written and fdatasync'd, so a process killed at any moment keeps every acknowledged write.
// Writes that arrive while a flush is in progress are committed together by the next flush
// (group commit): one fdatasync for many writers.

export interface LoadedLog {
  lines: string[];
  /** Bytes after the last newline: a write cut off by a crash before it was acknowledged. */
  tornTailBytes: number;
  /** The last line was a whole record without its newline: kept, and the newline written. */
  completedTail: boolean;
}

interface Waiter {
  text: string;
  resolve(): void;
  reject(error: unknown): void;
}

export class LogFile {
  private batch: Waiter[] = [];
  private queue: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  /** Lines in the file, live or superseded; compaction is worth it when this outgrows the data. */
  lineCount = 0;

  private constructor(readonly file: string, private handle: fs.FileHandle) {}

  /**
   * Opens (creating) `file` and returns its complete lines. Text after the last newline is a torn
   * write and is cut off, unless `isWholeRecord` says it is a whole record that only lacks its
   * newline (the write was cut between the two, or the file was edited): then it is kept and the
   * newline is written.
   */
  static async open(file: string, isWholeRecord: (line: string) => boolean = () => false): Promise<{ log: LogFile; loaded: LoadedLog }> {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: PRIVATE_DIR });
    await fs.rm(`${file}.tmp`, { force: true });
    const bytes = await fs.readFile(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return Buffer.alloc(0);
      throw error;
    });
    // Cut at the last newline byte (not character: a torn multi-byte character must not shift it).
    const end = bytes.lastIndexOf(0x0a) + 1;
    const tail = bytes.subarray(end).toString("utf8");
    const completedTail = tail.length > 0 && isWholeRecord(tail);
    const tornTailBytes = completedTail ? 0 : bytes.length - end;
    if (tornTailBytes > 0) await fs.truncate(file, end);
    const lines = bytes.subarray(0, end).toString("utf8").split("\n");
    lines.pop();
    if (completedTail) lines.push(tail);
    const log = new LogFile(file, await openPrivate(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT));
    if (completedTail) await log.appendNow("\n");
    log.lineCount = lines.length;
    await syncDirectory(path.dirname(file));
    return { log, loaded: { lines, tornTailBytes, completedTail } };
  }

  /** Writes `text` at the end and makes it durable, before any batch (only while opening). */
  private async appendNow(text: string): Promise<void> {
    await this.handle.write(text);
    await this.handle.datasync();
  }

  /** Appends lines (each without its newline); resolves once they are on disk. */
  append(lines: string[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.batch.push({ text: lines.map((line) => `${line}\n`).join(""), resolve, reject });
      // flush() never rejects: it settles each waiter itself.
      if (this.batch.length === 1) void this.enqueue(() => this.flush());
    });
  }

  /**
   * Replaces the whole file with `snapshot()`, atomically: a synced copy renamed over it. The
   * snapshot is taken when the rewrite runs, after every write queued before it.
   */
  rewrite(snapshot: () => string[]): Promise<void> {
    return this.enqueue(async () => {
      if (this.failure) throw this.failure;
      const lines = snapshot();
      const tmp = `${this.file}.tmp`;
      // The copy is renamed over the file: it must be as private as the file it replaces.
      const copy = await openPrivate(tmp, "w");
      try {
        await copy.writeFile(lines.map((line) => `${line}\n`).join(""));
        await copy.datasync();
      } finally {
        await copy.close();
      }
      try {
        await fs.rename(tmp, this.file);
      } catch (error) {
        // The old file and its handle are still good: keep appending there.
        await fs.rm(tmp, { force: true });
        throw error;
      }
      await syncDirectory(path.dirname(this.file));
      const old = this.handle;
      this.handle = await fs.open(this.file, constants.O_WRONLY | constants.O_APPEND);
      await old.close();
      this.lineCount = lines.length;
    });
  }

  /** Waits for queued writes, then closes the file. */
  async close(): Promise<void> {
    await this.enqueue(() => this.handle.close());
    this.failure ??= new Error(`${this.file} is closed`);
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    try {
      if (this.failure) throw this.failure;
      await this.handle.write(batch.map((waiter) => waiter.text).join(""));
      await this.handle.datasync();
      for (const waiter of batch) this.lineCount += countNewlines(waiter.text);
      for (const waiter of batch) waiter.resolve();
    } catch (error) {
      // After a failed write the file's end is unknown: refuse further writes rather than guess.
      this.failure ??= new Error(`cannot write ${this.file}: ${(error as Error).message}`, { cause: error });
      for (const waiter of batch) waiter.reject(this.failure);
    }
  }
}

function countNewlines(text: string): number {
  let count = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) count++;
  return count;
}

// The store holds the user's conversations, specs and agent logs: readable by its owner only,
// whatever the umask. Windows has no such mode bits (its folders' ACLs decide), so it is skipped.
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;
const hasModeBits = process.platform !== "win32";

/** Sets `target`'s permission bits; a no-op on Windows. */
export async function restrictMode(target: string, mode: number): Promise<void> {
  if (hasModeBits) await fs.chmod(target, mode);
}

/** Opens (creating) a file readable by its owner only, fixing the mode of one that existed. */
async function openPrivate(file: string, flags: string | number): Promise<fs.FileHandle> {
  const handle = await fs.open(file, flags, PRIVATE_FILE);
  try {
    if (hasModeBits) await handle.chmod(PRIVATE_FILE);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/** Makes a rename durable. Not every platform can open a directory (Windows cannot); that is fine there. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await fs.open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}
