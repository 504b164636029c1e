// Opens the store and the Memory Manager over it: the embedded store in the workspace's extension
// storage by default, MongoDB when `redgreen.store.mongodbUri` is set (password from SecretStorage).
// Reopens when those settings or the password change. The opening itself is the adapters' (shared
// with the command line); this service adds the editor's parts: settings, secrets, messages, state.
import path from "node:path";
import * as vscode from "vscode";
import { Emitter } from "../../core/lifecycle";
import { describeError, type Logger } from "../../core/logger";
import type { MemoryModels } from "../../core/memory/knowledge";
import { MemoryManager } from "../../core/memory/memoryManager";
import type { Store } from "../../core/store/port";
import type { Settings } from "../../platform/settings";
import { registerRedgreenCommand } from "../../platform/command";
import { Commands } from "../../protocol/commands";

export const MONGO_PASSWORD_KEY = "redgreen.store.mongodbPassword";

export type StoreState =
  | { kind: "opening" }
  | { kind: "open"; store: Store; memory: MemoryManager }
  | { kind: "failed"; message: string };

export interface StoreServices {
  context: Pick<vscode.ExtensionContext, "storageUri" | "secrets">;
  log: Logger;
  settings: Settings;
  models: MemoryModels;
  /** Opens the store the settings choose (extension.ts passes adapters/store/openStore, which the CLI shares). */
  openStore(options: StoreOpening): Promise<Store>;
}

/** Which store to open: the settings' values, the password and where its problems go. */
export interface StoreOpening {
  mongodbUri?: string;
  password?: string;
  embeddedFolder?: string;
  onProblem(message: string): void;
}

export class StoreService implements vscode.Disposable {
  private state: StoreState = { kind: "opening" };
  private opening: Promise<StoreState>;
  private queued: Promise<StoreState> | undefined;
  private readonly changed = new Emitter<StoreState>();
  private readonly subscriptions: vscode.Disposable[];
  private readonly closingHooks = new Set<(memory: MemoryManager) => Promise<void>>();
  private disposed = false;

  constructor(private readonly services: StoreServices) {
    this.opening = this.open();
    const reopen = () => void this.reopen();
    this.subscriptions = [
      services.settings.onDidChange("store.mongodbUri", reopen),
      services.settings.onDidChange("store.retentionDays", reopen),
      services.settings.onDidChange("memory.workingSize", reopen),
      services.context.secrets.onDidChange((event) => {
        if (event.key === MONGO_PASSWORD_KEY && services.settings.get("store.mongodbUri")) reopen();
      }),
    ];
  }

  /** The store and memory once open (or the reason they are not). */
  ready(): Promise<StoreState> {
    return this.opening;
  }

  readonly onDidChange = this.changed.event;

  /** The open Memory Manager, or an error that says why there is none. */
  async memory(): Promise<MemoryManager> {
    const state = await this.ready();
    if (state.kind !== "open") throw new Error(state.kind === "failed" ? `Redgreen's store is not open: ${state.message}` : "Redgreen's store is still opening");
    return state.memory;
  }

  /** Subscribes to the open Memory Manager's events, and again to each one a reopen brings. */
  followMemory(subscribe: (memory: MemoryManager) => { dispose(): void }): vscode.Disposable {
    let current: { dispose(): void } | undefined;
    const attach = (state: StoreState) => {
      current?.dispose();
      current = state.kind === "open" ? subscribe(state.memory) : undefined;
    };
    if (this.state.kind === "open") attach(this.state);
    const listener = this.onDidChange(attach);
    return new vscode.Disposable(() => {
      listener.dispose();
      current?.dispose();
    });
  }

  /**
   * Work that must end before the open store closes (a reopen, deactivation): the team stops its
   * pairs at a step boundary. Hooks are awaited, and their failures logged, before the store closes.
   */
  beforeClose(hook: (memory: MemoryManager) => Promise<void>): vscode.Disposable {
    this.closingHooks.add(hook);
    return new vscode.Disposable(() => this.closingHooks.delete(hook));
  }

