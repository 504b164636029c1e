// The board: one list per column, one card per ticket. Built once per project and then changed
// card by card (a move re-parents one element), so a board of 1,000 tickets stays responsive.
// Cards are plain elements (no web components): a thousand shadow roots would cost more than
// the whole board.
// The columns and what each card may do come from the host (the board reply, each card's
// `moves`): the page keeps no copy of the state machine.
import type { Card, CardWork, ColumnId, ColumnInfo } from "../../src/protocol/kanban";
import { h } from "../shared/dom";

export interface BoardActions {
  /** The human asks for a move; the host decides. */
  move(id: string, to: ColumnId): void;
  open(id: string): void;
}

interface Lane {
  list: HTMLOListElement;
  count: HTMLElement;
}

const DRAG_TYPE = "application/x-redgreen-ticket";

export class Board {
  readonly element: HTMLElement;
  /** The host's columns, in order; none until the first load. */
  private columns: ColumnInfo[] = [];
  private readonly lanes = new Map<ColumnId, Lane>();
  private readonly cards = new Map<string, { card: Card; element: HTMLElement }>();
  private filter = "";

  constructor(private readonly actions: BoardActions) {
    this.element = h("div", { className: "board", role: "region", ariaLabel: "Board" });
    this.element.addEventListener("keydown", (event) => this.onKey(event));
    this.element.addEventListener("click", (event) => {
      const id = cardOf(event.target)?.dataset.id;
      if (id) this.actions.open(id);
    });
    this.element.addEventListener("dragstart", (event) => {
      const card = cardOf(event.target);
      if (!card || !event.dataTransfer) return;
      event.dataTransfer.setData(DRAG_TYPE, card.dataset.id!);
      event.dataTransfer.effectAllowed = "move";
      card.classList.add("dragging");
      // Columns the card cannot go to are dimmed while it is dragged (a drop there is refused anyway).
      const known = this.cards.get(card.dataset.id!)?.card;
      const offered = new Set(known?.moves.map((move) => move.to));
      for (const [column, { list }] of this.lanes) list.parentElement!.classList.toggle("no-drop", !offered.has(column));
    });
    this.element.addEventListener("dragend", (event) => {
      cardOf(event.target)?.classList.remove("dragging");
      for (const { list } of this.lanes.values()) list.parentElement!.classList.remove("no-drop", "drop-target");
    });
  }

  /** Replaces the lanes and every card (a new project, or a fresh load), in the host's columns. */
  load(columns: ColumnInfo[], cards: Card[]): void {
    this.columns = columns;
    this.lanes.clear();
    this.cards.clear();
    const fragments = new Map(columns.map((c) => [c.id, document.createDocumentFragment()]));
    for (const card of cards) {
      const element = renderCard(card, this.columnName(card.column));
      this.cards.set(card.id, { card, element });
      fragments.get(card.column)?.append(element);
    }
    this.element.replaceChildren(...columns.map(({ id, name }) => this.renderLane(id, name, fragments.get(id)!)));
    this.applyFilter();
    this.updateCounts();
  }

  /** The name the host gave a column (its id until the board is loaded). */
  columnName(column: ColumnId): string {
    return this.columns.find((c) => c.id === column)?.name ?? column;
  }

  /** A card changed (here or anywhere): it is redrawn in place, or moved to the end of its new column. */
  upsert(card: Card): void {
    // Before the first load there are no lanes; the board reply brings every card anyway.
    const lane = this.lanes.get(card.column);
    if (!lane) return;
    const known = this.cards.get(card.id);
    const element = renderCard(card, this.columnName(card.column));
    element.hidden = !matches(card, this.filter);
    const hadFocus = known?.element === document.activeElement;
    if (known && known.card.column === card.column) known.element.replaceWith(element);
    else {
      known?.element.remove();
      lane.list.append(element);
    }
    this.cards.set(card.id, { card, element });
    if (hadFocus) element.focus();
    this.updateCounts();
  }

  /** Shows a card in another column at once, moving its element as it is (the host's answer redraws it). */
  place(id: string, column: ColumnId): void {
    const known = this.cards.get(id);
    const lane = this.lanes.get(column);
    if (!known || !lane) return;
    // Its moves from the new column are the host's to say: none are assumed until it answers.
    known.card = { ...known.card, column, moves: [] };
    known.element.dataset.column = column;
    lane.list.append(known.element);
    this.updateCounts();
  }

  remove(id: string): void {
    this.cards.get(id)?.element.remove();
    this.cards.delete(id);
    this.updateCounts();
  }

