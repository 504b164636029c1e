// The CLI's container: every service a command needs, each built once, the heavy ones only when a
// command asks for them (the store, through the data folder's engine, when it reads projects; the
// model host when it needs a model). Commands get this and never construct adapters; `plan` and
// `run` take the orchestrator from here, over the same memory, git factory, test runner and models.
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { processTestRunner, type ProcessTestRunner } from "../adapters/exec/processTestRunner";
import { worktreeFiles } from "../adapters/exec/worktreeFiles";
import { simpleGitPort } from "../adapters/git/simpleGit";
import { scanRepository } from "../adapters/repoScan";
import { LocalModelBackend } from "../adapters/llm/localBackend";
import { ModelHostProcess } from "../adapters/llm/modelHostProcess";
import { OpenAiBackend } from "../adapters/llm/openAiBackend";
import { EngineConnection } from "../adapters/engine/engineClient";
import { RemoteStore } from "../adapters/engine/remoteStore";
import { EngineModelHost } from "../adapters/engine/engineModelHost";
import { engineTeamLink, type EngineTeamLink } from "../adapters/engine/engineStore";
import { settingsSnapshot } from "../core/settings";
import { claimResult, EngineMethods } from "../protocol/engine";
import { CliError } from "./errors";
import packageJson from "../../package.json";
import type { GitPort } from "../core/gitops/git";
import { GitOps } from "../core/gitops/gitOps";
import type { Logger } from "../core/logger";
import { memoryModelsOf } from "../core/memory/knowledge";
import { MemoryManager } from "../core/memory/memoryManager";
import { ModelManager } from "../core/models/manager";
import type { HumanPort } from "../core/orchestrator/human";
import { Orchestrator } from "../core/orchestrator/orchestrator";
import { specFileOf } from "../core/spec/specFile";
import type { SettingsReader } from "../core/orchestrator/settingsReader";
import type { Store } from "../core/store/port";
import type { Project } from "../core/store/records";
import { dataFiles, resolveDataDir } from "../adapters/dataFolder/dataDir";
import { loadRegistry, type LoadedRegistry } from "./modelRegistry";
import { Output, type LogLevel } from "./output";
import { openDataFolderStore } from "../adapters/dataFolder/dataStore";
import { DataFolderSettings } from "../adapters/dataFolder/settings";
import { TrustList } from "../adapters/dataFolder/trustList";

/** The options every command has (see program.ts). */
export interface GlobalOptions {
  data?: string;
  /** The store in this process (CI machines, containers) instead of through the data folder's engine. */
  inProcess?: boolean;
  trust?: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

export class CliServices {
  readonly dataDir: string;
  readonly files: ReturnType<typeof dataFiles>;
  readonly out: Output;
  readonly log: Logger;
  readonly settings: DataFolderSettings;
  readonly trust: TrustList;
  readonly gitPort: GitPort = simpleGitPort;
  private opened: Promise<{ store: Store; memory: MemoryManager }> | undefined;
  private connection: Promise<EngineConnection> | undefined;
  private runner: ProcessTestRunner | undefined;
  private modelParts: { host: ModelHostProcess | EngineModelHost; backend: LocalModelBackend; manager: ModelManager } | undefined;

  constructor(private readonly options: GlobalOptions, env: NodeJS.ProcessEnv = process.env) {
    const level: LogLevel = options.verbose ? "debug" : options.quiet ? "error" : "warn";
    this.out = new Output(process.stdout, process.stderr, level, env);
    this.log = this.out.logger();
    this.dataDir = resolveDataDir(options.data, env);
    this.files = dataFiles(this.dataDir);
    this.settings = new DataFolderSettings(this.files.settings, this.log);
    this.trust = new TrustList(this.files.trust);
  }

  /** Whether this command runs the store and the team in its own process (--in-process). */
  get inProcess(): boolean {
    return this.options.inProcess === true;
  }

  /** The Memory Manager over the store (opened on first use). */
  async memory(): Promise<MemoryManager> {
    this.opened ??= this.openMemory();
    return (await this.opened).memory;
  }

  private async openMemory(): Promise<{ store: Store; memory: MemoryManager }> {
    // --in-process: the store opened here, its lock held until this command ends (which leaves sweeping to the next).
    const store = this.options.inProcess ? await openDataFolderStore(this.dataDir, this.settings, this.log, 0) : new RemoteStore(await this.engine(), this.log);
    try {
      const memory = await MemoryManager.open({
        store,
        // Built only when memory really needs a model (embeddings, summaries).
        models: memoryModelsOf(() => this.models()),
        workingCapacity: this.settings.get("memory.workingSize"),
        retentionDays: this.settings.get("store.retentionDays"),
      });
      this.log.debug(`Store: ${store.kind} at ${store.location}`);
      return { store, memory };
    } catch (error) {
      await store.close();
      throw error;
    }
  }


  /** The data folder's engine, started (dist/engine.js beside this file) when none answers, unless `start` is false. */
  engine(start = true): Promise<EngineConnection> {
    const entry = start ? path.join(__dirname, "engine.js") : undefined;
    this.connection ??= EngineConnection.open({ dataDir: this.dataDir, entry, version: packageJson.version, client: "cli", log: this.log });
    return this.connection;
  }

  /**
   * This process changes the project until it ends: another command that would change it, here
   * or in another terminal, is refused meanwhile (each client reads before it writes, so two at
   * once could overwrite each other). With --in-process the store's lock keeps every other
   * process out already.
   */
  async claimProject(project: Pick<Project, "_id" | "name">): Promise<void> {
    if (this.options.inProcess) return;
    const claim = await (await this.engine()).request(EngineMethods.claimProject, { projectId: project._id }, claimResult);
    if (!claim.granted) throw new CliError(`"${project.name}" is being changed by another redgreen command (pid ${claim.holderPid}): wait for it to finish, or stop a run there with Ctrl-C`);
  }

