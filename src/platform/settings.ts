import * as vscode from "vscode";
import type { Logger } from "../core/logger";
import { parseSetting, type SettingKey, type SettingValue } from "../core/settings";

/** The one typed way to read Redgreen's settings: validated, with a clear warning for bad values. */
export class Settings {
  /** The last problem said for each key, so that each bad value is said once, not on every read. */
  private readonly reported = new Map<SettingKey, string>();

  constructor(private readonly log: Logger) {}

  get<K extends SettingKey>(key: K): SettingValue<K> {
    const raw = vscode.workspace.getConfiguration("redgreen").get<unknown>(key);
    const { value, problem } = parseSetting(key, raw);
    if (problem) this.report(key, problem);
    return value;
  }

  onDidChange(key: SettingKey, listener: () => void): vscode.Disposable {
    return vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`redgreen.${key}`)) listener();
    });
  }

  private report(key: SettingKey, problem: string): void {
    if (this.reported.get(key) === problem) return;
    this.reported.set(key, problem);
    this.log.warn(problem);
    const openSettings = vscode.l10n.t("Open Settings");
    void vscode.window.showWarningMessage(problem, openSettings).then((choice) => {
      if (choice === openSettings) {
        void vscode.commands.executeCommand("workbench.action.openSettings", `redgreen.${key}`);
      }
    });
  }
}
