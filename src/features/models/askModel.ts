// "Redgreen: Ask a Model…": sends a prompt to a role's model and streams the answer into an
// editor, with a cancellable progress notification. The first end-to-end use of the models.
import * as vscode from "vscode";
import { describeError, type Logger } from "../../core/logger";
import { CancelledError, ModelNotConfiguredError } from "../../core/models/manager";
import { ROLE_NAMES as ROLE_LABELS, ROLES, type Role } from "../../core/models/registry";
import { registerRedgreenCommand } from "../../platform/command";
import { Commands } from "../../protocol/commands";
import type { ModelService } from "./modelService";

export interface AskModelResult {
  text: string;
  model: string;
  document: string;
}

export function registerAskModel(models: ModelService, log: Logger): vscode.Disposable {
  return registerRedgreenCommand(Commands.askModel, log, {
    title: vscode.l10n.t("Ask a Model"),
    run: async (args?: { role?: Role; prompt?: string }): Promise<AskModelResult | undefined> => {
      await models.ready;
      const role = args?.role ?? (await pickRole());
      if (!role) return undefined;
      const prompt = args?.prompt ?? (await vscode.window.showInputBox({ prompt: vscode.l10n.t("Ask the {0}'s model", ROLE_LABELS[role]) }));
      if (!prompt) return undefined;
      const document = await vscode.workspace.openTextDocument({
        language: "markdown",
        content: `**You:** ${prompt}\n\n**${ROLE_LABELS[role]}:** `,
      });
      await vscode.window.showTextDocument(document, { preview: false });
      const appender = new Appender(document);
      return vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t("Asking the {0}'s model…", ROLE_LABELS[role]), cancellable: true },
        async (_progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          try {
            const result = await models.manager.ask(
              role,
              { messages: [{ role: "user", content: prompt }], maxTokens: 512 },
              { onToken: (text) => appender.append(text), signal: abort.signal },
            );
            await appender.flushed();
            return { text: result.text, model: result.model, document: document.uri.toString() };
          } catch (error) {
            await appender.flushed();
            report(error, log);
            return undefined;
          }
        },
      );
    },
  });
}

async function pickRole(): Promise<Role | undefined> {
  const choice = await vscode.window.showQuickPick(
    ROLES.filter((r) => r !== "embedding").map((role) => ({ role, label: ROLE_LABELS[role] })),
    { title: vscode.l10n.t("Which agent's model?") },
  );
  return choice?.role;
}

/** Shows the error without waiting for the user to dismiss it. */
function report(error: unknown, log: Logger): void {
  if (error instanceof CancelledError) return;
  const message = describeError(error);
  log.warn(message);
  if (error instanceof ModelNotConfiguredError) {
    const select = vscode.l10n.t("Select Model Files…");
    void vscode.window.showErrorMessage(message, select).then((choice) => {
      if (choice === select) void vscode.commands.executeCommand(Commands.selectModelFiles);
    });
  } else {
    void vscode.window.showErrorMessage(message);
  }
}

/**
 * Appends streamed text to a document, coalescing pieces that arrive while an edit is applied.
 * A workspace edit, unlike TextEditor.edit, applies even when the user has focused another editor.
 */
class Appender {
  private buffer = "";
  private running: Promise<void> = Promise.resolve();
  private scheduled = false;
  private finished = false;

  constructor(private readonly document: vscode.TextDocument) {}

  append(text: string): void {
    this.buffer += text;
    if (this.scheduled) return;
    this.scheduled = true;
    this.running = this.running.then(async () => {
      this.scheduled = false;
      // A "\r" may be the first half of "\r\n": inserted alone it would make two line breaks.
      const keep = !this.finished && this.buffer.endsWith("\r") ? 1 : 0;
      const piece = this.buffer.slice(0, this.buffer.length - keep);
      this.buffer = this.buffer.slice(this.buffer.length - keep);
      if (!piece) return;
      const edit = new vscode.WorkspaceEdit();
      edit.insert(this.document.uri, this.document.positionAt(this.document.getText().length), piece);
      await vscode.workspace.applyEdit(edit);
    });
  }

  flushed(): Promise<void> {
    this.finished = true;
    if (this.buffer) this.append("");
    return this.running;
  }
}
