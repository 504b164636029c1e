// Opens the store and the Memory Manager over it: by default the data folder's engine's store (one
// per user, shared with every window and the CLI; the engine is started when none answers), MongoDB
// when `redgreen.store.mongodbUri` is set (password from SecretStorage). Reopens when those settings
// or the password change, and restarts the engine with backoff when it stops or crashes. The
// opening itself is the adapters' (shared with the command line); this service adds the editor's
// parts: settings, secrets, messages, state.
import type { AllocationStatus, PairStatusWire } from "../../protocol/engine";
import * as vscode from "vscode";
import type { DevDecision, PlanningOutcome } from "../../core/agents/planning";
import { Emitter, type Disposable } from "../../core/lifecycle";
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
  /** `engine`: the engine the store goes through (absent with MongoDB, which the window opens itself). */
  | { kind: "open"; store: Store; memory: MemoryManager; engine?: EngineLink }
  /** `restarting`: the engine stopped or crashed, and is being started again. */
  | { kind: "failed"; message: string; restarting?: boolean };

export interface StoreServices {
  context: Pick<vscode.ExtensionContext, "secrets">;
  log: Logger;
  settings: Settings;
  models: MemoryModels;
  /** Opens MongoDB (extension.ts passes adapters/store/openStore, which the CLI shares). */
  openStore(options: StoreOpening): Promise<Store>;
  /** Opens the data folder's engine's store (adapters/engine/engineStore, with the extension's dist/ and version). */
  openEngineStore(options: { dataFolder: string; onLost(why: string): void }): Promise<{ store: Store; engine: EngineLink }>;
}

/** The engine a store goes through, and its project claims (adapters/engine/engineStore makes it). */
export interface EngineLink {
  pid: number;
  dataFolder: string;
  /** Undefined when this client may change the project (it holds it now), else who holds it. */
  claim(projectId: string): Promise<{ holderPid: number } | undefined>;
  /** The engine's team, which plans and runs the pairs of the projects this window joins. */
  team: EngineTeamLink;
}

/** The engine's team as a window reaches it (adapters/engine/engineStore makes it). */
export interface EngineTeamLink {
  /** This window's settings and model registry, for the projects it joins. */
  configure(settings: Record<string, unknown>, registry: Record<string, unknown>): Promise<void>;
  /** This window's team works on the project; undefined when it does, else who holds it. */
  join(projectId: string, trusted: boolean): Promise<{ holderPid: number } | undefined>;
  plan(projectId: string): Promise<PlanningOutcome>;
  startPairs(projectId: string): Promise<"started" | "running">;
  pausePairs(projectId: string): Promise<boolean>;
  idle(): Promise<void>;
  /** The engine's pairs at work now: on this window's projects, and in all. */
  pairs(): Promise<PairStatusWire[]>;
  /** The Resource Director's allocation of every busy project. */
  allocations(): Promise<AllocationStatus[]>;
  /** The executing projects whose pairs wait for Start Pair (undefined from an older engine). */
  waitingForStart(): Promise<string[] | undefined>;
  /** A pair of the engine took a ticket or let it go, or the allocation changed. */
  /** Answers the engine's question about an existing DEV branch of one of this window's projects. */
  onDecideDev(answer: (projectId: string, name: string) => Promise<DevDecision>): Disposable;
  /** A pair of the engine took a ticket or let it go. */
  onPairsChanged(listener: () => void): Disposable;
  /** Something the human should know now, about one of this window's projects. */
  onNotice(listener: (notice: { level: "info" | "warn"; text: string; projectId: string }) => void): Disposable;
}

/** MongoDB's URI and password, and where the store's problems go. */
export interface StoreOpening {
  mongodbUri: string;
  password?: string;
  onProblem(message: string): void;
}

/** Waits before restarting a lost engine: 0.5 s, doubling, at most 30 s, until one starts. */
const RESTART_FIRST_MS = 500;
const RESTART_MAX_MS = 30_000;

