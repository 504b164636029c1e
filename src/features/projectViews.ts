import * as vscode from "vscode";
import type { Project } from "../core/store/records";
import { chatProtocol } from "../protocol/chat";
import { kanbanProtocol } from "../protocol/kanban";
import { offeredCommands, type ProjectSummary, type ProjectViewProtocol, type ViewState } from "../protocol/viewState";
import { WebviewViewHost, type ViewHostServices } from "../platform/webview/viewHost";
import { Commands } from "../protocol/commands";

/** Where the views learn which project to show, and its share of the machine. */
export interface ProjectSource {
  get(): Promise<Project | undefined>;
  resources(projectId: string): Promise<ProjectSummary["resources"]>;
  /** Whether the project's pairs wait for Start Pair (undefined: unknown, both buttons offered). */
  waitsForStart(project: Project): Promise<boolean | undefined>;
  onDidChange(listener: () => void): { dispose(): void };
}

export function registerKanbanView(services: ViewHostServices, projects: ProjectSource): WebviewViewHost<typeof kanbanProtocol> {
  return registerProjectView("redgreen.kanban", kanbanProtocol, vscode.l10n.t("Kanban"), services, projects);
}

export function registerChatView(services: ViewHostServices, projects: ProjectSource): WebviewViewHost<typeof chatProtocol> {
  return registerProjectView("redgreen.chat", chatProtocol, vscode.l10n.t("Chat"), services, projects);
}

/** A view that shows the current project, or an empty state that offers to create one. */
function registerProjectView<P extends ProjectViewProtocol>(
  viewId: string,
  protocol: P,
  title: string,
  services: ViewHostServices,
  projects: ProjectSource,
): WebviewViewHost<P> {
  const host = new WebviewViewHost(viewId, protocol, title, services);
  // The shared messages are handled through the shared part of the protocol.
  const endpoint: WebviewViewHost<ProjectViewProtocol>["endpoint"] = host.endpoint;
  const state = () => currentState(projects);
  endpoint.handle("getState", state);
  endpoint.on("runCommand", ({ command }) => {
    void (async () => {
      // A page may only run what its current state offers, never an arbitrary command.
      if (!offeredCommands(await state()).includes(command)) {
        services.log.warn(`The ${protocol.view} view asked to run ${command}, which it does not offer; ignored.`);
        return;
      }
      await vscode.commands.executeCommand(command);
    })().catch((error: unknown) => services.log.error(error instanceof Error ? error : String(error)));
  });
  const subscription = projects.onDidChange(() => {
    void state().then((next) => endpoint.notify("state", next), (error: unknown) => services.log.error(error instanceof Error ? error : String(error)));
  });
  host.onDispose(() => subscription.dispose());
  return host;
}

// Approving is not offered to pages: a page approves only through the chat's confirm step.
const PROJECT_COMMANDS = [Commands.openProject, Commands.newProject, Commands.compareSpecWithApproved, Commands.selectModelFiles, Commands.planProject, Commands.resumeProject, Commands.pauseProject, Commands.startPair, Commands.pausePair];

async function currentState(projects: ProjectSource): Promise<ViewState> {
  const commands = new Set(await vscode.commands.getCommands(true));
  const project = await projects.get().catch(() => undefined);
  if (project) {
    const resources = await projects.resources(project._id).catch(() => undefined);
    const pairsWaitForStart = project.state === "executing" ? await projects.waitsForStart(project).catch(() => undefined) : false;
    return {
      kind: "project",
      project: { id: project._id, name: project.name, state: project.state, priority: project.priority, specPath: project.specPath, ...(pairsWaitForStart !== undefined ? { pairsWaitForStart } : {}), ...(resources ? { resources } : {}) },
      commands: PROJECT_COMMANDS.filter((command) => commands.has(command)),
    };
  }
  return commands.has(Commands.newProject) ? { kind: "noProject", createProjectCommand: Commands.newProject } : { kind: "noProject" };
}
