// The engine's team: one orchestrator for every project of the data folder, so the pairs of every
// window share one set of slots (and, next, one Resource Director). A client's team configures it
// with its settings and model registry and joins the projects it works on (a claim, with whether
// the client trusts the project's folder); the engine plans, runs pairs and completes
// functionalities for those projects with that client's settings and models, and asks that
// client's human. When the client goes, its projects' pairs stop at their next step, unless its
// `engine.keepWorking` was on: then they go on with its configuration until the work runs out.
import { promises as fs, statSync } from "node:fs";
import os from "node:os";
import { worktreeFiles } from "../adapters/exec/worktreeFiles";
import { processTestRunner } from "../adapters/exec/processTestRunner";
import { simpleGitPort } from "../adapters/git/simpleGit";
import { LocalModelBackend } from "../adapters/llm/localBackend";
import { OpenAiBackend } from "../adapters/llm/openAiBackend";
import { scanRepository } from "../adapters/repoScan";
import type { DevDecision, PlanningOutcome } from "../core/agents/planning";
import { isInside } from "../core/folderTrust";
import { GitOps } from "../core/gitops/gitOps";
import { describeError, type Logger } from "../core/logger";
import { memoryModelsOf } from "../core/memory/knowledge";
import { MemoryManager } from "../core/memory/memoryManager";
import { ModelManager } from "../core/models/manager";
import { parseRegistry } from "../core/models/registry";
import { Orchestrator } from "../core/orchestrator/orchestrator";
import type { SettingsReader } from "../core/orchestrator/settingsReader";
import { machineSlots, modelMemory, modelsToUnload, type Machine, type ModelFootprint } from "../core/resources/policy";
import { parseSetting, settingSchemas, type SettingKey, type SettingValue } from "../core/settings";
import { specFileOf } from "../core/spec/specFile";
import type { Project } from "../core/store/records";
import { pairWire, type AllocationStatus, type PairStatusWire } from "../protocol/engine";
import type { ProjectClaims } from "./claims";
import type { ModelHosting } from "./modelHosting";
import type { EngineClient } from "./server";
import type { SharedStore } from "./sharedStore";

/** How long a stopping engine waits for the pairs to reach a step boundary before cancelling them. */
const STOP_GRACE_MS = 4000;

/** One client's team: its settings and models (released once its client left and its work ended). */
interface TeamConfig {
  client: EngineClient;
  settings: SettingsReader;
  models: ModelManager;
  local: LocalModelBackend;
  released: boolean;
}

export interface EngineTeamOptions {
  store: SharedStore;
  log: Logger;
  hosting: ModelHosting;
  claims: ProjectClaims;
  /** The data folder's settings: the machine's, where no client's apply. */
  machine: SettingsReader;
  /** The machine's cores, measured now. */
  measure(): Machine;
  /** Asks the client's human whether to reuse an existing DEV branch. */
  decideDev(client: EngineClient, project: Project): Promise<DevDecision>;
  /** Tells every client what the pairs do now. */
  pairsChanged(pairs: PairStatusWire[], allocations: AllocationStatus[]): void;
  /** Tells the client's human (every client's, when the project has none) something to know now. */
  notify(client: EngineClient | undefined, level: "info" | "warn", text: string, projectId: string): void;
}

export class EngineTeam {
  private readonly configs = new Map<number, TeamConfig>();
  /** Projects whose client left with engine.keepWorking on: they go on with its configuration. */
  private readonly kept = new Map<string, TeamConfig>();
  /**
   * Project id → its folder, for the projects a client joined saying it trusts the folder. The
   * user's trust outlives the window that told it: a pair in the middle of a step when its window
   * closes still runs its tests there.
   */
  private readonly trusted = new Map<string, string>();
  /** The configuration each project was last joined with: a pair still in its step after its client left goes on with it. */
  private readonly joinedWith = new Map<string, TeamConfig>();
  private readonly orchestrator: Orchestrator;

