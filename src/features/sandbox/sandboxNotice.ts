import * as vscode from "vscode";
import type { Logger } from "../../core/logger";
import type { Settings } from "../../platform/settings";

// Where the machine has no sandbox for agents' code, the user is told once, plainly, and the
// status bar keeps saying it: either test runs are refused (the default) or they run with the time
// and output limits only, because the user turned `redgreen.sandbox.require` off.

/** What the test runner found on this machine (plain data: features never see the adapter). */
export type SandboxState = { sandboxed: true; name: string } | { sandboxed: false; reason: string };

const TOLD_KEY = "redgreen.sandbox.toldUnavailable";

export function registerSandboxNotice(deps: { state: SandboxState; settings: Settings; log: Logger; globalState: vscode.Memento }): vscode.Disposable {
  const { state, settings, log } = deps;
  if (state.sandboxed) {
    log.info(`Agents' code runs in a sandbox (${state.name}).`);
    return new vscode.Disposable(() => undefined);
  }
  const item = vscode.window.createStatusBarItem("redgreen.sandbox", vscode.StatusBarAlignment.Left, 49);
  item.name = vscode.l10n.t("Redgreen Sandbox");
  item.command = { title: vscode.l10n.t("Open Settings"), command: "workbench.action.openSettings", arguments: ["redgreen.sandbox.require"] };
  const show = () => {
    const required = settings.get("sandbox.require");
    item.text = required ? `$(shield) ${vscode.l10n.t("No sandbox: tests refused")}` : `$(warning) ${vscode.l10n.t("Tests run unsandboxed")}`;
    item.tooltip = vscode.l10n.t("Agents' code has no sandbox on this machine: {0}.", state.reason);
    item.backgroundColor = new vscode.ThemeColor(required ? "statusBarItem.errorBackground" : "statusBarItem.warningBackground");
    item.show();
  };
  show();
  log.warn(`Agents' code has no sandbox on this machine: ${state.reason}.`);
  if (!deps.globalState.get<boolean>(TOLD_KEY)) void tellOnce(deps.globalState, state.reason);
  return vscode.Disposable.from(item, settings.onDidChange("sandbox.require", show));
}

async function tellOnce(globalState: vscode.Memento, reason: string): Promise<void> {
  await globalState.update(TOLD_KEY, true);
  const allow = vscode.l10n.t("Run Tests Without Sandbox");
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t("Redgreen runs the code its agents write, and this machine has no sandbox for it: {0}. Until there is one, test runs are refused, unless you let them run with time and output limits and a clean environment only.", reason),
    allow,
  );
  if (choice === allow) await vscode.workspace.getConfiguration("redgreen").update("sandbox.require", false, vscode.ConfigurationTarget.Global);
}
