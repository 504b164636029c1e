// `redgreen trust <folder>`: the user's word that Redgreen may run git and the tests there (and in
// the folders inside it); `--revoke` takes it back, `--list` shows the kept answers.
import path from "node:path";
import type { Command } from "commander";
import { CliError } from "../errors";
import { act, JSON_OPTION } from "../command";
import { trustOutput } from "../schemas";
import { table } from "../views";

interface TrustOptions {
  revoke?: boolean;
  list?: boolean;
  json?: boolean;
}

export function registerTrust(program: Command): void {
  program
    .command("trust")
    .description("trust a project folder for git and tests (kept in the data folder's trust.json)")
    .argument("[folder]", "the folder (the folders inside it are trusted too)")
    .option("--revoke", "no longer trust the folder")
    .option("--list", "list the folders you answered for")
    .option(...JSON_OPTION)
    .action(
      act<TrustOptions>(async ({ services, args: [folder], options }) => {
        const { trust, out } = services;
        if (folder !== undefined) {
          await trust.remember(folder, !options.revoke);
          const where = path.resolve(folder);
          if (!options.json) out.result(options.revoke ? `${where} is no longer trusted: Redgreen runs no git command or test there.` : `${where} is trusted: Redgreen may run git and the project's tests there.`);
        } else if (!options.list) {
          throw new CliError("name the folder to trust (redgreen trust <folder>), or list the trusted ones with --list");
        }
        if (options.json) return out.json(trustOutput, { folders: trust.entries() });
        if (options.list) {
          const rows = trust.entries().map((e) => [e.trusted ? "trusted" : "refused", e.folder]);
          out.result(rows.length ? table(rows) : "No folder is trusted yet: redgreen trust <folder>");
        }
      }),
    );
}