  card(id: string): Card | undefined {
    return this.cards.get(id)?.card;
  }

  focus(id: string): void {
    this.cards.get(id)?.element.focus();
  }

  setFilter(text: string): void {
    this.filter = text.trim().toLowerCase();
    this.applyFilter();
    this.updateCounts();
  }

  /** Cards per column (no columns before the first load). */
  counts(): Partial<Record<ColumnId, number>> {
    return Object.fromEntries([...this.lanes].map(([column, { list }]) => [column, list.childElementCount]));
  }

  private applyFilter(): void {
    for (const { card, element } of this.cards.values()) element.hidden = !matches(card, this.filter);
  }

  private updateCounts(): void {
    for (const { list, count } of this.lanes.values()) {
      const total = list.childElementCount;
      const shown = this.filter ? list.querySelectorAll(".card:not([hidden])").length : total;
      count.textContent = shown === total ? String(total) : `${shown}/${total}`;
    }
  }

  private renderLane(column: ColumnId, name: string, cards: DocumentFragment): HTMLElement {
    const count = h("span", { className: "lane-count" }, "0");
    const list = h("ol", { className: "cards", ariaLabel: name }, cards);
    const lane = h("section", { className: "lane" }, h("h3", { className: "lane-title" }, name, count), list);
    lane.dataset.column = column;
    this.acceptDrops(lane, column);
    this.lanes.set(column, { list, count });
    return lane;
  }

  private acceptDrops(lane: HTMLElement, column: ColumnId): void {
    const dragged = (event: DragEvent) => event.dataTransfer?.types.includes(DRAG_TYPE) ?? false;
    lane.addEventListener("dragover", (event) => {
      if (!dragged(event)) return;
      event.preventDefault(); // allows the drop; the host still decides whether the move is valid
      lane.classList.add("drop-target");
    });
    lane.addEventListener("dragleave", (event) => {
      if (!lane.contains(event.relatedTarget as Node | null)) lane.classList.remove("drop-target");
    });
    lane.addEventListener("drop", (event) => {
      lane.classList.remove("drop-target");
      const id = event.dataTransfer?.getData(DRAG_TYPE);
      if (!id) return;
      event.preventDefault();
      if (this.cards.get(id)?.card.column !== column) this.actions.move(id, column);
    });
  }

  // Keyboard: arrows walk the cards (up/down in a column, left/right across columns), Enter
  // opens a card, Alt+Left/Right moves it to the neighbouring column.
  private onKey(event: KeyboardEvent): void {
    const element = cardOf(event.target);
    if (!element) return;
    const { id, column } = element.dataset as { id: string; column: ColumnId };
    const index = this.columns.findIndex((c) => c.id === column);
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    const neighbour = this.columns[index + step]?.id;
    if (event.key === "Enter" || event.key === " ") this.actions.open(id);
    else if (step && event.altKey) {
      if (neighbour) this.actions.move(id, neighbour);
    } else if (step) this.firstVisible(neighbour)?.focus();
    else if (event.key === "ArrowDown" || event.key === "ArrowUp") sibling(element, event.key === "ArrowDown")?.focus();
    else return;
    event.preventDefault();
  }

  private firstVisible(column: ColumnId | undefined): HTMLElement | undefined {
    if (!column) return undefined;
    return this.lanes.get(column)?.list.querySelector<HTMLElement>(".card:not([hidden])") ?? undefined;
  }
}

function cardOf(target: EventTarget | null): HTMLElement | undefined {
  return (target instanceof Element ? target.closest<HTMLElement>(".card") : null) ?? undefined;
}

function sibling(element: HTMLElement, next: boolean): HTMLElement | undefined {
  let at = (next ? element.nextElementSibling : element.previousElementSibling) as HTMLElement | null;
  while (at?.hidden) at = (next ? at.nextElementSibling : at.previousElementSibling) as HTMLElement | null;
  return at ?? undefined;
}

function matches(card: Card, filter: string): boolean {
  if (!filter) return true;
  return [card.id, card.title, card.functionalityId, card.severity, card.pair ?? "", ...card.requirementIds].some((field) => field.toLowerCase().includes(filter));
}

/** Whether the host, as it last judged the card, would make this move (one it does not offer: no). */
export function wouldMove(card: Card, to: ColumnId): boolean {
  return card.moves.some((move) => move.to === to && move.refused === undefined);
}

/** The fixed part of every card, cloned: cheaper than building a thousand cards element by element. */
let cardTemplate: HTMLElement | undefined;

