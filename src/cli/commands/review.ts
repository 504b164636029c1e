// The human's review from a terminal: `review list`, `review diff <ticket>`, `review approve
// <ticket>` (merge into its feature branch, then done; CI files need --confirm-ci or a yes on a
// terminal) and `review request-changes <ticket> -m "…"` (back to its pair), through the core's
// review functions: the editor's rules, the editor's errors.
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { completeFunctionality, featureSuiteCheck } from "../../core/agents/functionCompletion";
import { approveTicket, branchOf, flaggedChanges, mergeTarget, requestChanges, reviewChanges, ticketInReview, ticketsInReview, UnconfirmedFilesError } from "../../core/tickets/review";
import { flaggedFiles } from "../../core/tdd/edits";
import { tddLimits } from "../../core/orchestrator/settingsReader";
import type { Project, Ticket } from "../../core/store/records";
import { CliError } from "../errors";
import { act, JSON_OPTION, needsSubcommand } from "../command";
import { reviewApproveOutput, reviewDiffOutput, reviewListOutput, requestChangesOutput } from "../schemas";
import type { CliServices } from "../services";
import { fileDiff } from "../unifiedDiff";
import { projectRef, table } from "../views";

interface JsonOptions {
  json?: boolean;
}

async function projectOf(services: CliServices, ticket: Ticket): Promise<Project> {
  const project = await (await services.memory()).projects.get(ticket.projectId);
  if (!project) throw new CliError(`${ticket._id} belongs to a project that no longer exists (${ticket.projectId})`);
  return project;
}

async function reviewTarget(services: CliServices, ticketId: string, what: string) {
  const memory = await services.memory();
  const ticket = await ticketInReview(memory, ticketId);
  const project = await projectOf(services, ticket);
  return { memory, ticket, project, git: await services.git(project, what) };
}

export function registerReview(program: Command): void {
  const review = needsSubcommand(program.command("review").description("review the tickets the pairs have finished"));

  review
    .command("list")
    .description("the tickets waiting for your review, in every project")
    .option(...JSON_OPTION)
    .action(
      act<JsonOptions>(async ({ services, options }) => {
        const found = await ticketsInReview(await services.memory());
        const tickets = found.map(({ project, ticket }) => ({
          ticket: ticket._id, title: ticket.title, project: projectRef(project), functionalityId: ticket.functionalityId,
          branch: branchOf(ticket), target: mergeTarget(ticket), pair: ticket.assignedPair,
        }));
        if (options.json) return services.out.json(reviewListOutput, { tickets });
        if (tickets.length === 0) return services.out.result("Nothing waits for your review.");
        services.out.result(table([["TICKET", "PROJECT", "BRANCH", "INTO", "TITLE"], ...tickets.map((t) => [t.ticket, t.project.name, t.branch, t.target, t.title])]));
      }),
    );

  review
    .command("diff")
    .description("a unified diff of the ticket's branch against the branch it merges into (since they forked)")
    .argument("<ticket>", "the ticket's id")
    .option("--stat", "only the changed files")
    .option(...JSON_OPTION)
    .action(
      act<JsonOptions & { stat?: boolean }>(async ({ services, args: [ticketId], options }) => {
        const { ticket, git } = await reviewTarget(services, ticketId!, "review its tickets");
        const changes = await reviewChanges(ticket, git);
        const parts = await Promise.all(changes.files.map(async (f) => fileDiff(f.path, await git.fileAt(changes.base, f.path), await git.fileAt(changes.head, f.path))));
        const flagged = flaggedFiles(changes.files.map((f) => f.path));
        const diff = parts.join("");
        if (options.json) return services.out.json(reviewDiffOutput, { ticket: ticket._id, branch: branchOf(ticket), target: mergeTarget(ticket), base: changes.base, head: changes.head, files: changes.files, flagged, diff });
        if (flagged.length > 0) services.out.progress(`${ticket._id} changes files your CI runs later, outside the sandbox: ${flagged.join(", ")}`);
        if (options.stat) return services.out.result(changes.files.map((f) => `${f.status.padEnd(8)} ${f.path}`).join("\n") || "(no changes)");
        if (diff) services.out.result(diff);
        else services.out.progress(`${branchOf(ticket)} changes nothing against ${mergeTarget(ticket)}.`);
      }),
    );

  registerApprove(review);
  registerRequestChanges(review);
}

