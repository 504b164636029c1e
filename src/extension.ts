// activate() builds the services and registers each feature; nothing else lives here.
import { processTestRunner } from "./adapters/exec/processTestRunner";
import * as vscode from "vscode";
import { describeError } from "./core/logger";
import { registerLogCommands } from "./features/logs";
import { registerAskModel } from "./features/models/askModel";
import { registerModelServer } from "./features/models/modelServer";
import { ModelService } from "./features/models/modelService";
import { registerSelectModelFiles } from "./features/models/selectModelFiles";
import { registerChatView, registerKanbanView } from "./features/projectViews";
import { registerSetMongoPassword, StoreService } from "./features/store/storeService";
import { registerProjects } from "./features/projects/projectsFeature";
import { CurrentProject } from "./features/projects/currentProject";
import { registerPmChat } from "./features/chat/pmChat";
import { registerPlanning } from "./features/planning/planningFeature";
import { registerKanbanBoard } from "./features/kanban/kanbanBoard";
import { registerWorktreeCleanup } from "./features/tickets/closedWorktrees";
import { registerPairs } from "./features/pairs/pairsFeature";
import { registerTicketReview, type TicketReview } from "./features/review/ticketReview";
import { simpleGitPort } from "./adapters/git/simpleGit";
import { RedgreenLog } from "./platform/log";
import { Settings } from "./platform/settings";
import type { Project } from "./core/store/records";

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
}

export function activate(context: vscode.ExtensionContext): RedgreenTestApi | undefined {
  const log = new RedgreenLog();
  // Logs and their command come first so that a failed activation can still show them.
  context.subscriptions.push(log, registerLogCommands(log));
  try {
    const services = { extensionUri: context.extensionUri, log, settings: new Settings(log) };
    const models = new ModelService(services);
    const store = new StoreService({ context, log, settings: services.settings, models: models.manager });
    storeToClose = store;
    const current = new CurrentProject(store, context.workspaceState);
    const planning = registerPlanning({ store, current, models, log });
    const kanban = registerKanbanView(services, current);
    const chat = registerChatView(services, current);
    const review = registerTicketReview({ store, log, suiteGreen: suiteChecker(services.settings) });
    context.subscriptions.push(
      models,
      store,
      current,
      kanban,
      chat,
      registerSelectModelFiles(log, () => models.reload()),
      registerAskModel(models, log),
      registerModelServer(models, services.settings, context.secrets, log),
      registerSetMongoPassword(context.secrets, log),
      planning,
      registerProjects({ store, current, git: simpleGitPort, settings: services.settings, log, onApproved: (id) => void planning.plan(id) }),
      registerPmChat({ view: chat, store, models, log, onProjectChanged: () => current.touch() }),
      registerKanbanBoard({ view: kanban, store, log, onProjectChanged: () => current.touch() }),
      registerWorktreeCleanup({ store, log }),
      registerPairs({ store, current, models, settings: services.settings, log }),
      review,
    );
    const { version } = context.extension.packageJSON as { version: string };
    log.info(`Redgreen ${version} activated`);
    return context.extensionMode === vscode.ExtensionMode.Test ? { log, views: { kanban, chat }, store, current, models, secrets: context.secrets, review } : undefined;
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

/**
 * The project's test command in a checkout, green when it exits 0. A stand-in until the exec
 * adapter's test runner (output limits, process-tree kill) is wired in here instead.
 */
/** The suite on a feature branch before it merges into DEV: the test runner's clean, limited run. */
function suiteChecker(settings: Settings): (project: Project, worktree: string) => Promise<boolean> {
  const runner = processTestRunner({ isTrusted: () => vscode.workspace.isTrusted });
  return async (project, worktree) => {
    const run = await runner.run({ cwd: worktree, command: project.testCommand, timeoutMs: settings.get("tdd.testTimeoutSeconds") * 1000, outputCapBytes: 200_000 });
    // A suite that could not run (timeout, missing command, syntax error) is not a red suite: it is reported.
    if (run.summary.outcome === "error") throw new Error(`\`${project.testCommand}\` could not run properly${run.timedOut ? " (time limit)" : ""}: ${run.output.slice(-300)}`);
    return run.summary.outcome === "pass";
  };
}

let storeToClose: StoreService | undefined;

/** Everything else is released through context.subscriptions; the store's files are closed here, awaited. */
export async function deactivate(): Promise<void> {
  await storeToClose?.close();
}