function renderCard(card: Card, columnName: string): HTMLElement {
  cardTemplate ??= h("li", { className: "card", tabIndex: 0, draggable: true },
    h("div", { className: "card-top" }, h("span", { className: "card-id" }), h("span", { className: "severity" })),
    h("div", { className: "card-title" }),
    h("div", { className: "card-meta" }));
  const element = cardTemplate.cloneNode(true) as HTMLElement;
  const [top, title, meta] = element.children as unknown as [HTMLElement, HTMLElement, HTMLElement];
  const [id, severity] = top.children as unknown as [HTMLElement, HTMLElement];
  id.textContent = card.id;
  severity.textContent = card.severity;
  severity.className = `severity sev-${card.severity}`;
  title.textContent = card.title;
  if (card.estimate !== null) meta.append(h("span", { title: "Estimate" }, `${card.estimate} h`));
  if (card.pair && !card.work) meta.append(h("span", { title: "Pair" }, card.pair));
  if (card.passRate !== null) meta.append(h("span", { title: "Test pass rate" }, `${Math.round(card.passRate * 100)}%`));
  if (card.branch) meta.append(h("span", { className: "branch", title: card.branch }, h("span", { className: "codicon codicon-git-branch" }), card.branch));
  if (card.attention) meta.append(h("span", { className: "attention", title: card.attention }, h("span", { className: "codicon codicon-warning" }), card.attention.startsWith("blocked") ? "Blocked" : "Needs your answer"));
  if (card.directorPause) meta.append(h("span", { className: "director-pause", title: `Paused by the Resource Director at ${new Date(card.directorPause.since).toLocaleTimeString()}: ${card.directorPause.reason}` }, h("span", { className: "codicon codicon-debug-pause" }), `Paused ${new Date(card.directorPause.since).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`));
  if (card.waitingFor.length) meta.append(h("span", { className: "waiting", title: `Waiting for ${card.waitingFor.join(", ")}` }, h("span", { className: "codicon codicon-lock" }), card.waitingFor.join(", ")));
  if (card.work) element.append(renderWork(card.work));
  element.dataset.id = card.id;
  element.dataset.column = card.column;
  element.setAttribute("aria-label", `${card.id}: ${card.title}. ${columnName}, ${card.severity} severity${card.waitingFor.length ? `, waiting for ${card.waitingFor.join(", ")}` : ""}${card.attention ? `, ${card.attention}` : ""}${card.directorPause ? `, paused by the Resource Director: ${card.directorPause.reason}` : ""}${card.work ? `, ${card.work.pair} ${STEP_TEXT[card.work.step].label}${card.work.model ? ` on ${card.work.model}` : ""}${card.work.stopping ? ", stopping at its next step" : ""}` : ""}. Enter for details, Alt+Arrow keys to move.`);
  return element;
}

const STEP_TEXT: Record<CardWork["step"], { label: string; title: string }> = {
  starting: { label: "Starting", title: "Opening the ticket's worktree and running its suite" },
  red: { label: "Red", title: "The Tester writes a test that fails for the right reason" },
  green: { label: "Green", title: "The Developer makes the failing test pass" },
  refactor: { label: "Refactor", title: "The Developer improves the code; the suite stays green" },
  finishing: { label: "Finishing", title: "The last suite run, on a clean checkout of the committed branch" },
};

/** What the pair on a running card does: its step, the pair and model, and how long the step has run (kept current by tickElapsed). */
function renderWork(work: CardWork): HTMLElement {
  const step = STEP_TEXT[work.step];
  const elapsed = h("span", { className: "elapsed", title: `Step began at ${new Date(work.since).toLocaleTimeString()}` }, elapsedText(work.since));
  elapsed.dataset.since = String(work.since);
  const line = h("div", { className: "card-work" },
    h("span", { className: `step step-${work.step}`, title: step.title }, h("span", { className: "codicon codicon-circle-filled" }), step.label),
    h("span", { title: "Pair" }, work.pair),
    ...(work.model ? [h("span", { className: "model", title: `Model: ${work.model}` }, work.model)] : []),
    elapsed);
  if (work.stopping) line.append(h("span", { className: "stopping", title: "The pair stops at its next step boundary" }, "stopping"));
  return line;
}

function elapsedText(since: number): string {
  const seconds = Math.max(0, Math.floor((Date.now() - since) / 1000));
  const minutes = Math.floor(seconds / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
}

/** Every running card's step time, once a second (only running cards have one). */
export function tickElapsed(root: ParentNode): void {
  for (const element of root.querySelectorAll<HTMLElement>(".card-work .elapsed")) element.textContent = elapsedText(Number(element.dataset.since));
}
