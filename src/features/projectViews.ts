import * as vscode from "vscode";
import { chatProtocol } from "../protocol/chat";
import { kanbanProtocol } from "../protocol/kanban";
import { offeredCommands, type ProjectViewProtocol, type ViewState } from "../protocol/viewState";
import { WebviewViewHost, type ViewHostServices } from "../platform/webview/viewHost";
import { Commands } from "./commands";

export function registerKanbanView(services: ViewHostServices): WebviewViewHost<typeof kanbanProtocol> {
  return registerProjectView("redgreen.kanban", kanbanProtocol, vscode.l10n.t("Kanban"), services);
}

export function registerChatView(services: ViewHostServices): WebviewViewHost<typeof chatProtocol> {
  return registerProjectView("redgreen.chat", chatProtocol, vscode.l10n.t("Chat"), services);
}

/** A view that shows the current project, or an empty state that offers to create one. */
function registerProjectView<P extends ProjectViewProtocol>(
  viewId: string,
  protocol: P,
  title: string,
  services: ViewHostServices,
): WebviewViewHost<P> {
  const host = new WebviewViewHost(viewId, protocol, title, services);
  // The shared messages are handled through the shared part of the protocol.
  const endpoint: WebviewViewHost<ProjectViewProtocol>["endpoint"] = host.endpoint;
  endpoint.handle("getState", () => currentState());
  endpoint.on("runCommand", ({ command }) => {
    void (async () => {
      // A page may only run what its current state offers, never an arbitrary command.
      if (!offeredCommands(await currentState()).includes(command)) {
        services.log.warn(`The ${protocol.view} view asked to run ${command}, which it does not offer; ignored.`);
        return;
      }
      await vscode.commands.executeCommand(command);
    })().catch((error: unknown) => services.log.error(error instanceof Error ? error : String(error)));
  });
  return host;
}

async function currentState(): Promise<ViewState> {
  const commands = new Set(await vscode.commands.getCommands(true));
  return commands.has(Commands.newProject)
    ? { kind: "noProject", createProjectCommand: Commands.newProject }
    : { kind: "noProject" };
}
