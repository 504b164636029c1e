// The edge every command's action goes through: the services built from the global options and
// closed afterwards whatever happens, and what command groups share.
import type { Command } from "commander";
import { CliError } from "./errors";
import { CliServices, type GlobalOptions } from "./services";

/** What an action gets: the services, its positional arguments and its own options. */
export interface ActionContext<O> {
  services: CliServices;
  args: (string | undefined)[];
  options: O;
}

/** Wraps a command's handler: builds the services from the global options and closes them after. */
export function act<O = Record<string, unknown>>(handler: (context: ActionContext<O>) => Promise<void>): (...raw: unknown[]) => Promise<void> {
  return async (...raw: unknown[]) => {
    const command = raw.at(-1) as Command;
    const options = raw.at(-2) as O;
    const args = raw.slice(0, -2) as (string | undefined)[];
    const services = new CliServices(command.optsWithGlobals<GlobalOptions>());
    try {
      await handler({ services, args, options });
    } finally {
      await services.close();
    }
  };
}

/** A group's own action: it needs one of its subcommands. */
export function needsSubcommand(group: Command): Command {
  return group.allowExcessArguments(true).action(() => {
    const names = group.commands.map((c) => c.name()).join(", ");
    const given = group.args[0];
    if (given !== undefined) throw new CliError(`unknown command "${group.name()} ${given}"; ${group.name()} has: ${names} (see redgreen ${group.name()} --help)`);
    throw new CliError(`${group.name()} needs a command: ${names} (see redgreen ${group.name()} --help)`);
  });
}

export const PROJECT_ARG = ["[project]", "a project id, name or folder (default: the project around the current folder)"] as const;

export const JSON_OPTION = ["--json", "print the result as JSON (shapes: src/cli/README.md)"] as const;
