import * as vscode from "vscode";
import { describeError, type Logger } from "../core/logger";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";
export interface LogEntry {
  level: LogLevel;
  message: string;
}

const HISTORY = 1000;

/**
 * The "Redgreen" log output channel, also observable (and with a short history of recent entries)
 * so that views, the status bar and tests can follow what happened, including before they looked.
 */
export class RedgreenLog implements Logger, vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel("Redgreen", { log: true });
  private readonly emitter = new vscode.EventEmitter<LogEntry>();
  private readonly history: LogEntry[] = [];
  readonly onDidLog = this.emitter.event;

  /** The most recent entries, oldest first. */
  recent(): readonly LogEntry[] {
    return this.history;
  }

  trace(message: string): void {
    this.write("trace", message);
  }
  debug(message: string): void {
    this.write("debug", message);
  }
  info(message: string): void {
    this.write("info", message);
  }
  warn(message: string): void {
    this.write("warn", message);
  }
  error(message: string | Error): void {
    this.write("error", message instanceof Error ? (message.stack ?? describeError(message)) : message);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.emitter.dispose();
    this.channel.dispose();
  }

  private write(level: LogLevel, message: string): void {
    this.channel[level](message);
    const entry = { level, message };
    this.history.push(entry);
    if (this.history.length > HISTORY) this.history.shift();
    this.emitter.fire(entry);
  }
}
