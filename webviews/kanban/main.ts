import "@vscode-elements/elements/dist/vscode-textfield/index.js";
import "../shared/base.css";
import "./kanban.css";
import { kanbanProtocol, type ColumnId, type ColumnInfo, type TicketDetail } from "../../src/protocol/kanban";
import type { WebviewEndpoint } from "../shared/client";
import { h } from "../shared/dom";
import { button, mountProjectView, projectHeader } from "../shared/projectView";
import { Board, tickElapsed, wouldMove } from "./board";
import { renderDetail } from "./detail";
import { Commands, type CommandId } from "../../src/protocol/commands";

type Endpoint = WebviewEndpoint<typeof kanbanProtocol>;

/** The host's columns, asked for once: they do not change while the page lives. */
let columnsAsked: Promise<ColumnInfo[]> | undefined;

/** The empty state's list of columns, filled in when the host names them (no project: no board to ask). */
function lanes(): HTMLElement {
  const list = h("ol", { className: "lanes", ariaLabel: "Board columns" });
  columnsAsked ??= endpoint.request("columns", {});
  columnsAsked.then((columns) => list.replaceChildren(...columns.map(({ name }) => h("li", {}, name))), () => {
    columnsAsked = undefined; // asked again the next time the empty state is drawn
  });
  return list;
}

/** The page's board, kept across re-renders of the project header. */
const page = {
  projectId: "",
  board: undefined as Board | undefined,
  note: undefined as HTMLElement | undefined,
  notice: undefined as HTMLElement | undefined,
  detailHost: undefined as HTMLElement | undefined,
  detailId: "",
  loadedAt: 0,
};

const endpoint: Endpoint = mountProjectView(kanbanProtocol, {
  icon: "project",
  title: "No project yet",
  body: "When a project's spec is approved, the Architect splits it into tickets. They appear here and move across the board as the agents work.",
  createLabel: "New Project…",
  extra: lanes,
}, {
  render(root, state, _endpoint, run) {
    const header = projectHeader(state, run);
    const actions = projectActions(state.project.state, state.project.pairsWaitForStart, state.commands, run);
    const pairs = pairsNote(state.project.state === "executing" && state.project.pairsWaitForStart === true);
    if (page.board && page.projectId === state.project.id && root.querySelector(".project-header")) {
      root.querySelector(".project-header")?.replaceWith(header);
      root.querySelector(".project-actions")?.replaceWith(actions);
      root.querySelector(".pairs-note")?.replaceWith(pairs);
      updateNote(state.project.state);
      return;
    }
    page.projectId = state.project.id;
    page.detailId = "";
    const board = new Board({ move, open: (id) => void openDetail(id) });
    const filter = h("vscode-textfield", { className: "filter", placeholder: "Filter tickets (id, title, functionality, R-n)" }) as HTMLElement & { value: string };
    filter.setAttribute("aria-label", "Filter tickets");
    filter.addEventListener("input", () => board.setFilter(filter.value));
    page.board = board;
    page.note = h("p", { className: "board-note" });
    page.notice = h("div", { className: "notice", role: "alert" });
    page.detailHost = h("div", { className: "detail-host" });
    root.replaceChildren(header, h("div", { className: "toolbar" }, filter, actions), pairs, page.notice, page.note, board.element, page.detailHost);
    void loadBoard(state.project.state);
  },
  details: () => ({
    projectId: page.projectId,
    cards: page.board ? Object.values(page.board.counts()).reduce((a, b) => a + b, 0) : 0,
    ...Object.fromEntries(Object.entries(page.board?.counts() ?? {}).map(([column, count]) => [`column.${column}`, count])),
    notice: page.notice?.textContent ?? "",
    detail: page.detailId,
    loadedAt: page.loadedAt,
  }),
});

/**
 * Resume for a project on hold, Plan for an approved one (when the host offers them); for an
 * executing one Start Pair while its pairs wait for it, else Pause Pair (the other one disabled,
 * its tooltip saying why).
 */
