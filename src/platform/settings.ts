import * as vscode from "vscode";
import type { Logger } from "../core/logger";
import { parseSetting, type SettingKey, type SettingValue } from "../core/settings";

/** A setting's value at user level and the workspace's values (workspace, then its first folder's). */
export interface SettingLayers<K extends SettingKey> {
  user: SettingValue<K> | undefined;
  workspace: SettingValue<K>[];
}

/** The one typed way to read Redgreen's settings: validated, with a clear warning for bad values. */
export class Settings {
  /** The last problem said for each key, so that each bad value is said once, not on every read. */
  private readonly reported = new Map<SettingKey, string>();

  constructor(private readonly log: Logger) {}

  get<K extends SettingKey>(key: K): SettingValue<K> {
    return this.parse(key, vscode.workspace.getConfiguration("redgreen").get<unknown>(key));
  }

  /**
   * The user's own value and the workspace's, apart (unset ones undefined): a workspace's value is
   * whatever the repository's .vscode/settings.json says, and some rules trust only the user's.
   */
  inspect<K extends SettingKey>(key: K): SettingLayers<K> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const found = vscode.workspace.getConfiguration("redgreen", folder).inspect<unknown>(key);
    const read = (raw: unknown) => (raw === undefined ? undefined : this.parse(key, raw));
    const workspace = [found?.workspaceValue, found?.workspaceFolderValue]
      .filter((raw, i, all) => raw !== undefined && (i === 0 || JSON.stringify(raw) !== JSON.stringify(all[0])));
    return { user: read(found?.globalValue), workspace: workspace.map((raw) => this.parse(key, raw)) };
  }

  onDidChange(key: SettingKey, listener: () => void): vscode.Disposable {
    return vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`redgreen.${key}`)) listener();
    });
  }

  private parse<K extends SettingKey>(key: K, raw: unknown): SettingValue<K> {
    const { value, problem } = parseSetting(key, raw);
    if (problem) this.report(key, problem);
    return value;
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
