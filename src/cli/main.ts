// The `redgreen` command line: the CLI's composition root (dist/cli.js). Parses, runs one command,
// and turns every failure into one line on stderr and exit code 1.
import { CommanderError } from "commander";
import { describeError } from "../core/logger";
import { EXIT, ExitCode, oneLine } from "./errors";
import { colourFor } from "./output";
import { buildProgram } from "./program";
import packageJson from "../../package.json";

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(packageJson.version, { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) });
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT.ok;
  } catch (error) {
    // Commander has printed its own line (or the help, or the version) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    if (error instanceof ExitCode) return error.code;
    const label = colourFor(process.stderr) ? "\u001b[31merror:\u001b[39m" : "error:";
    process.stderr.write(`${label} ${oneLine(describeError(error))}\n`);
    if (process.env.REDGREEN_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return EXIT.error;
  }
}

if (require.main === module) {
  // A closed pipe (`redgreen board | head`) is not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT.ok);
  });
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
