// One edge for every Redgreen command, as VS Code's git extension has its CommandCenter: workspace
// trust is checked with one message, errors are caught, logged and shown once (a domain rule's
// refusal in its own words, anything else as "<title> failed: …"), and every command returns a
// typed result: what it made, `{ error }` when it could not, undefined when the human cancelled.
import * as vscode from "vscode";
import { MergeConflictError, ProtectedBranchError } from "../core/gitops/gitOps";
import { describeError, type Logger } from "../core/logger";
import { TicketMoveError } from "../core/memory/ticketRecords";
import { ModelNotConfiguredError } from "../core/models/manager";
import { ProjectRuleError } from "../core/orchestrator/projectRules";
import { NewProjectError } from "../core/projects/createProject";
import { ProjectStateError } from "../core/projects/project";
import { SandboxUnavailableError, UntrustedWorkspaceError } from "../core/tdd/testRun";
import { ReviewError } from "../core/tickets/review";
import type { CommandId } from "../protocol/commands";

/** What a command returns when it did not do its work: the message the human was shown. */
export interface Refused {
  error: string;
}

export type CommandResult<T> = T | Refused | undefined;

/** A refusal a feature states itself (no project, a ticket not in review): shown as it is, as a warning. */
export class CommandRefusal extends Error {}

/** A failure a feature words itself (a merge conflict in the ticket's terms): shown as it is, as an error. */
export class CommandFailure extends Error {}

/** Errors whose message already says what was refused and what to do: shown as they are. */
const REFUSALS = [
  CommandRefusal, ProjectRuleError, ProjectStateError, TicketMoveError, ReviewError, NewProjectError,
  ProtectedBranchError, MergeConflictError, UntrustedWorkspaceError, SandboxUnavailableError, ModelNotConfiguredError,
];

export interface CommandSpec<T> {
  /** The command's name as the palette shows it, for "<title> failed: …". */
  title: string;
  /** Set when the command runs git or tests: what the human wanted, for the untrusted workspace's one message. */
  runsGit?: string;
  run(...args: unknown[]): Promise<T | undefined>;
}

/** What a command returns in an untrusted workspace, whatever the command. */
const UNTRUSTED_WORKSPACE = "untrusted workspace";

/** Registers a command through the one edge. */
export function registerRedgreenCommand<T>(id: CommandId, log: Logger, spec: CommandSpec<T>): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]): Promise<CommandResult<T>> => {
    if (spec.runsGit && !vscode.workspace.isTrusted) {
      warnUntrustedWorkspace(spec.runsGit);
      return { error: UNTRUSTED_WORKSPACE };
    }
    try {
      return await spec.run(...args);
    } catch (error) {
      return { error: showFailure(log, spec, error) };
    }
  });
}

/** Git reads hooks and config from the repository: nothing runs it in an untrusted workspace. The one message that says so. */
export function warnUntrustedWorkspace(what: string): void {
  void vscode.window.showWarningMessage(vscode.l10n.t("Redgreen runs no git command in an untrusted workspace. Trust this workspace to {0}.", what));
}

/** Logs and shows a command's failure once; returns what was shown. */
function showFailure(log: Logger, spec: Pick<CommandSpec<unknown>, "title">, error: unknown): string {
  if (error instanceof CommandFailure) {
    log.warn(error.message);
    void vscode.window.showErrorMessage(error.message);
    return error.message;
  }
  if (REFUSALS.some((kind) => error instanceof kind)) {
    const message = describeError(error);
    log.warn(`${spec.title}: ${message}`);
    void vscode.window.showWarningMessage(message);
    return message;
  }
  const message = vscode.l10n.t("{0} failed: {1}", spec.title, describeError(error));
  log.error(message);
  void vscode.window.showErrorMessage(message);
  return message;
}
