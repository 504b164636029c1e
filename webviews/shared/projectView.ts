// What the Kanban and Chat pages share: connect, ask for state, render it, and report what is shown.
import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-icon/index.js";
import {
  offeredCommands,
  type ProjectViewProtocol,
  type RenderReport,
  type ViewState,
} from "../../src/protocol/viewState";
import { connect, type WebviewEndpoint } from "./client";
import { h } from "./dom";
import { Commands, type CommandId } from "../../src/protocol/commands";

export interface EmptyStateCopy {
  icon: string;
  title: string;
  body: string;
  createLabel: string;
  /** Optional extra content under the text (the Kanban shows its columns). */
  extra?: () => HTMLElement;
}

type ProjectState = Extract<ViewState, { kind: "project" }>;

/** A view's rendering of the current project; `details` feeds the page's render report. */
export interface ProjectRenderer<P extends ProjectViewProtocol> {
  render(root: HTMLElement, state: ProjectState, endpoint: WebviewEndpoint<P>, run: (command: CommandId) => void): void;
  details?(): RenderReport["details"];
}

export function mountProjectView<P extends ProjectViewProtocol>(protocol: P, copy: EmptyStateCopy, project: ProjectRenderer<P>): WebviewEndpoint<P> {
  const root = document.getElementById("root")!;
  const connection = connect(protocol);
  const { endpoint } = connection;
  // The shared messages, through the shared part of the protocol.
  const common = endpoint as unknown as WebviewEndpoint<ProjectViewProtocol>;
  let report: RenderReport = { view: protocol.view, showing: "loading", actions: [] };
  const run = (command: CommandId) => common.notify("runCommand", { command });

  const render = (state: ViewState): void => {
    if (state.kind === "project") project.render(root, state, endpoint, run);
    else root.replaceChildren(renderEmptyState(copy, state.createProjectCommand, run));
    root.removeAttribute("aria-busy");
    report = { view: protocol.view, showing: state.kind, actions: offeredCommands(state) };
  };

  common.handle("describe", () => ({ ...report, ...(report.showing === "project" && project.details ? { details: project.details() } : {}) }));
  common.on("state", render);
  connection.start();
  common.request("getState", {}).then(render, (error: unknown) => {
    root.replaceChildren(h("p", { className: "error", role: "alert" }, `Could not load: ${String(error)}`));
  });
  return endpoint;
}

function renderEmptyState(
  copy: EmptyStateCopy,
  createCommand: CommandId | undefined,
  run: (command: CommandId) => void,
): HTMLElement {
  const section = h("section", { className: "empty-state" },
    icon(copy.icon, 48, "empty-icon"),
    h("h2", { id: "empty-title" }, copy.title),
    h("p", { className: "empty-body" }, copy.body),
  );
  section.setAttribute("aria-labelledby", "empty-title");
  // Offered only when the command exists: an absent button beats a dead one.
  if (createCommand) section.append(button(copy.createLabel, () => run(createCommand)));
  if (copy.extra) section.append(copy.extra());
  return section;
}

export function icon(name: string, size = 16, className = ""): HTMLElement {
  const element = h("vscode-icon", { className });
  element.setAttribute("name", name);
  element.setAttribute("size", String(size));
  return element;
}

/**
 * `disabledWhy`: the button is there but does nothing now, and says why (on a wrapper: a disabled
 * button takes no pointer or focus, so its own tooltip would never show; the reason is its
 * accessible description too).
 */
export function button(label: string, onClick: () => void, options: { secondary?: boolean; icon?: string; disabledWhy?: string } = {}): HTMLElement {
  const element = h("vscode-button", {}, label);
  if (options.secondary) element.setAttribute("secondary", "");
  if (options.icon) element.setAttribute("icon", options.icon);
  element.addEventListener("click", () => {
    if (!element.hasAttribute("disabled")) onClick();
  });
  if (!options.disabledWhy) return element;
  element.setAttribute("disabled", "");
  element.setAttribute("aria-description", options.disabledWhy);
  return h("span", { className: "disabled-why", title: options.disabledWhy }, element);
}

const STATE_LABELS: Record<ProjectState["project"]["state"], string> = {
  drafting: "drafting", approved: "approved", planning: "planning", executing: "executing", onHold: "on hold", done: "done",
};

const percent = (fraction: number) => `${Math.round(fraction * 100)} %`;

/** The Resource Director's allocation against what the project's pairs used. */
function resourcesBadge(resources: NonNullable<ProjectState["project"]["resources"]>): HTMLElement {
  const over = resources.use > resources.share + 0.05;
  const badge = h("span", { className: `badge resources${over ? " over" : ""}` }, `share ${percent(resources.share)} · use ${percent(resources.use)}`);
  badge.title = `The Resource Director gives this project ${percent(resources.share)} of the machine (its tier's quota: ${percent(resources.quota)}); its pairs used ${percent(resources.use)} over the last few minutes (a quarter of the review cycle); ${resources.pairs} pair${resources.pairs === 1 ? "" : "s"} at work.`;
  return badge;
}

/** The project's name, state and priority (and its share of the machine), with a switch button when Open Project exists. */
export function projectHeader(state: ProjectState, run: (command: CommandId) => void): HTMLElement {
  const { project } = state;
  const header = h("header", { className: "project-header" },
    h("span", { className: "project-name" }, project.name),
    h("span", { className: `badge state-${project.state}` }, STATE_LABELS[project.state]),
    h("span", { className: "badge" }, project.priority),
  );
  if (project.resources) header.append(resourcesBadge(project.resources));
  if (state.commands.includes(Commands.openProject)) {
    const change = h("vscode-button", { className: "switch", title: "Open another project" }, "Switch…");
    change.setAttribute("secondary", "");
    change.addEventListener("click", () => run(Commands.openProject));
    header.append(change);
  }
  return header;
}