  private constructor(private readonly options: EngineTeamOptions, readonly memory: MemoryManager) {
    const { log } = options;
    const runner = processTestRunner({
      isTrusted: (cwd) => [...this.trusted.values()].some((root) => isInside(cwd, root)),
      // One runner for every project: the strictest of the clients' sandbox settings.
      sandbox: { require: () => this.anySays("sandbox.require", true), network: () => !this.anySays("sandbox.network", false) },
    });
    this.orchestrator = new Orchestrator({
      memory, runner, log, files: worktreeFiles,
      models: (project) => this.configFor(project._id)?.models ?? this.unclaimed(project),
      settings: (project) => (project && this.configFor(project._id)?.settings) || this.machineSettings(),
      git: (project) => new GitOps(simpleGitPort, project.root, log, project.protectedBranch),
      readSpec: (project) => fs.readFile(specFileOf(project), "utf8"),
      scan: (project) => scanRepository(project.root, project.specPath),
      scope: (project) => this.configOf(project._id) !== undefined,
      onPairsChanged: () => this.tellPairs(),
      residency: {
        of: (project) => this.configFor(project._id)?.models.residencyOf("developer"),
        loaded: () => new Set(this.allConfigs().flatMap((config) => config.models.loadedResidencies())),
        memory: () => modelMemory(this.options.measure(), this.machineSettings(), this.localModels()),
      },
      refusal: (project) => Promise.resolve(this.trusted.has(project._id) ? undefined : `${project.root} is not trusted yet: run Plan Project or Start Pair to be asked`),
      human: {
        decideDev: (project) => this.decideDev(project),
        notify: (level, text, projectId) => options.notify(options.claims.holderOf(projectId), level, text, projectId),
      },
    }).start();
  }

  static async open(options: EngineTeamOptions): Promise<EngineTeam> {
    // Memory is opened first and asks the team for models only once it exists.
    const made: { team?: EngineTeam } = {};
    const models = (projectId: string | undefined) => made.team?.modelsFor(projectId) ?? unavailable();
    const memory = await MemoryManager.open({
      store: options.store,
      // Those of the project's team, else (no project) any team's.
      models: memoryModelsOf(models),
      workingCapacity: options.machine.get("memory.workingSize"),
      retentionDays: options.machine.get("store.retentionDays"),
    });
    made.team = new EngineTeam(options, memory);
    return made.team;
  }

  /** A client's team settings and registry (each checked here: a bad value is named and its default used). */
  async configure(client: EngineClient, raw: { settings: Record<string, unknown>; registry: Record<string, unknown> }): Promise<void> {
    const settings = clientSettings(raw.settings, (problem) => this.options.log.warn(`engine: a setting of ${client.client} pid ${client.pid}: ${problem}`));
    const registry = parseRegistry(raw.registry, `the model registry of ${client.client} pid ${client.pid}`);
    const existing = this.configs.get(client.id);
    if (existing) {
      existing.settings = settings;
      await existing.models.setRegistry(registry);
    } else {
      // The team's models are held in the host under the client's id negated, let go when it goes.
      const local = new LocalModelBackend(this.options.hosting.channel({ id: -client.id }));
      // Threads as the client's latest settings say (configure replaces them).
      const threads = () => (this.configs.get(client.id)?.settings ?? settings).get("models.threads") || os.availableParallelism();
      const models = new ModelManager(registry, { local, openai: new OpenAiBackend() }, { defaultThreads: threads, makeRoom: (residency) => this.makeRoom(residency) });
      this.configs.set(client.id, { client, settings, local, models, released: false });
    }
    this.orchestrator.reconsider();
    this.tellPairs();
  }

  /** The client's team works on the project from now on, unless another client holds it. */
  join(client: EngineClient, projectId: string, root: string, trusted: boolean): { granted: boolean; holderPid: number | null } {
    const config = this.configs.get(client.id);
    if (!config) throw new Error("Configure the team (team/configure) before joining a project");
    const claim = this.options.claims.claim(projectId, client);
    if (!claim.granted) return claim;
    this.kept.delete(projectId);
    this.joinedWith.set(projectId, config);
    if (trusted) this.trusted.set(projectId, root);
    else this.trusted.delete(projectId);
    this.orchestrator.reconsider();
    this.tellPairs();
    return claim;
  }

  plan(client: EngineClient, projectId: string): Promise<PlanningOutcome> {
    this.requireHeld(client, projectId);
    return this.orchestrator.plan(projectId);
  }

  startPairs(client: EngineClient, projectId: string): "started" | "running" {
    this.requireHeld(client, projectId);
    const busy = this.orchestrator.status().some((pair) => pair.projectId === projectId && !pair.pausing);
    this.orchestrator.startPairs(projectId);
    return busy ? "running" : "started";
  }

