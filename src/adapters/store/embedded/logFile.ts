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

  /** Opens (creating) `file`, returns its complete lines, and cuts off a torn tail. */
  static async open(file: string): Promise<{ log: LogFile; loaded: LoadedLog }> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.rm(`${file}.tmp`, { force: true });
    const text = await fs.readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "";
      throw error;
    });
    const end = text.lastIndexOf("\n") + 1;
    const tornTailBytes = Buffer.byteLength(text.slice(end));
    if (tornTailBytes > 0) await fs.truncate(file, Buffer.byteLength(text.slice(0, end)));
    const lines = text.slice(0, end).split("\n");
    lines.pop();
    const log = new LogFile(file, await fs.open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT));
    log.lineCount = lines.length;
    return { log, loaded: { lines, tornTailBytes } };
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

  /** Replaces the whole file with `lines`, atomically (write a copy, sync it, rename over). */
  rewrite(lines: string[]): Promise<void> {
    return this.enqueue(async () => {
      const tmp = `${this.file}.tmp`;
      const copy = await fs.open(tmp, "w");
      try {
        await copy.writeFile(lines.map((line) => `${line}\n`).join(""));
        await copy.datasync();
      } finally {
        await copy.close();
      }
      await this.handle.close();
      await fs.rename(tmp, this.file);
      await syncDirectory(path.dirname(this.file));
      this.handle = await fs.open(this.file, constants.O_WRONLY | constants.O_APPEND);
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
