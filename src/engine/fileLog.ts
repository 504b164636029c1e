// The engine has no terminal: it logs to `<data>/engine/engine.log` (0600), one line per entry,
// and starts the file again when it grows past a few megabytes (the old one kept as .1).
import { appendFileSync, renameSync, statSync } from "node:fs";
import { describeError, type Logger } from "../core/logger";

const ROTATE_BYTES = 4 * 1024 * 1024;

export class FileLog implements Logger {
  private size: number | undefined;

  constructor(private readonly file: string, private readonly verbose = false) {}

  trace(message: string): void {
    if (this.verbose) this.write("trace", message);
  }
  debug(message: string): void {
    if (this.verbose) this.write("debug", message);
  }
  info(message: string): void {
    this.write("info", message);
  }
  warn(message: string): void {
    this.write("warn", message);
  }
  error(message: string | Error): void {
    this.write("error", typeof message === "string" ? message : (message.stack ?? describeError(message)));
  }

  private write(level: string, message: string): void {
    const line = `${new Date().toISOString()} [${level}] ${message}\n`;
    try {
      // The file's size is asked once; after that this process counts what it appends.
      this.size ??= statSync(this.file, { throwIfNoEntry: false })?.size ?? 0;
      if (this.size > ROTATE_BYTES) {
        renameSync(this.file, `${this.file}.1`);
        this.size = 0;
      }
      appendFileSync(this.file, line, { mode: 0o600 });
      this.size += Buffer.byteLength(line);
    } catch {
      // A log that cannot be written must not stop the engine.
    }
  }
}
