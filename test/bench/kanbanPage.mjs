// Runs inside the page of the Kanban benchmark (kanban.bench.ts serves it with the page's nonce,
// before the page's own script). Two modes:
// - "board": plays the extension host behind acquireVsCodeApi(), over the same wire format as
//   src/protocol/rpc.ts (ready, request ids, responses, notifications, all through
//   window.postMessage like VS Code's webview frame), for the real dist/webviews/kanban.js;
// - "baseline": the least any page must do with the same data: 1,000 bare <li> with the same
//   text in 5 bare lists, and a move that re-parents one of them.
// Both time a change the same way (see timeUntil) and expose the same calls to the benchmark on
// window.bench.
/* global window, document, requestAnimationFrame, MutationObserver -- this file runs in the page, not in Node */

const config = JSON.parse(document.getElementById("bench-config").textContent);
const COLUMNS = ["backlog", "todo", "inprogress", "review", "done"];
const cards = new Map(config.cards.map((card) => [card.id, card]));
const problems = [];
let pendingBoard;
let boardRequested = false;
let result;

/** What VS Code gives every webview: the theme's variables on <html> (a few of Dark Modern's). */
const THEME = {
  "--vscode-font-family": "system-ui, \"Ubuntu\", \"Droid Sans\", sans-serif",
  "--vscode-font-size": "13px",
  "--vscode-font-weight": "normal",
  "--vscode-editor-font-family": "\"Droid Sans Mono\", monospace",
  "--vscode-foreground": "#cccccc",
  "--vscode-descriptionForeground": "#9d9d9d",
  "--vscode-editor-background": "#1f1f1f",
  "--vscode-sideBar-background": "#181818",
  "--vscode-sideBarSectionHeader-background": "#181818",
  "--vscode-widget-border": "#313131",
  "--vscode-badge-background": "#616161",
  "--vscode-badge-foreground": "#f8f8f8",
  "--vscode-focusBorder": "#0078d4",
  "--vscode-textLink-foreground": "#4daafc",
  "--vscode-errorForeground": "#f85149",
  "--vscode-editorWarning-foreground": "#cca700",
  "--vscode-editorInfo-foreground": "#3794ff",
  "--vscode-list-hoverBackground": "#2a2d2e",
};
for (const [name, value] of Object.entries(THEME)) document.documentElement.style.setProperty(name, value);
document.documentElement.style.backgroundColor = THEME["--vscode-sideBar-background"];
document.addEventListener("securitypolicyviolation", (event) => {
  // zod probes once whether it may compile validators with new Function, and falls back when not.
  if (event.blockedURI !== "eval") problems.push(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
});

const frame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));
const afterPaint = (callback) => {
  // A task posted from a frame's requestAnimationFrame runs once that frame's style, layout,
  // paint and commit are done.
  const channel = new MessageChannel();
  channel.port1.onmessage = callback;
  channel.port2.postMessage(null);
};

/**
 * Marks, in ms from performance's origin: t0 (the answer is posted, the key goes down), dom (the
 * change is in the DOM, the page's JavaScript is done), frame (the next frame starts), painted
 * (that frame's style, layout, paint and commit are done: the change is on screen), frame2 and
 * painted2 (the frame after: a "double rAF", and whatever work a frame left for the next one,
 * such as cards scrolled into view that content-visibility had skipped). Nothing is forced: the
 * page does its work when it would anyway.
 */
function timeUntil(t0, done) {
  return new Promise((resolve) => {
    const marks = { t0 };
    const afterDom = () => {
      marks.dom = performance.now();
      requestAnimationFrame(() => {
        marks.frame = performance.now();
        afterPaint(() => (marks.painted = performance.now()));
        requestAnimationFrame(() => {
          marks.frame2 = performance.now();
          afterPaint(() => {
            marks.painted2 = performance.now();
            resolve(marks);
          });
        });
      });
    };
    const observer = new MutationObserver(() => {
      if (!done()) return;
      observer.disconnect();
      afterDom();
    });
    observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  });
}

/** Lets the page settle: fonts loaded, nothing scrolled, a few quiet frames. */
async function settle() {
  await document.fonts.ready;
  window.scrollTo(0, 0);
  for (let i = 0; i < 4; i++) await frame();
}

const list = (column) => document.querySelector(config.mode === "board" ? `.lane[data-column="${column}"] ol.cards` : `ol[data-column="${column}"]`);
const inList = (column, id) => [...list(column).children].some((element) => element.dataset.id === id);
const nextColumn = (column) => COLUMNS[COLUMNS.indexOf(column) + 1];

/** A card one column on, with the moves the host would send from there (kanban.bench.ts computed them). */
function movedOn(card, to) {
  if (to !== nextColumn(card.column)) problems.push(`${card.id} moved from ${card.column} to ${to}, not one column on`);
  return { ...card, column: to, moves: config.onward?.[card.id] ?? [] };
}

// ---- The board: a stand-in for the extension host --------------------------------------------

// The host posts only after the page said "ready" (the baseline page needs no handshake).
const host = { ready: config.mode !== "board", queue: [] };
function toPage(message) {
  if (host.ready) window.postMessage(message, "*");
  else host.queue.push(message);
}

const STATE = {
  kind: "project",
  project: { id: config.projectId, name: "Bookshop", state: "executing", priority: "high", specPath: "SPEC.md" },
  commands: ["redgreen.openProject", "redgreen.newProject"],
};

