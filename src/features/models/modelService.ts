// The models feature's live parts: the model host process, its backend, the registry and the
// ModelManager, plus the status bar item that shows the host's state. The host and the backends
// are built by extension.ts (adapters/llm); this feature owns and shows them.
import os from "node:os";
import * as vscode from "vscode";
import { DisposableStore, type Disposable } from "../../core/lifecycle";
import type { Logger } from "../../core/logger";
import { ModelManager, type AskOptions, type AskResult } from "../../core/models/manager";
import type { ModelBackend } from "../../core/models/ports";
import { parseRegistry, type Registry, type Role } from "../../core/models/registry";
import type { ChatRequest } from "../../core/models/types";
import type { RedgreenLog } from "../../platform/log";
import type { Settings } from "../../platform/settings";
import { Commands } from "../../protocol/commands";
import { RegistrySource } from "./registrySource";

export interface ModelServices {
  extensionUri: vscode.Uri;
  log: RedgreenLog;
  settings: Settings;
  /** Keeps the user's answers about the workspace's model servers. */
  workspaceState: vscode.Memento;
  /**
   * Builds the way to the model host (the engine's, reached on the first request) and the
   * backends: the local one over the host, and OpenAI-compatible servers. Called once, here.
   */
  backends: (log: Logger) => ModelBackends;
}

/** The host's states (the adapter's own; `ModelHost.state` makes the compiler check they agree). */
export type HostState = "starting" | "ready" | "crashed" | "stopped";

/** The model host process, as this feature sees it: a state to show (adapters/llm/modelHostProcess). */
export interface ModelHost extends Disposable {
  readonly state: HostState;
  onDidChangeState(listener: (state: HostState, detail?: string) => void): Disposable;
}

/** The backend over the model host; it can also serve its models over HTTP (modelServer.ts). */
export interface LocalBackend extends ModelBackend, Disposable {
  serve(port: number, token: string): Promise<number>;
  stopServing(): Promise<void>;
}

export interface ModelBackends {
  host: ModelHost;
  local: LocalBackend;
  openai: ModelBackend;
}

export class ModelService implements vscode.Disposable {
  readonly host: ModelHost;
  readonly backend: LocalBackend;
  readonly manager: ModelManager;
  /** Settles once the latest registry has been read; commands wait for it. */
  ready: Promise<void>;
  private readonly store = new DisposableStore();
  private readonly source: RegistrySource;
  private loaded: Registry = parseRegistry({}, "empty");
  private readonly status = vscode.window.createStatusBarItem("redgreen.models", vscode.StatusBarAlignment.Left, 50);
  private readonly reloaded = this.store.add(new vscode.EventEmitter<void>());
  /** The registry was read again (the engine's team takes the new one). */
  readonly onDidReload = this.reloaded.event;

  constructor({ extensionUri, log, settings, workspaceState, backends }: ModelServices) {
    const { host, local, openai } = backends(log);
    // Released in reverse: the manager, then the backend, then the host it runs on.
    this.host = this.store.add(host);
    this.backend = this.store.add(local);
    const threads = () => settings.get("models.threads") || os.availableParallelism();
    this.manager = this.store.add(new ModelManager(parseRegistry({}, "empty"), { local: this.backend, openai }, { defaultThreads: threads }));
    this.source = this.store.add(new RegistrySource(extensionUri, settings, log, workspaceState));
    this.ready = this.reload();
    this.store.add(this.source.onDidChange(() => void this.reload()));

    this.store.add(this.status);
    this.status.name = vscode.l10n.t("Redgreen Models");
    this.status.command = Commands.showLogs;
    this.store.add(this.host.onDidChangeState((state, detail) => this.showState(state, detail)));
  }

  /** The registry in use: the layers merged, the workspace's screened (tests read it). */
  get registry(): Registry {
    return this.loaded;
  }

  /** Asks through the ModelManager once the registry has loaded. */
  async ask<T = string>(role: Role, request: ChatRequest, options?: AskOptions<T>): Promise<AskResult<T>> {
    await this.ready;
    return this.manager.ask(role, request, options);
  }

  /** Reads the registry again; commands that run meanwhile wait for it (through `ready`). */
  reload(): Promise<void> {
    const reloading = this.source.load().then((registry) => {
      this.loaded = registry;
      return this.manager.setRegistry(registry);
    }).then(() => this.reloaded.fire());
    this.ready = reloading;
    return reloading;
  }

  private showState(state: HostState, detail?: string): void {
    const labels: Record<HostState, string> = {
      starting: vscode.l10n.t("$(loading~spin) Models: starting"),
      ready: vscode.l10n.t("$(server-process) Models"),
      crashed: vscode.l10n.t("$(warning) Models: restarting"),
      stopped: vscode.l10n.t("$(circle-slash) Models: stopped"),
    };
    this.status.text = labels[state];
    this.status.tooltip = vscode.l10n.t("Redgreen model host: {0}{1}. Click for the logs.", state, detail ? ` (${detail})` : "");
    this.status.backgroundColor = state === "crashed" ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    this.status.show();
    if (state === "crashed") {
      void vscode.window.showWarningMessage(vscode.l10n.t("Redgreen's model host stopped ({0}) and is restarting.", detail ?? state));
    }
  }

  dispose(): void {
    this.store.dispose();
  }
}
