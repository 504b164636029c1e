// activate() builds the services and registers each feature; nothing else lives here. This is the
// one place that constructs adapters: features get them passed in (eslint.config.mjs enforces it).
import { processTestRunner } from "./adapters/exec/processTestRunner";
import * as vscode from "vscode";
import { describeError } from "./core/logger";
import { registerLogCommands } from "./features/logs";
import { registerAskModel } from "./features/models/askModel";
import { registerModelServer } from "./features/models/modelServer";
import { ModelService, type ModelBackends } from "./features/models/modelService";
import { registerSelectModelFiles } from "./features/models/selectModelFiles";
import { registerChatView, registerKanbanView, type ProjectSource } from "./features/projectViews";
import { registerSetMongoPassword, StoreService } from "./features/store/storeService";
import { registerEngineStatus } from "./features/store/engineStatus";
import { registerStoreImport } from "./features/store/storeImport";
import { openEmbeddedStore } from "./adapters/store/embedded/embeddedStore";
import { registerProjects } from "./features/projects/projectsFeature";
import { CurrentProject } from "./features/projects/currentProject";
import { ProjectTrust } from "./features/projects/projectTrust";
import { registerPmChat } from "./features/chat/pmChat";
import { registerKanbanBoard } from "./features/kanban/kanbanBoard";
import { registerWorktreeCleanup } from "./features/tickets/closedWorktrees";
import { registerTicketReview, type TicketReview } from "./features/review/ticketReview";
import { registerTeam, type Team } from "./features/team/teamFeature";
import { worktreeFiles } from "./adapters/exec/worktreeFiles";
import { scanRepository } from "./adapters/repoScan";
import { GitOps } from "./core/gitops/gitOps";
import { simpleGitPort } from "./adapters/git/simpleGit";
import { describeModelFile } from "./adapters/llm/ggufFile";
import { LocalModelBackend } from "./adapters/llm/localBackend";
import { OpenAiBackend } from "./adapters/llm/openAiBackend";
import { openStore } from "./adapters/store/openStore";
import { connectEditor, openEngineStore, type EditorEngine } from "./adapters/engine/engineStore";
import { EngineModelHost } from "./adapters/engine/engineModelHost";
import path from "node:path";
import type { Project } from "./core/store/records";
import { memoryModelsOf } from "./core/memory/knowledge";
import type { SandboxProbe } from "./adapters/exec/sandbox";
import { registerSandboxNotice, type SandboxState } from "./features/sandbox/sandboxNotice";
import { RedgreenLog } from "./platform/log";
import { Settings } from "./platform/settings";

/** What activate() returns while the extension runs under tests: handles on its live parts. */
export interface RedgreenTestApi {
  log: RedgreenLog;
  views: {
    kanban: ReturnType<typeof registerKanbanView>;
    chat: ReturnType<typeof registerChatView>;
  };
  store: StoreService;
  current: CurrentProject;
  models: ModelService;
  secrets: vscode.SecretStorage;
  review: TicketReview;
  trust: ProjectTrust;
  /** Where this workspace's store was before the engine (what Import This Workspace's Earlier Store reads). */
  oldStoreFolder: string | undefined;
}

