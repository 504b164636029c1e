// The board: one list per column, one card per ticket. Built once per project and then changed
// card by card (a move re-parents one element), so a board of 1,000 tickets stays responsive.
// Cards are plain elements (no web components): a thousand shadow roots would cost more than
// the whole board.
import { COLUMNS, type Column } from "../../src/core/store/records";
import { canMove, COLUMN_NAMES, refuseMove } from "../../src/core/tickets/ticketRules";
import type { Card } from "../../src/protocol/kanban";
import { h } from "../shared/dom";

export interface BoardActions {
  /** The human asks for a move; the host decides. */
  move(id: string, to: Column): void;
  open(id: string): void;
}

interface Lane {
  list: HTMLOListElement;
  count: HTMLElement;
}

const DRAG_TYPE = "application/x-redgreen-ticket";

export class Board {
  readonly element: HTMLElement;
  private readonly lanes = {} as Record<Column, Lane>;
  private readonly cards = new Map<string, { card: Card; element: HTMLElement }>();
  private filter = "";

  constructor(private readonly actions: BoardActions) {
    this.element = h("div", { className: "board", role: "region", ariaLabel: "Board" });
    for (const column of COLUMNS) {
      const count = h("span", { className: "lane-count" }, "0");
      const list = h("ol", { className: "cards", ariaLabel: COLUMN_NAMES[column] });
      const lane = h("section", { className: "lane" }, h("h3", { className: "lane-title" }, COLUMN_NAMES[column], count), list);
      lane.dataset.column = column;
      this.acceptDrops(lane, column);
      this.lanes[column] = { list, count };
      this.element.append(lane);
    }
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
      const allowed = known ? allowedMoves(known) : [];
      for (const column of COLUMNS) this.lanes[column].list.parentElement!.classList.toggle("no-drop", !allowed.includes(column));
    });
    this.element.addEventListener("dragend", (event) => {
      cardOf(event.target)?.classList.remove("dragging");
      for (const column of COLUMNS) this.lanes[column].list.parentElement!.classList.remove("no-drop", "drop-target");
    });
  }

  /** Replaces every card (a new project, or a fresh load). */
  load(cards: Card[]): void {
    this.cards.clear();
    const fragments = Object.fromEntries(COLUMNS.map((c) => [c, document.createDocumentFragment()])) as Record<Column, DocumentFragment>;
    for (const card of cards) {
      const element = renderCard(card);
      this.cards.set(card.id, { card, element });
      fragments[card.column].append(element);
    }
    for (const column of COLUMNS) this.lanes[column].list.replaceChildren(fragments[column]);
    this.applyFilter();
    this.updateCounts();
  }

  /** A card changed (here or anywhere): it is redrawn in place, or moved to the end of its new column. */
  upsert(card: Card): void {
    const known = this.cards.get(card.id);
    const element = renderCard(card);
    element.hidden = !matches(card, this.filter);
    const hadFocus = known?.element === document.activeElement;
    if (known && known.card.column === card.column) known.element.replaceWith(element);
    else {
      known?.element.remove();
      this.lanes[card.column].list.append(element);
    }
    this.cards.set(card.id, { card, element });
    if (hadFocus) element.focus();
    this.updateCounts();
  }

  /** Shows a card in another column at once, moving its element as it is (the host's answer redraws it). */
  place(id: string, column: Column): void {
    const known = this.cards.get(id);
    if (!known) return;
    known.card = { ...known.card, column };
    known.element.dataset.column = column;
    this.lanes[column].list.append(known.element);
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

  counts(): Record<Column, number> {
    return Object.fromEntries(COLUMNS.map((c) => [c, this.lanes[c].list.childElementCount])) as Record<Column, number>;
  }

  private applyFilter(): void {
    for (const { card, element } of this.cards.values()) element.hidden = !matches(card, this.filter);
  }

  private updateCounts(): void {
    for (const column of COLUMNS) {
      const { list, count } = this.lanes[column];
      const total = list.childElementCount;
      const shown = this.filter ? list.querySelectorAll(".card:not([hidden])").length : total;
      count.textContent = shown === total ? String(total) : `${shown}/${total}`;
    }
  }

  private acceptDrops(lane: HTMLElement, column: Column): void {
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
    const { id, column } = element.dataset as { id: string; column: Column };
    const index = COLUMNS.indexOf(column);
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (event.key === "Enter" || event.key === " ") this.actions.open(id);
    else if (step && event.altKey) {
      const to = COLUMNS[index + step];
      if (to) this.actions.move(id, to);
    } else if (step) this.firstVisible(COLUMNS[index + step])?.focus();
    else if (event.key === "ArrowDown" || event.key === "ArrowUp") sibling(element, event.key === "ArrowDown")?.focus();
    else return;
    event.preventDefault();
  }

  private firstVisible(column: Column | undefined): HTMLElement | undefined {
    if (!column) return undefined;
    return this.lanes[column].list.querySelector<HTMLElement>(".card:not([hidden])") ?? undefined;
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

/** Why the host's state machine would refuse this move, or undefined: `waitingFor` holds only blockers not done. */
export function refusal(card: Card, to: Column): string | undefined {
  return refuseMove({ _id: card.id, column: card.column, blockedBy: card.waitingFor }, to);
}

/** Where a card may go from its column (the same state machine the host applies). */
export function allowedMoves(card: Card): Column[] {
  return COLUMNS.filter((to) => canMove(card.column, to));
}

/** The fixed part of every card, cloned: cheaper than building a thousand cards element by element. */
let cardTemplate: HTMLElement | undefined;

function renderCard(card: Card): HTMLElement {
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
  if (card.pair) meta.append(h("span", { title: "Pair" }, card.pair));
  if (card.passRate !== null) meta.append(h("span", { title: "Test pass rate" }, `${Math.round(card.passRate * 100)}%`));
  if (card.branch) meta.append(h("span", { className: "branch", title: card.branch }, h("span", { className: "codicon codicon-git-branch" }), card.branch));
  if (card.attention) meta.append(h("span", { className: "attention", title: card.attention }, h("span", { className: "codicon codicon-warning" }), card.attention.startsWith("blocked") ? "Blocked" : "Needs your answer"));
  if (card.waitingFor.length) meta.append(h("span", { className: "waiting", title: `Waiting for ${card.waitingFor.join(", ")}` }, h("span", { className: "codicon codicon-lock" }), card.waitingFor.join(", ")));
  element.dataset.id = card.id;
  element.dataset.column = card.column;
  element.setAttribute("aria-label", `${card.id}: ${card.title}. ${COLUMN_NAMES[card.column]}, ${card.severity} severity${card.waitingFor.length ? `, waiting for ${card.waitingFor.join(", ")}` : ""}${card.attention ? `, ${card.attention}` : ""}. Enter for details, Alt+Arrow keys to move.`);
  return element;
}