/** On a terminal, asks once for the flagged files; elsewhere --confirm-ci is the only yes. */
async function confirmFlagged(services: CliServices, ticketId: string, flagged: string[], confirmCi: boolean): Promise<string[]> {
  if (flagged.length === 0 || confirmCi) return flagged;
  const list = flagged.join(", ");
  if (!process.stdin.isTTY || !process.stderr.isTTY) throw new CliError(`${ticketId} changes files your CI runs later, outside Redgreen's sandbox (${list}): read them (redgreen review diff ${ticketId}), then approve with --confirm-ci`);
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${ticketId} changes files your CI runs later, outside Redgreen's sandbox: ${list}\nApprove and merge them? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new CliError(`${ticketId} was not approved: you did not confirm ${list}`);
    return flagged;
  } finally {
    prompt.close();
  }
}

function registerApprove(review: Command): void {
  review
    .command("approve")
    .description("approve the ticket: merge its branch into its feature branch, move it to Done, then try to complete the functionality into DEV")
    .argument("<ticket>", "the ticket's id")
    .option("--confirm-ci", "approve the CI files the ticket changes (asked on a terminal otherwise)")
    .option(...JSON_OPTION)
    .action(
      act<JsonOptions & { confirmCi?: boolean }>(async ({ services, args: [ticketId], options }) => {
        const { memory, ticket, project, git } = await reviewTarget(services, ticketId!, "approve its tickets");
        const confirmed = await confirmFlagged(services, ticket._id, await flaggedChanges(ticket, git), options.confirmCi === true);
        const approved = await approveTicket(ticket._id, { memory, git }, { confirmed }).catch((error: unknown) => {
          throw error instanceof UnconfirmedFilesError ? new CliError(`${error.message} (with --confirm-ci)`) : error;
        });
        services.out.progress(`${ticket._id}: ${branchOf(ticket)} merged into ${mergeTarget(ticket)} (${approved.commit.slice(0, 10)}); completing "${ticket.functionalityId}"…`);
        const completion = await complete(services, project, ticket);
        if (options.json) {
          return services.out.json(reviewApproveOutput, { ticket: ticket._id, column: approved.ticket.column, branch: branchOf(ticket), target: mergeTarget(ticket), commit: approved.commit, confirmedFiles: confirmed, completion });
        }
        services.out.result(`Approved ${ticket._id}: ${branchOf(ticket)} is merged into ${mergeTarget(ticket)} (${approved.commit.slice(0, 10)}). ${completion.detail}`);
      }),
    );
}

/**
 * The Architect's completion of the functionality (feature → DEV after a green suite), as the
 * orchestrator does on the approval of its last ticket. No orchestrator runs in this process yet
 * (that comes with `redgreen run`), so the approval starts it here; drop this once one does.
 */
async function complete(services: CliServices, project: Project, ticket: Ticket): Promise<{ kind: string; detail: string }> {
  const memory = await services.memory();
  const git = await services.git(project, "complete its functionalities");
  const suiteGreen = featureSuiteCheck(services.testRunner(), tddLimits(services.settings), project);
  const result = await completeFunctionality(project, ticket.functionalityId, { memory, git, suiteGreen });
  const details: Record<string, string> = {
    notReady: `"${ticket.functionalityId}" still has open tickets${"open" in result ? `: ${result.open.join(", ")}` : ""}.`,
    alreadyMerged: `DEV already has all of "${ticket.functionalityId}".`,
    merged: `"${ticket.functionalityId}" is complete and merged into DEV.`,
  };
  const detail = details[result.kind] ?? `"${ticket.functionalityId}" was not merged into DEV (${result.kind}${"message" in result ? `: ${result.message}` : ""}); the PM says why in the chat (redgreen logs).`;
  return { kind: result.kind, detail };
}

function registerRequestChanges(review: Command): void {
  review
    .command("request-changes")
    .description("send the ticket back to its pair with what to change")
    .argument("<ticket>", "the ticket's id")
    .requiredOption("-m, --message <comment>", "what to change (recorded on the ticket and said to the pair)")
    .option(...JSON_OPTION)
    .action(
      act<JsonOptions & { message: string }>(async ({ services, args: [ticketId], options }) => {
        const ticket = await requestChanges(ticketId!, options.message, { memory: await services.memory() });
        if (options.json) return services.out.json(requestChangesOutput, { ticket: ticket._id, column: ticket.column, comment: options.message.trim() });
        services.out.result(`Sent ${ticket._id} back to ${ticket.assignedPair ?? "its pair"} with your comment.`);
      }),
    );
}
