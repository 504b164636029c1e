// `spec approve [project]` and `spec diff [project]`: the spec file on disk against its approved
// version. Approval commits the file (git: the folder must be trusted) and stores the version.
import type { Command } from "commander";
import { STATE_NAMES } from "../../core/projects/project";
import { act, JSON_OPTION, PROJECT_ARG, needsSubcommand } from "../command";
import { resolveProject } from "../projectArg";
import { specApproveOutput, specDiffOutput } from "../schemas";
import { specFileOf } from "../../core/spec/specFile";
import { approveSpecFile, readSpec } from "../specApproval";
import { fileDiff } from "../unifiedDiff";
import { projectRef } from "../views";

interface JsonOptions {
  json?: boolean;
}


export function registerSpec(program: Command): void {
  const spec = needsSubcommand(program.command("spec").description("approve a project's spec, or compare it with the approved version"));

  spec
    .command("approve")
    .description("approve the spec as it is on disk: a new version, committed; the project becomes approved")
    .argument(...PROJECT_ARG)
    .option(...JSON_OPTION)
    .action(
      act<JsonOptions>(async ({ services, args: [arg], options }) => {
        const memory = await services.memory();
        const project = await resolveProject(memory, arg);
        await services.requireTrusted(project.root, "approve its spec");
        await services.claimProject(project);
        const approval = await approveSpecFile(project, { memory, git: services.gitPort, log: services.log });
        const { version } = approval;
        if (options.json) {
          return services.out.json(specApproveOutput, { project: projectRef(project), version: version.version, commit: version.commit ?? null, state: approval.project.state, alreadyApproved: approval.alreadyApproved });
        }
        if (approval.alreadyApproved) return services.out.result(`The spec of "${project.name}" is already approved as v${version.version}.`);
        services.out.result(`Approved v${version.version} of the spec of "${project.name}"${version.commit ? ` (commit ${version.commit.slice(0, 10)})` : ""}; the project is ${STATE_NAMES[approval.project.state]}.`);
        services.out.progress("Next: redgreen run (the Architect plans it, then the pairs work).");
      }),
    );

  spec
    .command("diff")
    .description("a unified diff from the approved spec to the file on disk")
    .argument(...PROJECT_ARG)
    .option(...JSON_OPTION)
    .action(
      act<JsonOptions>(async ({ services, args: [arg], options }) => {
        const memory = await services.memory();
        const project = await resolveProject(memory, arg);
        const approved = await memory.projects.approvedSpec(project._id);
        const text = await readSpec(project);
        const diff = fileDiff(project.specPath, approved?.text, text);
        if (options.json) {
          return services.out.json(specDiffOutput, { project: projectRef(project), specFile: specFileOf(project), approvedVersion: approved?.version ?? null, changed: diff !== "", diff });
        }
        if (!approved) services.out.progress(`The spec of "${project.name}" has no approved version yet: all of it is new.`);
        else if (!diff) services.out.progress(`The spec of "${project.name}" is as approved (v${approved.version}).`);
        if (diff) services.out.result(diff);
      }),
    );
}
