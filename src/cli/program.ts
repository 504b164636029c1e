// The `redgreen` program: global options and one command group per file under commands/, each
// action through the edge in command.ts. Adding a group (plan, run, pause, resume) is one file and
// one line in GROUPS.
import { Command, Option } from "commander";
import { DATA_ENV } from "../adapters/dataFolder/dataDir";
import { registerEngine } from "./commands/engine";
import { registerInit } from "./commands/init";
import { registerLogs } from "./commands/logs";
import { registerModels } from "./commands/models";
import { registerProjects } from "./commands/projects";
import { registerReview } from "./commands/review";
import { registerSpec } from "./commands/spec";
import { registerTeam } from "./commands/team";
import { registerTrust } from "./commands/trust";

const GROUPS = [registerTrust, registerInit, registerProjects, registerSpec, registerTeam, registerReview, registerModels, registerLogs, registerEngine];

export function buildProgram(version: string, write: { out: (text: string) => void; err: (text: string) => void }): Command {
  const program = new Command("redgreen")
    .description("Redgreen's agent team from a terminal: projects, specs, the board, reviews, models.")
    .version(version, "-V, --version")
    .addOption(new Option("--data <dir>", "Redgreen's data folder (store, trust list, models.json, settings.json)").env(DATA_ENV))
    .option("--trust", "trust the project folder this command acts on (kept, as `redgreen trust` does)")
    .option("--in-process", "open the store in this process instead of through the data folder's engine (CI, containers)")
    .option("-v, --verbose", "log more on stderr")
    .option("-q, --quiet", "log only errors on stderr")
    .exitOverride()
    .configureOutput({ writeOut: (text) => write.out(text), writeErr: (text) => write.err(text), outputError: (text, writeErr) => writeErr(`${text.trimEnd().replace(/\s*\n\s*/g, " ")}\n`) })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
  for (const register of GROUPS) register(program);
  program.addHelpText("after", `\nExit codes: 0 done, 1 an error or bad input (one line on stderr), 2 (run) something waits for you, 130 interrupted.\nData folder: --data, else $${DATA_ENV}, else the OS's user data folder.`);
  return program;
}
