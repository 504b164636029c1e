// The status bar says where the store is and what the engine does: starting, running N pairs of
// this window, idle, restarting after a crash, or failed. A click shows Redgreen's logs.
import * as vscode from "vscode";
import { Commands } from "../../protocol/commands";
import type { StoreService, StoreState } from "./storeService";

export interface EngineStatusDeps {
  store: StoreService;
  /** Pairs working now on this window's projects. */
  workingPairs(): Promise<number>;
  /** A pair took a ticket or let it go. */
  onDidChangePairs: vscode.Event<void>;
}

export function registerEngineStatus(deps: EngineStatusDeps): vscode.Disposable {
  const item = vscode.window.createStatusBarItem("redgreen.engine", vscode.StatusBarAlignment.Left, 51);
  item.name = vscode.l10n.t("Redgreen Engine");
  item.command = { title: vscode.l10n.t("Show Logs"), command: Commands.showLogs };
  let state: StoreState = { kind: "opening" };
  let pairs = 0;
  const show = () => {
    const view = describe(state, pairs);
    item.text = view.text;
    item.tooltip = `${view.tooltip}\n${vscode.l10n.t("Click for Redgreen's logs.")}`;
    item.backgroundColor = view.background ? new vscode.ThemeColor(view.background) : undefined;
    item.show();
  };
  const countPairs = async () => {
    pairs = await deps.workingPairs().catch(() => pairs);
    show();
  };
  return vscode.Disposable.from(
    item,
    deps.store.followState((next) => {
      state = next;
      show();
      // Pairs may be at work already (the engine's, for this window's projects).
      if (next.kind === "open") void countPairs();
    }),
    deps.onDidChangePairs(() => void countPairs()),
  );
}

function describe(state: StoreState, pairs: number): { text: string; tooltip: string; background?: string } {
  switch (state.kind) {
    case "opening":
      return { text: `$(sync~spin) ${vscode.l10n.t("Redgreen engine")}`, tooltip: vscode.l10n.t("Connecting to the Redgreen engine (starting it if none runs)…") };
    case "failed":
      return state.restarting
        ? { text: `$(sync~spin) ${vscode.l10n.t("Redgreen engine restarting")}`, tooltip: state.message, background: "statusBarItem.warningBackground" }
        : { text: `$(error) ${vscode.l10n.t("Redgreen store failed")}`, tooltip: state.message, background: "statusBarItem.errorBackground" };
    case "open": {
      const work = pairs === 0 ? vscode.l10n.t("idle") : pairs === 1 ? vscode.l10n.t("1 pair") : vscode.l10n.t("{0} pairs", pairs);
      const where = state.engine
        ? vscode.l10n.t("The Redgreen engine (pid {0}) of {1} owns the store; every window and the redgreen command line share it.", state.engine.pid, state.engine.dataFolder)
        : vscode.l10n.t("The store is MongoDB at {0}, opened by this window.", state.store.location);
      return { text: `$(server-process) ${vscode.l10n.t("Redgreen: {0}", work)}`, tooltip: `${where}\n${vscode.l10n.t("Pairs working on this window's projects: {0}.", pairs)}` };
    }
  }
}
