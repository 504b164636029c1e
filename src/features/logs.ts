import * as vscode from "vscode";
import type { RedgreenLog } from "../platform/log";
import { Commands } from "../protocol/commands";

export function registerLogCommands(log: RedgreenLog): vscode.Disposable {
  return vscode.commands.registerCommand(Commands.showLogs, () => log.show());
}
