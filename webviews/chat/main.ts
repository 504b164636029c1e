import "../shared/base.css";
import "./chat.css";
import { chatProtocol } from "../../src/protocol/chat";
import { h } from "../shared/dom";
import { mountProjectView } from "../shared/projectView";

mountProjectView(chatProtocol, {
  icon: "comment-discussion",
  title: "No project yet",
  body: "The PM agent writes the project's spec with you here and asks before anything is approved.",
  createLabel: "New Project…",
  extra: () =>
    h("p", { className: "offline-note" }, "Redgreen talks only to the models you configure, on this machine by default. It calls no cloud service."),
});