export function activate(context: vscode.ExtensionContext): RedgreenTestApi | undefined {
  const log = new RedgreenLog();
  // Logs and their command come first so that a failed activation can still show them.
  context.subscriptions.push(log, registerLogCommands(log));
  try {
    const services = { extensionUri: context.extensionUri, log, settings: new Settings(log) };
    const { version } = context.extension.packageJSON as { version: string };
    const editorEngine = (): EditorEngine => ({ dataFolder: services.settings.get("engine.dataFolder"), distFolder: path.join(context.extensionUri.fsPath, "dist"), version, log });
    const models = new ModelService({ ...services, workspaceState: context.workspaceState, backends: () => {
        const made = modelBackends(editorEngine, log);
        // Another data folder is another engine: its model host serves from then on.
        context.subscriptions.push(services.settings.onDidChange("engine.dataFolder", () => made.host.reconnect("the engine's data folder changed")));
        return made;
      },
    });
    const trust = new ProjectTrust(context.globalState);
    const oldStoreFolder = context.storageUri && path.join(context.storageUri.fsPath, "store");
    const store = new StoreService({
      context, log, settings: services.settings, models: memoryModelsOf(() => models.manager), openStore,
      openEngineStore: (options) => openEngineStore({ ...editorEngine(), ...options }),
    });
    // One git factory for every feature that runs git in a project's folder.
    const git = (project: Project) => new GitOps(simpleGitPort, project.root, log, project.protectedBranch);
    storeToClose = store;
    const current = new CurrentProject(store, context.workspaceState, () => (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath));
    // One test runner for the pairs and the Architect's check before DEV; never in an untrusted workspace.
    const runner = processTestRunner({
      isTrusted: (cwd) => trust.knows(cwd),
      sandbox: { require: () => services.settings.get("sandbox.require"), network: () => services.settings.get("sandbox.network") },
    });
    // The team: planning, pairs and completions, driven by the store's events (core/orchestrator).
    const team = registerTeam({
      store, current, models, settings: services.settings, log, runner, trust,
      git,
      files: worktreeFiles,
      scan: (project) => scanRepository(project.root, project.specPath),
    });
    const shown = shownProject(current, team);
    const kanban = registerKanbanView(services, shown);
    const chat = registerChatView(services, shown);
    const review = registerTicketReview({ store, log, teamIdle: () => team.idle(), trust, git });
    context.subscriptions.push(
      models,
      store,
      current,
      kanban,
      chat,
      registerSelectModelFiles({ log, describeModelFile, onAssigned: () => models.reload() }),
      registerAskModel(models, log),
      registerModelServer(models, services.settings, context.secrets, log),
      registerSetMongoPassword(context.secrets, log),
      team,
      registerProjects({ store, current, git: simpleGitPort, settings: services.settings, log, trust }),
      registerPmChat({ view: chat, store, models, log, onProjectChanged: () => current.touch() }),
      registerKanbanBoard({ view: kanban, store, pairs: { list: () => team.pairs(), onDidChange: team.onDidChangePairs }, log, onProjectChanged: () => current.touch() }),
      registerWorktreeCleanup({ store, log, trust, git }),
      registerSandboxNotice({ state: sandboxState(runner.sandboxProbe()), settings: services.settings, log, globalState: context.globalState }),
      review,
      registerEngineStatus({ store, workingPairs: () => team.workingPairs(), onDidChangePairs: team.onDidChangePairs }),
      registerStoreImport({
        store, log,
        oldFolder: oldStoreFolder,
        openOld: (folder, onProblem) => openEmbeddedStore(folder, { onProblem }),
      }),
    );
    log.info(`Redgreen ${version} activated`);
    return context.extensionMode === vscode.ExtensionMode.Test ? { log, views: { kanban, chat }, store, current, models, secrets: context.secrets, review, trust, oldStoreFolder } : undefined;
  } catch (error) {
    log.error(error instanceof Error ? error : String(error));
    void reportActivationFailure(log, error);
    return undefined;
  }
}

async function reportActivationFailure(log: RedgreenLog, error: unknown): Promise<void> {
  const showLogs = vscode.l10n.t("Show Logs");
  const choice = await vscode.window.showErrorMessage(
    vscode.l10n.t("Redgreen could not start: {0}", describeError(error)),
    showLogs,
  );
  if (choice === showLogs) log.show();
}

/** The engine's model host (reached on the first request) and the backends the ModelManager routes to. */
function modelBackends(engine: () => EditorEngine, log: RedgreenLog): ModelBackends & { host: EngineModelHost } {
  const host = new EngineModelHost(() => connectEditor(engine()), log, true);
  return { host, local: new LocalModelBackend(host), openai: new OpenAiBackend() };
}

function sandboxState(probe: SandboxProbe): SandboxState {
  return probe.kind === "none" ? { sandboxed: false, reason: probe.reason } : { sandboxed: true, name: probe.kind };
}

let storeToClose: StoreService | undefined;

/** Everything else is released through context.subscriptions; the store's files are closed here, awaited. */
export async function deactivate(): Promise<void> {
  await storeToClose?.close();
}

/** What the views show: the current project and, from the team, its share of the machine. */
function shownProject(current: CurrentProject, team: Team): ProjectSource {
  return {
    get: () => current.get(),
    resources: async (projectId) => {
      const allocation = await team.allocation(projectId);
      return allocation && { quota: allocation.quota, share: allocation.share, use: allocation.use, pairs: allocation.pairs };
    },
    waitsForStart: (project) => team.waitsForStart(project),
    onDidChange: (listener) => vscode.Disposable.from(current.onDidChange(listener), team.onDidChangePairs(listener)),
  };
}
