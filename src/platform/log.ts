import * as vscode from "vscode";
import { describeError, type Logger } from "../core/logger";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";
export interface LogEntry {
  level: LogLevel;
  message: string;
}

/** The "Redgreen" log output channel, also observable so the status bar and tests can follow it. */
export class RedgreenLog implements Logger, vscode.Disposable {
  readonly channel = vscode.window.createOutputChannel("Redgreen", { log: true });
  private readonly emitter = new vscode.EventEmitter<LogEntry>();
  readonly onDidLog = this.emitter.event;

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
    this.emitter.fire({ level, message });
  }
}
