// Where the CLI writes: results on stdout (text, or JSON with --json), progress and logs on
// stderr. Colour only on a terminal, and never with NO_COLOR set (https://no-color.org) or
// TERM=dumb; FORCE_COLOR is not honoured on purpose, so piped output is always plain.
import type { Logger } from "../core/logger";
import type * as z from "zod";

export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: LogLevel[] = ["debug", "info", "warn", "error"];

export interface Stream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Whether a stream gets colour. */
export function colourFor(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.TERM === "dumb") return false;
  return stream.isTTY === true;
}

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Paint = Record<keyof typeof CODES, (text: string) => string>;

function painter(enabled: boolean): Paint {
  const paint = {} as Paint;
  for (const [name, [on, off]] of Object.entries(CODES) as [keyof typeof CODES, readonly [number, number]][]) {
    paint[name] = enabled ? (text) => `\u001b[${on}m${text}\u001b[${off}m` : (text) => text;
  }
  return paint;
}

export class Output {
  /** Colours for stdout's text. */
  readonly paint: Paint;
  private readonly errPaint: Paint;

  constructor(
    private readonly out: Stream = process.stdout,
    private readonly err: Stream = process.stderr,
    private readonly level: LogLevel = "warn",
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.paint = painter(colourFor(out, env));
    this.errPaint = painter(colourFor(err, env));
  }

  /** A result line (or lines) on stdout. */
  result(text: string): void {
    this.out.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** A result as JSON on stdout, checked against its documented schema first. */
  json<S extends z.ZodType>(schema: S, value: z.input<S>): void {
    const checked = schema.parse(value);
    this.out.write(`${JSON.stringify(checked, null, 2)}\n`);
  }

  /** Progress for the human on stderr (always shown unless --quiet). */
  progress(text: string): void {
    if (this.level !== "error") this.err.write(`${this.errPaint.dim(text)}\n`);
  }

  /** The one line an error gets. */
  error(message: string): void {
    this.err.write(`${this.errPaint.red("error:")} ${message}\n`);
  }

  /** The core's logger, to stderr, from the chosen level up. */
  logger(): Logger {
    const at = (level: LogLevel) => (message: string | Error) => {
      if (LEVELS.indexOf(level) < LEVELS.indexOf(this.level)) return;
      const text = message instanceof Error ? message.message : message;
      const tag = level === "warn" ? this.errPaint.yellow("warning:") : level === "error" ? this.errPaint.red("error:") : this.errPaint.dim(`${level}:`);
      this.err.write(`${tag} ${text}\n`);
    };
    return { trace: at("debug"), debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  }
}
