// "Redgreen: New Project" asks for a folder, a name, a priority, the test command and an
// optional remote; createProject.ts checks and creates.
import path from "node:path";
import * as vscode from "vscode";
import { PRIORITIES, type NewProject } from "../../core/projects/project";

/** Asks the user for each field; undefined when they cancel. */
export async function askNewProject(defaultFolder: string | undefined): Promise<Partial<NewProject> | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: vscode.l10n.t("New Project: choose or create its folder"),
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: vscode.l10n.t("Use This Folder"),
    defaultUri: defaultFolder ? vscode.Uri.file(defaultFolder) : undefined,
  });
  if (!picked?.[0]) return undefined;
  const folder = picked[0].fsPath;
  const name = await vscode.window.showInputBox({ title: vscode.l10n.t("New Project: name"), value: path.basename(folder), ignoreFocusOut: true });
  if (name === undefined) return undefined;
  const priority = await vscode.window.showQuickPick(
    PRIORITIES.map((p) => ({ label: p, picked: p === "medium" })),
    { title: vscode.l10n.t("New Project: priority (higher runs first when projects share the machine)"), ignoreFocusOut: true },
  );
  if (!priority) return undefined;
  const testCommand = await vscode.window.showInputBox({
    title: vscode.l10n.t("New Project: the command that runs its tests"),
    placeHolder: "npm test",
    ignoreFocusOut: true,
  });
  if (testCommand === undefined) return undefined;
  const remote = await vscode.window.showInputBox({
    title: vscode.l10n.t("New Project: git remote to push to (optional)"),
    placeHolder: vscode.l10n.t("Leave empty for none"),
    ignoreFocusOut: true,
  });
  if (remote === undefined) return undefined;
  return { folder, name, priority: priority.label, testCommand, remote: remote.trim() || undefined };
}
