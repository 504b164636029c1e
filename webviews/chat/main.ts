import "@vscode-elements/elements/dist/vscode-textarea/index.js";
import "../shared/base.css";
import "./chat.css";
import { chatProtocol, type ChatEntry, type TurnEnded, type TurnPhase } from "../../src/protocol/chat";
import type { WebviewEndpoint } from "../shared/client";
import { h } from "../shared/dom";
import { button, mountProjectView, projectHeader } from "../shared/projectView";
import { renderMarkdown } from "./markdown";
import { Commands, type CommandId } from "../../src/protocol/commands";

type Endpoint = WebviewEndpoint<typeof chatProtocol>;

/** The page's chat state, kept across re-renders of the project header. */
const chat = {
  projectId: "",
  entries: [] as ChatEntry[],
  agents: [] as ChatEntry[],
  turn: undefined as { id: string; text: string; phase?: TurnPhase; since?: number } | undefined,
  /** The project as last shown, but its allocation and pairs (a change reloads the conversation). */
  summary: "",
  /** The phases the last turn went through, in order (what the page showed). */
  phases: [] as TurnPhase[],
  lastSent: "",
  notice: undefined as HTMLElement | undefined,
  noticeKind: "",
  proposalId: "",
  approvalId: "",
  /** Turns that ended before the host's answer to "send" arrived (a fast failure). */
  ended: new Set<string>(),
};

let els: { log: HTMLElement; agentsLog: HTMLElement; notice: HTMLElement; input: HTMLTextAreaElement & { value: string }; send: HTMLElement; stop: HTMLElement } | undefined;
let runCommand: (command: CommandId) => void = () => undefined;
/** The reply being streamed, held by reference (a reply's own markup cannot stand in for it). */
let streamingBody: HTMLElement | undefined;
/** The running turn's phase and elapsed time, kept current once a second. */
let phaseLine: HTMLElement | undefined;

const PHASE_TEXT: Record<TurnPhase, string> = { classifying: "Reading your message", answering: "Answering", drafting: "Drafting an edit of the spec" };

