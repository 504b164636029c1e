// What the Kanban and Chat pages share: connect, ask for state, render it, and report what is shown.
import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-icon/index.js";
import {
  offeredCommands,
  type ProjectViewProtocol,
  type RenderReport,
  type ViewState,
} from "../../src/protocol/viewState";
import { connect } from "./client";
import { h } from "./dom";

export interface EmptyStateCopy {
  icon: string;
  title: string;
  body: string;
  createLabel: string;
  /** Optional extra content under the text (the Kanban shows its columns). */
  extra?: () => HTMLElement;
}

export function mountProjectView(protocol: ProjectViewProtocol, copy: EmptyStateCopy): void {
  const root = document.getElementById("root")!;
  const connection = connect(protocol);
  const { endpoint } = connection;
  let report: RenderReport = { view: protocol.view, showing: "loading", actions: [] };

  const render = (state: ViewState): void => {
    const action = state.createProjectCommand;
    root.replaceChildren(renderEmptyState(copy, action, (command) => endpoint.notify("runCommand", { command })));
    root.removeAttribute("aria-busy");
    report = { view: protocol.view, showing: state.kind, actions: offeredCommands(state) };
  };

  endpoint.handle("describe", () => report);
  endpoint.on("state", render);
  connection.start();
  endpoint.request("getState", {}).then(render, (error: unknown) => {
    root.replaceChildren(h("p", { className: "error", role: "alert" }, `Could not load: ${String(error)}`));
  });
}

function renderEmptyState(
  copy: EmptyStateCopy,
  createCommand: string | undefined,
  run: (command: string) => void,
): HTMLElement {
  const icon = h("vscode-icon", { className: "empty-icon" });
  icon.setAttribute("name", copy.icon);
  icon.setAttribute("size", "48");
  const section = h("section", { className: "empty-state" },
    icon,
    h("h2", { id: "empty-title" }, copy.title),
    h("p", { className: "empty-body" }, copy.body),
  );
  section.setAttribute("aria-labelledby", "empty-title");
  // Offered only when the command exists: an absent button beats a dead one.
  if (createCommand) {
    const button = h("vscode-button", {}, copy.createLabel);
    button.addEventListener("click", () => run(createCommand));
    section.append(button);
  }
  if (copy.extra) section.append(copy.extra());
  return section;
}
