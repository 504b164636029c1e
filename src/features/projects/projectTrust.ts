// The editor's face of core/folderTrust.ts: the workspace's trust, its folders and globalState as
// the ports, the question about a project folder outside the workspace, and what the user is told
// when Redgreen will not run git or tests in a folder.
import * as vscode from "vscode";
import { FolderTrust, realFolder, type TrustVerdict } from "../../core/folderTrust";
import { warnUntrustedWorkspace } from "../../platform/command";


async function ask(folder: string): Promise<boolean | undefined> {
  const trust = vscode.l10n.t("Trust Folder");
  const refuse = vscode.l10n.t("Don't Trust");
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t("Do you trust the authors of the files in {0}?", folder),
    {
      modal: true,
      detail: vscode.l10n.t("This project's folder is outside the workspace. Redgreen runs git there, which reads the repository's hooks and config, and the project's tests, which run its code. Your answer is kept for this folder and the folders inside it."),
    },
    trust,
    refuse,
  );
  return choice === trust ? true : choice === refuse ? false : undefined;
}

export class ProjectTrust {
  private readonly folders: FolderTrust;

  constructor(globalState: vscode.Memento) {
    this.folders = new FolderTrust({
      workspaceTrusted: () => vscode.workspace.isTrusted,
      workspaceFolders: () => (vscode.workspace.workspaceFolders ?? []).map((f) => realFolder(f.uri.fsPath)),
      answers: globalState,
      ask,
    });
  }

  /**
   * Whether git and tests may run in `folder`, asking once when it lies outside the workspace;
   * when not, says why. `what` is what the user wanted to do, for that message.
   */
  async allows(folder: string, what: string): Promise<boolean> {
    const verdict = await this.folders.decide(realFolder(folder));
    if (!verdict.trusted) this.explain(verdict, folder, what);
    return verdict.trusted;
  }

  /** Why git may not run in `folder` (asking once, as allows() does), or undefined when it may. */
  async refusal(folder: string): Promise<string | undefined> {
    const verdict = await this.folders.decide(realFolder(folder));
    if (verdict.trusted) return undefined;
    return verdict.why === "workspace" ? "Redgreen runs no git command in an untrusted workspace" : `Redgreen runs no git command in ${folder}: you did not trust it`;
  }

  /** For background work, which must not ask: true only when already trusted. */
  knows(folder: string): boolean {
    return this.folders.known(realFolder(folder))?.trusted === true;
  }

  /** Keeps an answer for a folder, as the question would. */
  remember(folder: string, trusted: boolean): Promise<void> {
    return this.folders.remember(realFolder(folder), trusted);
  }

  private explain(verdict: Exclude<TrustVerdict, { trusted: true }>, folder: string, what: string): void {
    if (verdict.why === "workspace") {
      warnUntrustedWorkspace(what);
      return;
    }
    if (verdict.why === "dismissed") return;
    // A kept "no" is never asked again; this is the way back.
    const trust = vscode.l10n.t("Trust Folder");
    void vscode.window
      .showWarningMessage(vscode.l10n.t("You chose not to trust {0}: Redgreen runs no git command or test there. Trust it to {1}?", folder, what), trust)
      .then(async (choice) => {
        if (choice !== trust) return;
        await this.remember(folder, true);
        void vscode.window.showInformationMessage(vscode.l10n.t("{0} is trusted now: try again.", folder));
      });
  }
}