function fromPage(message) {
  switch (message.kind) {
    case "ready":
      host.ready = true;
      for (const queued of host.queue.splice(0)) window.postMessage(queued, "*");
      return;
    case "request":
      return answer(message);
    case "rejected":
      problems.push(`the page rejected a message: ${message.problem}`);
      return;
    default:
      return; // runCommand notifications, responses to describe: not used here
  }
}

function answer({ id, method, params }) {
  const respond = (result) => toPage({ kind: "response", id, result });
  if (method === "getState") return respond(STATE);
  if (method === "board") {
    if (params.projectId !== config.projectId) problems.push(`board asked for ${params.projectId}`);
    boardRequested = true;
    // Held until the benchmark calls answerBoard(), once the page has settled.
    pendingBoard = () => respond({ projectId: config.projectId, columns: config.columns, cards: [...cards.values()] });
    return;
  }
  if (method === "columns") return respond(config.columns);
  if (method === "move") {
    // The host's state machine said yes: the moved card, at once.
    const card = movedOn(cards.get(params.ticketId), params.to);
    cards.set(card.id, card);
    return respond({ card });
  }
  toPage({ kind: "response", id, error: `the benchmark's host does not answer ${method}` });
}

if (config.mode === "board") {
  window.acquireVsCodeApi = () => ({ postMessage: fromPage, getState: () => undefined, setState: () => undefined });
}

// ---- The baseline: bare lists -----------------------------------------------------------------

function cardText(card) {
  return [
    card.id, card.severity, card.waitingFor.join(", "), card.title,
    card.estimate === null ? "" : `${card.estimate} h`, card.pair ?? "",
    card.passRate === null ? "" : `${Math.round(card.passRate * 100)}%`, card.branch ?? "",
  ].filter(Boolean).join(" ");
}

if (config.mode === "baseline") {
  window.addEventListener("message", (event) => {
    const message = event.data;
    if (message.kind === "response") {
      const lists = Object.fromEntries(COLUMNS.map((column) => {
        const element = document.createElement("ol");
        element.dataset.column = column;
        return [column, element];
      }));
      for (const card of message.result.cards) {
        const item = document.createElement("li");
        item.dataset.id = card.id;
        item.tabIndex = 0;
        item.textContent = cardText(card);
        lists[card.column].append(item);
      }
      document.getElementById("root").replaceChildren(...Object.values(lists));
    } else if (message.kind === "notification") {
      const { card } = message.params;
      list(card.column).append(document.querySelector(`li[data-id="${card.id}"]`));
    }
  });
  document.addEventListener("keydown", (event) => {
    const to = event.altKey && event.key === "ArrowRight" && nextColumn(event.target.closest("ol").dataset.column);
    if (to) list(to).append(event.target);
  });
}

// ---- What the benchmark calls -----------------------------------------------------------------

const bench = {
  problems,
  /** The page asked for its board (the header is drawn) and has settled. */
  async waitForBoardRequest() {
    if (config.mode === "board") while (!boardRequested) await frame();
    await settle();
  },
  /** The host answers `board`; resolves with the marks once the 1,000 cards are on screen. */
  answerBoard() {
    const total = config.cards.length;
    const count = () => COLUMNS.reduce((sum, column) => sum + (list(column)?.childElementCount ?? 0), 0);
    const t0 = performance.now();
    result = timeUntil(t0, () => count() === total);
    if (config.mode === "board") pendingBoard();
    else window.postMessage({ kind: "response", id: "1", result: { projectId: config.projectId, cards: config.cards } }, "*");
    return result;
  },
  /** Focuses the first card of `column`, and times the next Alt+ArrowRight from its keydown. */
  async armKeyMove(column) {
    await settle();
    const card = list(column).firstElementChild;
    card.focus();
    if (document.activeElement !== card) throw new Error(`could not focus ${card.dataset.id}`);
    await settle();
    const to = nextColumn(column);
    result = new Promise((resolve) => {
      // The Alt key goes down first: the move starts with ArrowRight's keydown.
      const onKey = (event) => {
        if (event.key !== "ArrowRight" || !event.altKey) return;
        window.removeEventListener("keydown", onKey, { capture: true });
        resolve(timeUntil(performance.now(), () => inList(to, card.dataset.id)));
      };
      window.addEventListener("keydown", onKey, { capture: true });
    });
    return card.dataset.id;
  },
  /** An agent moves the first card of `column` on: the host sends cardChanged. */
  async agentMove(column) {
    await settle();
    const card = cards.get(list(column).firstElementChild.dataset.id);
    const moved = movedOn(card, nextColumn(column));
    cards.set(card.id, moved);
    const t0 = performance.now();
    result = timeUntil(t0, () => inList(moved.column, moved.id));
    toPage({ kind: "notification", method: "cardChanged", params: { projectId: config.projectId, card: moved } });
    return result;
  },
  result: () => result,
  /** A user-timing mark: where performance.now() falls on the trace's clock. */
  sync: () => performance.mark("redgreen-bench-sync").startTime,
  /** What the page shows: cards per column, and the lane counts it prints. */
  shown() {
    return Object.fromEntries(COLUMNS.map((column) => [column, {
      cards: list(column).childElementCount,
      label: config.mode === "board" ? document.querySelector(`.lane[data-column="${column}"] .lane-count`).textContent : "",
    }]));
  },
};
window.bench = bench;