function projectActions(projectState: string, pairsWait: boolean | undefined, commands: CommandId[], run: (command: CommandId) => void): HTMLElement {
  const actions = h("span", { className: "project-actions" });
  const offer = (command: CommandId, label: string, icon: string, options: { secondary?: boolean; disabledWhy?: string } = {}) => {
    if (commands.includes(command)) actions.append(button(label, () => run(command), { icon, ...options }));
  };
  if (projectState === "onHold") offer(Commands.resumeProject, "Resume", "debug-continue");
  if (projectState === "approved") offer(Commands.planProject, "Plan", "symbol-structure");
  if (projectState === "executing") {
    // Unknown (an older engine): both are offered.
    offer(Commands.startPair, "Start Pair", "play", pairsWait === false ? { secondary: true, disabledWhy: "The pairs work by themselves; Pause Pair stops them at their next step." } : {});
    offer(Commands.pausePair, "Pause Pair", "debug-pause", pairsWait === true ? { secondary: true, disabledWhy: "The pairs are paused already: Start Pair lets them work." } : { secondary: true });
    offer(Commands.pauseProject, "Pause Project", "debug-pause", { secondary: true });
  }
  return actions;
}

/** Says that the project's pairs take no ticket until Start Pair (empty otherwise). */
function pairsNote(pairsWait: boolean): HTMLElement {
  const note = h("p", { className: "pairs-note", role: "status" });
  if (pairsWait) note.append(h("span", { className: "codicon codicon-debug-pause" }), "Pairs paused: they take no ticket until Start Pair.");
  note.hidden = !pairsWait;
  return note;
}

async function loadBoard(projectState: string): Promise<void> {
  const projectId = page.projectId;
  try {
    const { columns, cards } = await endpoint.request("board", { projectId });
    if (projectId !== page.projectId) return;
    page.board?.load(columns, cards);
    page.loadedAt = Date.now();
    updateNote(projectState);
  } catch (error) {
    showNotice(`Could not load the tickets: ${String(error)}`);
  }
}

function updateNote(projectState: string): void {
  if (!page.note || !page.board) return;
  const empty = Object.values(page.board.counts()).every((count) => count === 0);
  page.note.textContent = !empty ? ""
    : projectState === "drafting" ? "No tickets yet: approve the spec, then the Architect splits it into tickets."
    : projectState === "approved" || projectState === "planning" ? "No tickets yet: the Architect is planning."
    : "No tickets yet.";
  page.note.hidden = !empty;
}

function showNotice(text: string): void {
  if (!page.notice) return;
  page.notice.textContent = text;
  page.notice.hidden = !text;
}

function move(id: string, to: ColumnId): void {
  showNotice("");
  // A move the host said it would make (the card's `moves`) is shown at once and undone if the
  // host refuses it after all (the host decides; the page only saves the human a round trip).
  const before = page.board?.card(id);
  const likely = before !== undefined && wouldMove(before, to);
  if (likely) {
    page.board?.place(id, to);
    page.board?.focus(id);
  }
  const undo = (why: string) => {
    showNotice(why);
    if (likely) page.board?.upsert(before);
  };
  endpoint.request("move", { ticketId: id, to }).then(({ card, refused }) => {
    if (refused) undo(refused);
    if (card) {
      page.board?.upsert(card);
      if (!likely) page.board?.focus(id);
      if (page.detailId === id) void openDetail(id);
    }
  }, (error: unknown) => undo(`Could not move ${id}: ${String(error)}`));
}

async function openDetail(id: string): Promise<void> {
  let ticket: TicketDetail;
  try {
    ticket = await endpoint.request("ticket", { ticketId: id });
  } catch (error) {
    showNotice(`Could not open ${id}: ${String(error)}`);
    return;
  }
  const refocus = page.detailId !== id;
  page.detailId = id;
  const board = page.board;
  const panel = renderDetail(ticket, (column) => board?.columnName(column) ?? column, { move: (to) => move(id, to), close: closeDetail });
  page.detailHost?.replaceChildren(panel);
  if (refocus) panel.focus();
}

function closeDetail(): void {
  const id = page.detailId;
  page.detailId = "";
  page.detailHost?.replaceChildren();
  if (id) page.board?.focus(id);
}

endpoint.on("cardChanged", ({ projectId, card, removed }) => {
  if (projectId !== page.projectId || !page.board) return;
  if (removed) page.board.remove(card.id);
  else page.board.upsert(card);
  if (page.detailId === card.id) void (removed ? closeDetail() : openDetail(card.id));
});

// A running card's step time moves on by itself.
setInterval(() => page.board && tickElapsed(page.board.element), 1000);