export class StoreService implements vscode.Disposable {
  private state: StoreState = { kind: "opening" };
  private opening: Promise<StoreState>;
  private queued: Promise<StoreState> | undefined;
  private readonly changed = new Emitter<StoreState>();
  private readonly subscriptions: vscode.Disposable[];
  private readonly closingHooks = new Set<(memory: MemoryManager) => Promise<void>>();
  private disposed = false;
  /** Restarts since the engine was lost; 0 while the store is open or was never lost. */
  private restarts = 0;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly services: StoreServices) {
    this.opening = this.open();
    const reopen = () => void this.reopen();
    this.subscriptions = [
      services.settings.onDidChange("store.mongodbUri", reopen),
      services.settings.onDidChange("engine.dataFolder", reopen),
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

  /**
   * Why this window's team may not work on a project now: another client of the engine (a window
   * or a `redgreen` command) holds it, until that client goes. Undefined when this window holds it
   * (the first to ask gets it), or with MongoDB, which the window opens itself.
   */
  async claimRefusal(projectId: string): Promise<string | undefined> {
    // The state now, not ready(): during a reopen that waits for the team to stop, waiting here would wait on itself.
    const state = this.state;
    if (state.kind !== "open") return vscode.l10n.t("Redgreen's store is not open");
    try {
      const held = await state.engine?.claim(projectId);
      return held && vscode.l10n.t("another Redgreen client (pid {0}: a window or a redgreen command) runs its team", held.holderPid);
    } catch (error) {
      return vscode.l10n.t("the Redgreen engine did not answer: {0}", describeError(error));
    }
  }

  /** Calls `listener` with the state now, and with each state after. */
  followState(listener: (state: StoreState) => void): vscode.Disposable {
    listener(this.state);
    return this.onDidChange(listener);
  }

  /** Subscribes to the open Memory Manager's events, and again to each one a reopen brings. */
  followMemory(subscribe: (memory: MemoryManager) => { dispose(): void }): vscode.Disposable {
    let current: { dispose(): void } | undefined;
    const listener = this.followState((state) => {
      current?.dispose();
      current = state.kind === "open" ? subscribe(state.memory) : undefined;
    });
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
    state.memory.dispose();
    await state.store.close();
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
    clearTimeout(this.restartTimer);
    const state = await this.opening.catch(() => undefined);
    if (state?.kind === "open") await this.closeOpen(state);
  }

  private async open(): Promise<StoreState> {
    const { log, settings, models } = this.services;
    this.set({ kind: "opening" });
    try {
      const { store, engine } = await this.openConfigured();
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
      if (this.restarts > 0) log.info(`The Redgreen engine is back (pid ${engine?.pid}) after ${this.restarts} attempt(s)`);
      this.restarts = 0;
      // A restart still waiting would close the store just opened.
      clearTimeout(this.restartTimer);
      return this.set({ kind: "open", store, memory, engine });
    } catch (error) {
      return this.failed(describeError(error), !settings.get("store.mongodbUri"));
    }
  }

  /** MongoDB when a URI is set, else the engine's store. */
  private async openConfigured(): Promise<{ store: Store; engine?: EngineLink }> {
    const { log, settings, context } = this.services;
    const uri = settings.get("store.mongodbUri");
    if (!uri) {
      // The engine that hangs up is this store's: a later reopen's engine is another.
      const opened: { store?: Store } = {};
      const engineStore = await this.services.openEngineStore({ dataFolder: settings.get("engine.dataFolder"), onLost: (why) => opened.store && this.engineLost(why, opened.store) });
      opened.store = engineStore.store;
      return engineStore;
    }
    const store = await this.services.openStore({
      mongodbUri: uri,
      // Secret storage is read only when MongoDB needs it.
      password: await context.secrets.get(MONGO_PASSWORD_KEY),
      onProblem: (message) => {
        log.warn(message);
        void vscode.window.showWarningMessage(vscode.l10n.t("Redgreen store: {0}", message));
      },
    });
    return { store };
  }

  private failed(message: string, throughEngine: boolean): StoreState {
    if (this.restarts > 0) {
      // Restarting: the status bar says so; one error message was enough.
      this.services.log.warn(`The Redgreen engine could not be started again (attempt ${this.restarts}): ${message}`);
    } else {
      this.services.log.error(`The store could not be opened: ${message}`);
      void vscode.window.showErrorMessage(vscode.l10n.t("Redgreen could not open its store: {0}", message));
    }
    // An engine that could not be reached (it was stopping, say) is tried again with backoff;
    // MongoDB waits for its settings or password to change.
    if (!throughEngine) return this.set({ kind: "failed", message });
    this.scheduleRestart();
    return this.set({ kind: "failed", message, restarting: true });
  }

  /**
   * The engine of `lost` hung up: the store is gone until the engine is started again, with
   * backoff. The team stops first (its writes fail meanwhile); nothing acknowledged is lost, the
   * engine made it durable before answering.
   */
  private engineLost(why: string, lost: Store): void {
    if (this.disposed) return;
    this.services.log.warn(`${why}: restarting it`);
    this.opening = this.opening.then(async (previous) => {
      if (previous.kind !== "open" || previous.store !== lost) return previous;
      await this.closeOpen(previous).catch((error: unknown) => this.services.log.warn(`After the engine stopped: ${describeError(error)}`));
      this.scheduleRestart();
      return this.set({ kind: "failed", message: why, restarting: true });
    });
  }

  private scheduleRestart(): void {
    if (this.disposed) return;
    const wait = Math.min(RESTART_MAX_MS, RESTART_FIRST_MS * 2 ** this.restarts);
    this.restarts++;
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => void this.reopen(), wait);
  }

  private set(state: StoreState): StoreState {
    this.state = state;
    this.changed.fire(state);
    return state;
  }

  dispose(): void {
    clearTimeout(this.restartTimer);
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