  pausePairs(client: EngineClient, projectId: string): Promise<boolean> {
    this.requireHeld(client, projectId);
    return this.orchestrator.pausePairs(projectId);
  }

  idle(projectId?: string): Promise<void> {
    return this.orchestrator.idle(projectId);
  }

  pairs(): PairStatusWire[] {
    return this.orchestrator.status().map((pair) => pairWire(pair, (role) => (pair.projectId ? this.configFor(pair.projectId)?.models.modelIdOf(role) : undefined)));
  }

  /** The Resource Director's last allocation. */
  /**
   * The executing projects whose pairs wait for Start Pair: paused or not started, and those no
   * client joined trusted yet (Start Pair joins them, asking about the folder).
   */
  async waitingForStart(): Promise<string[]> {
    const projects = await this.memory.projects.list();
    const waits = (project: Project) => !this.joinedWith.has(project._id) || !this.trusted.has(project._id) || this.orchestrator.waitsForStart(project);
    return projects.filter((project) => project.state === "executing" && waits(project)).map((project) => project._id);
  }

  /** The clients learn what the pairs do now (a join or new settings change what their boards offer). */
  private tellPairs(): void {
    this.options.pairsChanged(this.pairs(), this.allocations());
  }

  allocations(): AllocationStatus[] {
    return this.orchestrator.allocations();
  }

  /** Whether anything runs (a pair, a planning, a completion): the engine does not exit under it. */
  busy(): boolean {
    return this.orchestrator.busy();
  }

  /**
   * Clients that hung up: their projects leave the team (their pairs stop at the next step), or,
   * with engine.keepWorking, stay with their configuration. Call before their claims are forgotten.
   */
  clientsLeft(present: readonly EngineClient[]): void {
    const ids = new Set(present.map((client) => client.id));
    for (const [id, config] of [...this.configs]) {
      if (ids.has(id)) continue;
      this.configs.delete(id);
      const held = this.options.claims.heldBy(config.client);
      if (config.settings.get("engine.keepWorking")) for (const projectId of held) this.kept.set(projectId, config);
      else for (const projectId of held) this.orchestrator.forget(projectId);
      void this.releaseWhenDone(config, held);
    }
  }

  /**
   * Once nothing of its projects runs any more (the pairs stopped at their step, or with
   * keepWorking their work ran out), a departed client's configuration goes, and its models.
   */
  private async releaseWhenDone(config: TeamConfig, projectIds: string[]): Promise<void> {
    await Promise.all(projectIds.map((projectId) => this.orchestrator.idle(projectId)));
    for (const projectId of projectIds) {
      if (this.kept.get(projectId) === config) this.kept.delete(projectId);
      if (this.joinedWith.get(projectId) === config) this.joinedWith.delete(projectId);
    }
    if (![...this.kept.values()].includes(config)) this.release(config);
  }

