// A window of an earlier Redgreen kept its store in the workspace's extension storage; now every
// window shares the engine's. When such a store has records, the window offers to copy them into
// the engine's store (and "Import This Workspace's Earlier Store" does it on demand): every record
// is copied, checked to have arrived, and the old files are kept, with a note that they were
// imported so that the offer is not made again.
import { promises as fs } from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { describeError, type Logger } from "../../core/logger";
import { copyStore, type CopyReport } from "../../core/store/copyStore";
import type { Store } from "../../core/store/port";
import { CommandRefusal, registerRedgreenCommand } from "../../platform/command";
import { Commands } from "../../protocol/commands";
import type { StoreService, StoreState } from "./storeService";

/** Written into the old store's folder once its records are verified in the engine's store. */
export const IMPORTED_NOTE = "imported.json";

export interface StoreImportDeps {
  store: StoreService;
  log: Logger;
  /** The workspace's store from before the engine (`<workspace storage>/store`); undefined without a folder. */
  oldFolder: string | undefined;
  /** Opens that store in this process (the embedded adapter, from extension.ts). */
  openOld(folder: string, onProblem: (message: string) => void): Promise<Store>;
}

export function registerStoreImport(deps: StoreImportDeps): vscode.Disposable {
  let offered = false;
  const offerOnce = (state: StoreState) => {
    if (offered || state.kind !== "open" || !state.engine) return;
    offered = true;
    void offerImport(deps).catch((error: unknown) => deps.log.warn(`The earlier store's import offer: ${describeError(error)}`));
  };
  return vscode.Disposable.from(
    deps.store.followState(offerOnce),
    registerRedgreenCommand<CopyReport>(Commands.importWorkspaceStore, deps.log, {
      title: vscode.l10n.t("Import This Workspace's Earlier Store"),
      run: () => importOldStore(deps),
    }),
  );
}

/** Whether `folder` holds a store with records that was not imported yet. */
async function waitsForImport(folder: string): Promise<boolean> {
  const names = await fs.readdir(folder).catch(() => [] as string[]);
  if (names.includes(IMPORTED_NOTE)) return false;
  const sizes = await Promise.all(names.filter((name) => name.endsWith(".jsonl")).map((name) => fs.stat(path.join(folder, name)).then((stat) => stat.size)));
  return sizes.some((size) => size > 0);
}

async function offerImport(deps: StoreImportDeps): Promise<void> {
  if (!deps.oldFolder || !(await waitsForImport(deps.oldFolder))) return;
  const importIt = vscode.l10n.t("Import");
  const choice = await vscode.window.showInformationMessage(
    vscode.l10n.t("This workspace has a Redgreen store from before every window shared one. Import its projects, tickets and chat into the shared store? Its files are kept."),
    importIt,
    vscode.l10n.t("Not Now"),
  );
  if (choice === importIt) await vscode.commands.executeCommand(Commands.importWorkspaceStore);
}

async function importOldStore(deps: StoreImportDeps): Promise<CopyReport> {
  const { oldFolder, log } = deps;
  if (!oldFolder || !(await fs.stat(oldFolder).catch(() => undefined))) throw new CommandRefusal(vscode.l10n.t("This workspace has no earlier Redgreen store."));
  const state = await deps.store.ready();
  if (state.kind !== "open") throw new CommandRefusal(vscode.l10n.t("Redgreen's store is not open: {0}", state.kind === "failed" ? state.message : vscode.l10n.t("still opening")));
  const old = await deps.openOld(oldFolder, (message) => log.warn(`The earlier store: ${message}`));
  let report: CopyReport;
  try {
    report = await copyStore(old, state.store);
  } finally {
    await old.close();
  }
  await fs.writeFile(path.join(oldFolder, IMPORTED_NOTE), `${JSON.stringify({ into: state.store.location, at: new Date().toISOString(), collections: report.collections }, null, 2)}\n`, { mode: 0o600 });
  const copied = Object.values(report.collections).reduce((sum, c) => sum + c.copied, 0);
  log.info(`Imported the earlier store of this workspace (${oldFolder}): ${copied} of ${report.total} records copied, every one verified; its files are kept`);
  // Working memory and the views reload from the shared store, which now holds the old records.
  await deps.store.reopen();
  void vscode.window.showInformationMessage(vscode.l10n.t("Imported {0} records into the shared store; the earlier files are kept in {1}.", report.total, oldFolder));
  return report;
}
