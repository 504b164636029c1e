// `redgreen init [folder]`: the editor's New Project from a terminal, through the same function
// (createProject: same checks, same errors, the spec from the same template, undone on failure).
import path from "node:path";
import type { Command } from "commander";
import { Option } from "commander";
import { PRIORITIES } from "../../core/projects/project";
import { createProject, NewProjectError } from "../../core/projects/createProject";
import { CliError } from "../errors";
import { act, JSON_OPTION } from "../command";
import { initOutput } from "../schemas";
import { quoteArg } from "../../adapters/dataFolder/trustList";
import { toProjectJson } from "../views";

interface InitOptions {
  name?: string;
  priority: string;
  testCommand?: string;
  remote?: string;
  protectedBranch?: string;
  json?: boolean;
}

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("make a folder a Redgreen project (git is initialised if needed) and write its spec template")
    .argument("[folder]", "the project's folder (created if needed)", ".")
    .option("--name <name>", "the project's name (default: the folder's name)")
    .addOption(new Option("--priority <level>", "who runs first when projects share the machine").choices(PRIORITIES).default("medium"))
    .option("--test-command <command>", "the command that runs the project's tests, e.g. \"npm test\"")
    .option("--remote <url>", "the git remote the Architect pushes to (optional)")
    .option("--protected-branch <name>", "the branch no agent ever writes to (default: main, master, trunk or develop, else the branch checked out now)")
    .option(...JSON_OPTION)
    .action(
      act<InitOptions>(async ({ services, args: [folderArg], options }) => {
        const folder = path.resolve(folderArg ?? ".");
        await services.requireTrusted(folder, "create a project there");
        const input = { folder, name: options.name ?? path.basename(folder), priority: options.priority, testCommand: options.testCommand ?? "", remote: options.remote, protectedBranch: options.protectedBranch };
        const memory = await services.memory();
        const created = await createProject(input, { memory, git: services.gitPort, specPath: services.settings.get("spec.path"), log: services.log }).catch((error: unknown) => {
          throw error instanceof NewProjectError ? new CliError(`New project: ${error.message}`) : error;
        });
        if (options.json) return services.out.json(initOutput, { project: toProjectJson(created.project), specFile: created.specFile });
        const { project } = created;
        services.out.result(`Created the project "${project.name}" in ${project.root} (priority ${project.priority}, tests: ${project.testCommand}, protected branch: ${project.protectedBranch ?? "chosen at planning"}).\nIts spec: ${created.specFile}\nWrite it, then approve it: redgreen spec approve ${quoteArg(project.name)}`);
      }),
    );
}