  /** Stops the pairs at their next step boundary (cancelled after a grace), then lets go of the models. */
  async stop(): Promise<void> {
    let grace: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => (grace = setTimeout(() => resolve(false), STOP_GRACE_MS)));
    const stopped = await Promise.race([this.orchestrator.stop().then(() => true), late]);
    clearTimeout(grace);
    if (!stopped) this.options.log.warn(`engine: the pairs did not reach a step boundary within ${STOP_GRACE_MS / 1000} s: cancelled`);
    this.orchestrator.dispose();
    for (const config of new Set([...this.allConfigs(), ...this.joinedWith.values()])) this.release(config);
    this.memory.dispose();
  }

  private release(config: TeamConfig): void {
    if (config.released) return;
    config.released = true;
    config.models.dispose();
    config.local.dispose();
    this.options.hosting.release({ id: -config.client.id });
  }

  /** The configuration a project's work goes on with: its holder's, the kept one, or the one it was last joined with. */
  private configFor(projectId: string): TeamConfig | undefined {
    const config = this.configOf(projectId) ?? this.joinedWith.get(projectId);
    return config?.released ? undefined : config;
  }

  private configOf(projectId: string): TeamConfig | undefined {
    const holder = this.options.claims.holderOf(projectId);
    return holder ? this.configs.get(holder.id) : this.kept.get(projectId);
  }

  private allConfigs(): TeamConfig[] {
    return [...this.configs.values(), ...this.kept.values()];
  }

  private requireHeld(client: EngineClient, projectId: string): void {
    const holder = this.options.claims.holderOf(projectId);
    if (holder?.id !== client.id || !this.configs.has(client.id)) throw new Error(holder && holder.id !== client.id ? `Another Redgreen client (pid ${holder.pid}) works on this project` : "Join the project (team/join) first");
  }

  /**
   * Before a heavy model loads: the idle heavy models memory does not hold beside it are unloaded,
   * largest first. The Resource Director starts no pair that would need more at once; a chat or a
   * plan on a model in use is loaded beside it, and the log says so.
   */
  private async makeRoom(residency: string): Promise<void> {
    const memory = modelMemory(this.options.measure(), this.machineSettings(), this.localModels());
    const managers = this.allConfigs().map((config) => config.models);
    const resident = managers.flatMap((models) => models.loadedResidencies());
    const inUse = new Set(resident.filter((r) => managers.some((models) => models.inUse(r))));
    for (const other of modelsToUnload(memory, residency, resident, inUse)) await Promise.all(managers.map((models) => models.unloadIdle(other)));
    const left = new Set(managers.flatMap((models) => models.loadedResidencies()));
    const used = [...left].reduce((sum, r) => sum + (r === residency ? 0 : (memory.sizes.get(r) ?? 0)), 0);
    if (used > 0 && used + (memory.sizes.get(residency) ?? 0) > memory.capacity) this.options.log.warn(`engine: loading ${residency} beside heavy models in use; memory for heavy models (${gib(memory.capacity)}) does not hold them all`);
  }

  /** Every client's local models, with the bytes of their files (a missing file takes none: it cannot load). */
  private localModels(): ModelFootprint[] {
    return this.allConfigs().flatMap((config) => config.models.localModels()).map(({ residency, path, heavy }) => ({ residency, heavy, bytes: fileBytes(path) }));
  }

  /**
   * The machine's settings: the Resource Director's (`resources.*`) as the newest client's team
   * set them, else the data folder's; as many pair slots as the most any client's team
   * asks for, and as the machine holds after its reserve.
   */
  private machineSettings(): SettingsReader {
    const resources = this.allConfigs().at(-1)?.settings ?? this.options.machine;
    const asked = Math.max(this.options.machine.get("pairs.slots"), ...this.allConfigs().map((config) => config.settings.get("pairs.slots")));
    const slots = machineSlots(this.options.measure(), resources, asked);
    return { get: (key) => (key === "pairs.slots" ? slots : key.startsWith("resources.") ? resources.get(key) : this.options.machine.get(key)) as never };
  }

  private anySays(key: "sandbox.require" | "sandbox.network", value: boolean): boolean {
    const configs = this.allConfigs();
    return configs.length === 0 ? this.options.machine.get(key) === value : configs.some((config) => config.settings.get(key) === value);
  }

  /** Memory's models: the project's (never another client's); without a project, any team's. */
  private modelsFor(projectId: string | undefined): ModelManager | undefined {
    return projectId === undefined ? this.allConfigs()[0]?.models : this.configFor(projectId)?.models;
  }

  private unclaimed(project: Project): never {
    throw new Error(`No client's team works on "${project.name}" now`);
  }

  private async decideDev(project: Project): Promise<DevDecision> {
    const holder = this.options.claims.holderOf(project._id);
    if (!holder) return "pause";
    return this.options.decideDev(holder, project).catch((error: unknown) => {
      this.options.log.warn(`engine: asking about the DEV branch of "${project.name}": ${describeError(error)}; planning pauses`);
      return "pause" as const;
    });
  }
}

function unavailable(): never {
  throw new Error("No Redgreen window or command has configured its models with the engine yet");
}

/** A client's settings as sent, each checked by its schema; missing ones take their default. */
function clientSettings(raw: Record<string, unknown>, problem: (text: string) => void): SettingsReader {
  const values = new Map<string, unknown>();
  for (const key of Object.keys(settingSchemas) as SettingKey[]) {
    const parsed = parseSetting(key, raw[key]);
    if (parsed.problem && raw[key] !== undefined) problem(`redgreen.${key}: ${parsed.problem}`);
    values.set(key, parsed.value);
  }
  return { get: <K extends SettingKey>(key: K) => values.get(key) as SettingValue<K> };
}

function fileBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