function phaseText(): string {
  const turn = chat.turn;
  if (!turn?.phase || turn.since === undefined) return "Waiting for the model";
  const seconds = Math.max(0, Math.floor((Date.now() - turn.since) / 1000));
  return `${PHASE_TEXT[turn.phase]}… ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function renderEntry(entry: ChatEntry): HTMLElement {
  const who = entry.from === "human" ? "You" : entry.from === "pm" ? "PM" : entry.from;
  const body = h("div", { className: "body" });
  renderMarkdown(body, entry.text);
  const at = new Date(entry.at);
  const time = h("time", { className: "at", title: at.toLocaleString() }, at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  time.setAttribute("datetime", at.toISOString());
  const item = h("article", { className: `entry from-${entry.from === "human" ? "human" : "agent"}` }, h("div", { className: "who" }, who, time), body);
  item.setAttribute("aria-label", `${who} at ${time.textContent}: ${entry.text.slice(0, 80)}`);
  return item;
}

/** Whether a log shows its last entry (within a line): new entries keep it there; one scrolled up stays where the reader is. */
const atEnd = (log: HTMLElement) => log.scrollHeight - log.scrollTop - log.clientHeight < 24;

function renderLogs(): void {
  if (!els) return;
  const follow = { log: atEnd(els.log), agents: atEnd(els.agentsLog) };
  els.log.replaceChildren(...chat.entries.map(renderEntry));
  if (chat.entries.length === 0 && !chat.turn) {
    els.log.append(h("p", { className: "hint" }, "Tell the PM what you want to build. It writes the spec with you; nothing is approved or changed without your click."));
  }
  streamingBody = undefined;
  phaseLine = undefined;
  if (chat.turn) {
    const streaming = h("div", { className: "body streaming" }, chat.turn.text || "…");
    streamingBody = streaming;
    phaseLine = h("div", { className: "phase", role: "status" }, phaseText());
    els.log.append(h("article", { className: "entry from-agent", ariaBusy: "true" }, h("div", { className: "who" }, "PM"), phaseLine, streaming));
  }
  els.agentsLog.replaceChildren(...(chat.agents.length ? chat.agents.map(renderEntry) : [h("p", { className: "hint" }, "The agents have not talked yet. Their messages to each other appear here, read-only.")]));
  if (follow.log) els.log.scrollTop = els.log.scrollHeight;
  if (follow.agents) els.agentsLog.scrollTop = els.agentsLog.scrollHeight;
  const busy = chat.turn !== undefined;
  els.send.toggleAttribute("disabled", busy);
  els.stop.hidden = !busy;
}

function setNotice(kind: string, ...content: (Node | string)[]): void {
  chat.noticeKind = kind;
  chat.notice = kind ? h("div", { className: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, ...content) : undefined;
  els?.notice.replaceChildren(...(chat.notice ? [chat.notice] : []));
}

async function loadHistory(): Promise<void> {
  const [human, agents] = await Promise.all([
    endpoint.request("history", { projectId: chat.projectId, channel: "human" }),
    endpoint.request("history", { projectId: chat.projectId, channel: "agents" }),
  ]);
  chat.entries = human.entries;
  chat.agents = agents.entries;
  renderLogs();
}

function send(text: string, resend = false): void {
  if (!text.trim() || chat.turn) return;
  chat.lastSent = text;
  chat.phases = [];
  setNotice("");
  endpoint.request("send", { projectId: chat.projectId, text, resend }).then(
    ({ turnId }) => {
      // Tokens, or the whole turn, may have come before this answer.
      if (!chat.ended.has(turnId) && chat.turn?.id !== turnId) chat.turn = { id: turnId, text: "" };
      renderLogs();
    },
    (error: unknown) => setNotice("error", `Not sent: ${String(error)}`),
  );
}

function onTurnEnded(ended: TurnEnded): void {
  chat.ended.add(ended.turnId);
  if (chat.turn && chat.turn.id !== ended.turnId) return; // an older turn's end: not ours to show
  chat.turn = undefined;
  renderLogs();
  if (ended.outcome === "failed" && ended.error) {
    const actions = ended.error.noModel
      ? [button("Select Model Files…", () => runCommand(Commands.selectModelFiles))]
      : [button("Resend", () => send(chat.lastSent, true))];
    setNotice("error", h("p", {}, ended.error.message), ...actions);
    return;
  }
  const action = ended.action;
  if (action?.kind === "confirmApproval") {
    chat.approvalId = action.approvalId;
    setNotice("approval",
      h("p", {}, "Approve the spec as it is now? This stores a new version and commits the file."),
      button("Approve Spec", () => {
        setNotice("");
        endpoint.request("approveSpec", { projectId: chat.projectId, approvalId: action.approvalId }).catch((error: unknown) => setNotice("error", String(error)));
      }),
      button("Not Now", () => setNotice(""), { secondary: true }),
    );
  } else if (action?.kind === "proposal") {
    chat.proposalId = action.proposalId;
    const decide = (accept: boolean) => {
      setNotice("");
      endpoint.request("decideProposal", { proposalId: action.proposalId, accept }).catch((error: unknown) => setNotice("error", String(error)));
    };
    setNotice("proposal",
      h("p", {}, h("strong", {}, "Proposed change"), ` to “${action.section}”: ${action.summary}`),
      button("Show Diff", () => void endpoint.request("showProposal", { proposalId: action.proposalId }).catch((error: unknown) => setNotice("error", String(error))), { secondary: true }),
      button("Accept", () => decide(true)),
      button("Reject", () => decide(false), { secondary: true }),
    );
  }
}

const endpoint: Endpoint = mountProjectView(chatProtocol, {
  icon: "comment-discussion",
  title: "No project yet",
  body: "The PM agent writes the project's spec with you here and asks before anything is approved.",
  createLabel: "New Project…",
  extra: () =>
    h("p", { className: "offline-note" }, "Redgreen talks only to the models you configure, on this machine by default. It calls no cloud service."),
}, {
  render(root, state, _endpoint, run) {
    runCommand = run;
    const switched = chat.projectId !== state.project.id;
    chat.projectId = state.project.id;
    // The allocation and the pairs change at every step: the conversation is reloaded only when the project itself changed.
    const summary = JSON.stringify({ ...state.project, resources: undefined, pairsWaitForStart: undefined });
    const changed = summary !== chat.summary;
    chat.summary = summary;
    if (els && !switched && root.querySelector(".project-header")) {
      root.querySelector(".project-header")?.replaceWith(projectHeader(state, run));
      if (changed) void loadHistory();
      return;
    }
    const log = h("div", { className: "log", role: "log", ariaLabel: "Conversation with the PM", tabIndex: 0 });
    const agentsLog = h("div", { className: "log", role: "log", ariaLabel: "The agents' channel (read-only)", tabIndex: 0 });
    const input = h("vscode-textarea", { className: "input", placeholder: "Message the PM (Enter to send, Shift+Enter for a new line)", rows: 2 }) as unknown as HTMLTextAreaElement & { value: string };
    input.setAttribute("aria-label", "Message the PM");
    const sendButton = button("Send", () => submit());
    const stop = button("Stop", () => chat.turn && endpoint.notify("stop", { turnId: chat.turn.id }), { secondary: true, icon: "debug-stop" });
    const submit = () => {
      const text = input.value;
      if (!text.trim() || chat.turn) return;
      input.value = "";
      send(text);
    };
    input.addEventListener("keydown", (event: KeyboardEvent) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    const notice = h("div", { className: "notices" });
    const pmPanel = h("div", { className: "panel", id: "panel-pm", role: "tabpanel" }, log, notice, h("div", { className: "composer" }, input, h("div", { className: "buttons" }, stop, sendButton)));
    const agentsPanel = h("div", { className: "panel", id: "panel-agents", role: "tabpanel", hidden: true }, agentsLog);
    const tabs = tabList([["PM", pmPanel], ["Agents", agentsPanel]]);
    root.replaceChildren(projectHeader(state, run), tabs, pmPanel, agentsPanel);
    els = { log, agentsLog, notice, input, send: sendButton, stop };
    chat.entries = [];
    chat.agents = [];
    setNotice("");
    renderLogs();
    void loadHistory().catch((error: unknown) => setNotice("error", `Could not load the conversation: ${String(error)}`));
  },
  details: () => ({
    entries: chat.entries.length,
    lastFrom: chat.entries.at(-1)?.from ?? "",
    lastText: chat.entries.at(-1)?.text ?? "",
    streaming: chat.turn !== undefined,
    turnId: chat.turn?.id ?? "",
    streamed: chat.turn?.text ?? "",
    phases: chat.phases.join(","),
    phaseShown: phaseLine?.textContent ?? "",
    proposalId: chat.proposalId,
    approvalId: chat.approvalId,
    notice: chat.noticeKind,
    noticeText: chat.notice?.textContent ?? "",
    agents: chat.agents.length,
    // Anything active that a model's reply smuggled into the page (must stay 0).
    unsafe: document.querySelectorAll(".log script, .log iframe, .log object, .log [onerror], .log [onclick], .log [onload], .log a[href^='javascript']").length,
    rendered: els?.log.querySelector(".entry:last-of-type .body")?.innerHTML ?? "",
  }),
});

/** Two tabs over the panels (the editor's panel-tab look; arrow keys move between them). */
function tabList(tabs: [string, HTMLElement][]): HTMLElement {
  const buttons = tabs.map(([label, panel], index) => {
    const tab = h("button", { className: "tab", id: `tab-${panel.id}`, role: "tab", type: "button" }, label);
    tab.setAttribute("aria-controls", panel.id);
    panel.setAttribute("aria-labelledby", tab.id);
    const select = () => {
      tabs.forEach(([, other], i) => {
        other.hidden = i !== index;
        buttons[i]!.setAttribute("aria-selected", String(i === index));
        buttons[i]!.tabIndex = i === index ? 0 : -1;
      });
      // A log filled while hidden could not scroll: shown, it starts at its newest entry.
      const log = panel.querySelector<HTMLElement>(".log");
      if (log) log.scrollTop = log.scrollHeight;
    };
    tab.addEventListener("click", select);
    tab.addEventListener("keydown", (event: KeyboardEvent) => {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const next = buttons[(index + (event.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length]!;
      next.click();
      next.focus();
    });
    return tab;
  });
  buttons.forEach((tab, i) => {
    tab.setAttribute("aria-selected", String(i === 0));
    tab.tabIndex = i === 0 ? 0 : -1;
  });
  return h("div", { className: "tabs", role: "tablist", ariaLabel: "Conversations" }, ...buttons);
}

endpoint.on("entry", (entry) => {
  if (entry.projectId !== chat.projectId) return;
  const list = entry.channel === "human" ? chat.entries : chat.agents;
  if (!list.some((e) => e.id === entry.id)) list.push(entry);
  renderLogs();
});

endpoint.on("turnToken", ({ turnId, text }) => {
  const turn = chat.turn ?? startTurn(turnId);
  if (turn.id !== turnId) return;
  turn.text += text;
  if (streamingBody) streamingBody.textContent = turn.text;
  else renderLogs();
});

endpoint.on("turnEnded", onTurnEnded);

/** A turn the page learns of from the host (sent here or elsewhere): an earlier turn's notice is stale now. */
function startTurn(turnId: string): NonNullable<typeof chat.turn> {
  chat.turn = { id: turnId, text: "" };
  if (chat.noticeKind === "error") setNotice("");
  return chat.turn;
}

endpoint.on("turnPhase", ({ turnId, phase, since }) => {
  const turn = chat.turn ?? startTurn(turnId);
  if (turn.id !== turnId) return;
  if (chat.phases.at(-1) !== phase) chat.phases.push(phase);
  Object.assign(turn, { phase, since });
  if (phaseLine) phaseLine.textContent = phaseText();
  else renderLogs();
});

setInterval(() => {
  if (phaseLine && chat.turn) phaseLine.textContent = phaseText();
}, 1000);