  /**
   * Git for a project, through Redgreen's policy (GitOps): refused unless its folder is trusted
   * (or --trust says so now), and the project claimed for this command (see claimProject).
   * `what` is what the user wanted to do, for the refusal.
   */
  async git(project: Pick<Project, "_id" | "name" | "root" | "protectedBranch">, what: string): Promise<GitOps> {
    await this.requireTrusted(project.root, what);
    await this.claimProject(project);
    return new GitOps(this.gitPort, project.root, this.log, project.protectedBranch);
  }

  /** Throws the refusal unless `folder` is trusted; with --trust, trusts it (and keeps that) first. */
  async requireTrusted(folder: string, what: string): Promise<void> {
    if (this.options.trust && !this.trust.isTrusted(folder)) {
      await this.trust.remember(folder, true);
      this.out.progress(`Trusted ${path.resolve(folder)} (kept in ${this.files.trust})`);
    }
    this.trust.require(folder, what);
  }

  /** The test runner: the sandbox as the settings say, nothing at all in an untrusted folder. */
  testRunner(): ProcessTestRunner {
    this.runner ??= processTestRunner({
      isTrusted: (cwd) => this.trust.isTrusted(cwd),
      sandbox: { require: () => this.settings.get("sandbox.require"), network: () => this.settings.get("sandbox.network") },
    });
    return this.runner;
  }

  /**
   * The team for one project (the orchestrator over this process's memory, models, git and test
   * runner), working as if auto-start were on: `run` is the human's request to work.
   */
  async orchestrator(project: Project, human: HumanPort): Promise<Orchestrator> {
    const memory = await this.memory();
    const settings: SettingsReader = { get: (key) => (key === "pairs.autoStart" ? true : this.settings.get(key)) as never };
    return new Orchestrator({
      memory, models: () => this.models(project), runner: this.testRunner(), files: worktreeFiles, settings: () => settings, human, log: this.log,
      git: (p) => new GitOps(this.gitPort, p.root, this.log, p.protectedBranch),
      readSpec: (p) => fs.readFile(specFileOf(p), "utf8"),
      scan: (p) => scanRepository(p.root, p.specPath),
      refusal: (p) => Promise.resolve(this.trust.isTrusted(p.root) ? undefined : `${p.root} is not trusted: run redgreen trust ${p.root}`),
      scope: (p) => p._id === project._id,
    });
  }

  /**
   * The engine's team for this command's project: configured with the data folder's settings and
   * the project's registry, the project joined (refused while another client holds it), the
   * terminal as its human. `work`: pairs start by themselves (`run` is the human's request to
   * work); without it (`plan`) none starts.
   */
  async engineTeam(project: Project, human: HumanPort, work: boolean): Promise<EngineTeamLink> {
    const connection = await this.engine();
    const link = engineTeamLink(connection, this.log);
    const { registry, dropped } = this.registry(project);
    for (const drop of dropped) this.log.warn(`${drop.source} defines the model "${drop.id}", left out (${drop.reason})`);
    await link.configure({ ...settingsSnapshot(this.settings), "pairs.autoStart": work }, registry);
    const memory = await this.memory();
    link.onDecideDev(async (projectId) => human.decideDev((await memory.projects.get(projectId)) ?? project));
    link.onNotice(({ level, text, projectId }) => human.notify(level, text, projectId));
    const held = await link.join(project._id, this.trust.isTrusted(project.root));
    if (held) throw new CliError(`"${project.name}" is being changed by another Redgreen client (pid ${held.holderPid}): wait for it to finish, or stop a run there with Ctrl-C`);
    return link;
  }

  /** The registry layers for a project (its own file only when its folder is trusted). */
  registry(project?: Pick<Project, "root">): LoadedRegistry {
    return loadRegistry(this.files.models, project && { root: project.root, trusted: this.trust.isTrusted(project.root) });
  }

  /**
   * The ModelManager, built on first use with the local model host (the engine's, shared with every
   * window and command; with --in-process a child process of this command running
   * dist/modelHost.js) and OpenAI-compatible servers. `project` picks the registry.
   */
  models(project?: Pick<Project, "root">): ModelManager {
    if (this.modelParts) return this.modelParts.manager;
    const { registry, dropped } = this.registry(project);
    for (const drop of dropped) this.log.warn(`${drop.source} defines the model "${drop.id}", left out (${drop.reason})`);
    const host = this.options.inProcess
      ? new ModelHostProcess({ entry: path.join(__dirname, "modelHost.js"), log: this.log, gpu: this.settings.get("models.gpu") === "auto" ? "auto" : false })
      : new EngineModelHost(() => this.engine(), this.log, false);
    const backend = new LocalModelBackend(host);
    const threads = () => this.settings.get("models.threads") || os.availableParallelism();
    const manager = new ModelManager(registry, { local: backend, openai: new OpenAiBackend() }, { defaultThreads: threads });
    this.modelParts = { host, backend, manager };
    return manager;
  }

  /** Releases everything that was opened: the model host, then the store (its lock). */
  async close(): Promise<void> {
    if (this.modelParts) {
      this.modelParts.manager.dispose();
      this.modelParts.backend.dispose();
      this.modelParts.host.dispose();
    }
    const opened = await this.opened?.catch(() => undefined);
    await opened?.store.close();
    (await this.connection?.catch(() => undefined))?.dispose();
  }
}
