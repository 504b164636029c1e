import * as vscode from "vscode";
import type { RedgreenLog } from "../platform/log";
import { registerRedgreenCommand } from "../platform/command";
import { Commands } from "../protocol/commands";

export function registerLogCommands(log: RedgreenLog): vscode.Disposable {
  return registerRedgreenCommand(Commands.showLogs, log, { title: vscode.l10n.t("Show Logs"), run: () => Promise.resolve(log.show()) });
}
