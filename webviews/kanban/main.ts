import "../shared/base.css";
import "./kanban.css";
import { kanbanProtocol } from "../../src/protocol/kanban";
import { h } from "../shared/dom";
import { mountProjectView, projectHeader } from "../shared/projectView";

const LANES = ["Backlog", "To do", "In progress", "Review", "Done"];
const lanes = () => h("ol", { className: "lanes", ariaLabel: "Board columns" }, ...LANES.map((lane) => h("li", {}, lane)));

mountProjectView(kanbanProtocol, {
  icon: "project",
  title: "No project yet",
  body: "When a project's spec is approved, the Architect splits it into tickets. They appear here and move across the board as the agents work.",
  createLabel: "New Project…",
  extra: lanes,
}, {
  render(root, state, _endpoint, run) {
    const waiting = state.project.state === "drafting"
      ? "No tickets yet: approve the spec, then the Architect splits it into tickets."
      : "No tickets yet.";
    root.replaceChildren(projectHeader(state, run), h("p", { className: "board-note" }, waiting), lanes());
  },
});