  private async closeOpen(state: Extract<StoreState, { kind: "open" }>): Promise<void> {
    const hooks = [...this.closingHooks].map((hook) => hook(state.memory).catch((error: unknown) => this.services.log.warn(`Before the store closed: ${describeError(error)}`)));
    await Promise.all(hooks);
    await state.store.close();
  }

  /** The embedded store's folder: per workspace, outside the repository (see the README). */
  get embeddedLocation(): string | undefined {
    const base = this.services.context.storageUri;
    return base && path.join(base.fsPath, "store");
  }

  /**
   * Closes and opens again. Reopens run one at a time, and requests that arrive while one is
   * waiting to start share it (one settings save can change several store settings at once).
   */
  reopen(): Promise<StoreState> {
    if (this.queued) return this.queued;
    const run = this.opening
      .catch((): StoreState => this.state)
      .then(async (previous) => {
        this.queued = undefined;
        if (previous.kind === "open") {
          await this.closeOpen(previous).catch((error: unknown) => this.services.log.warn(`The store did not close cleanly: ${describeError(error)}`));
        }
        return this.open();
      });
    this.queued = run;
    this.opening = run;
    return run;
  }

  /** Closes the store (deactivation waits for this, so its lock is released). */
  async close(): Promise<void> {
    this.disposed = true;
    const state = await this.opening.catch(() => undefined);
    if (state?.kind === "open") await this.closeOpen(state);
  }

  private async open(): Promise<StoreState> {
    const { log, settings, context, models } = this.services;
    this.set({ kind: "opening" });
    const uri = settings.get("store.mongodbUri");
    try {
      const location = this.embeddedLocation;
      if (!uri && !location) {
        // Without a folder there is no project, and a shared global store would make every
        // empty window compete for one lock.
        log.info("No folder is open: the embedded store opens with one");
        return this.set({ kind: "failed", message: vscode.l10n.t("Open a folder: Redgreen keeps its store per workspace.") });
      }
      const store = await this.services.openStore({
        mongodbUri: uri,
        // Secret storage is read only when MongoDB needs it.
        password: uri ? await context.secrets.get(MONGO_PASSWORD_KEY) : undefined,
        embeddedFolder: location,
        onProblem: (message) => {
          log.warn(message);
          void vscode.window.showWarningMessage(vscode.l10n.t("Redgreen store: {0}", message));
        },
      });
      if (this.disposed) {
        await store.close();
        return this.state;
      }
      const memory = await MemoryManager.open({
        store,
        models,
        workingCapacity: settings.get("memory.workingSize"),
        retentionDays: settings.get("store.retentionDays"),
      }).catch(async (error: unknown) => {
        await store.close();
        throw error;
      });
      log.info(`Store: ${store.kind} at ${store.location}`);
      return this.set({ kind: "open", store, memory });
    } catch (error) {
      const message = describeError(error);
      log.error(`The store could not be opened: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t("Redgreen could not open its store: {0}", message));
      return this.set({ kind: "failed", message });
    }
  }

  private set(state: StoreState): StoreState {
    this.state = state;
    this.changed.fire(state);
    return state;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
    void this.close().catch(() => undefined);
  }
}

/** "Redgreen: Set MongoDB Password…": asks for it and keeps it in SecretStorage only. */
export function registerSetMongoPassword(secrets: vscode.SecretStorage, log: Logger): vscode.Disposable {
  return registerRedgreenCommand(Commands.setMongoPassword, log, { title: vscode.l10n.t("Set MongoDB Password"), run: () => askMongoPassword(secrets, log) });
}

async function askMongoPassword(secrets: vscode.SecretStorage, log: Logger): Promise<void> {
  const password = await vscode.window.showInputBox({
    title: vscode.l10n.t("MongoDB Password"),
    prompt: vscode.l10n.t("Kept in VS Code's secret storage, never in settings. Leave empty to remove it."),
    password: true,
    ignoreFocusOut: true,
  });
  if (password === undefined) return;
  if (password === "") {
    await secrets.delete(MONGO_PASSWORD_KEY);
    log.info("MongoDB password removed from secret storage");
  } else {
    await secrets.store(MONGO_PASSWORD_KEY, password);
    log.info("MongoDB password saved in secret storage");
  }
}
