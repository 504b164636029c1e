// A ticket's detail panel: what it is for, what done means, where it comes from, what happened
// to it, and the moves the state machine offers from where it stands (as the host judged them).
import type { ColumnId, TicketDetail } from "../../src/protocol/kanban";
import { h } from "../shared/dom";
import { button } from "../shared/projectView";

export function renderDetail(ticket: TicketDetail, columnName: (column: ColumnId) => string, actions: { move(to: ColumnId): void; close(): void }): HTMLElement {
  const close = h("button", { className: "icon-button", type: "button", title: "Close (Escape)", ariaLabel: "Close details" }, h("span", { className: "codicon codicon-close" }));
  close.addEventListener("click", () => actions.close());
  const moves = h("div", { className: "moves" }, ...ticket.moves.map(({ to, refused }) => {
    const move = button(`Move to ${columnName(to)}`, () => actions.move(to), { secondary: true });
    // Offered but disabled, with the host's reason (open blockers), rather than refused after the click.
    if (refused !== undefined) {
      move.setAttribute("disabled", "");
      move.title = refused;
    }
    return move;
  }));
  const facts: [string, string][] = [
    ["Column", columnName(ticket.column)],
    ["Severity", ticket.severity],
    ["Estimate", ticket.estimate === null ? "–" : `${ticket.estimate} h`],
    ["Pair", ticket.pair ?? "not assigned"],
    ["Pass rate", ticket.passRate === null ? "–" : `${Math.round(ticket.passRate * 100)}%`],
    ["Branch", ticket.branch ?? "–"],
    ["Functionality", ticket.functionalityId],
    ["Requirements", ticket.requirementIds.join(", ") || "–"],
    ["Blocked by", ticket.blockedBy.length ? ticket.blockedBy.map((id) => (ticket.waitingFor.includes(id) ? `${id} (not done)` : id)).join(", ") : "–"],
  ];
  const panel = h("aside", { className: "detail", role: "dialog", ariaLabel: `Ticket ${ticket.id}`, tabIndex: -1 },
    h("div", { className: "detail-head" }, h("span", { className: "card-id" }, ticket.id), h("h2", {}, ticket.title), close),
    moves,
    h("dl", { className: "facts" }, ...facts.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    section("Goal", h("p", {}, ticket.goal)),
    ticket.description ? section("Description", h("p", { className: "pre" }, ticket.description)) : "",
    section("Acceptance criteria", list(ticket.acceptanceCriteria, "None")),
    section("Files changed", list(ticket.filesChanged, "None yet")),
    section("History", h("ol", { className: "history" }, ...[...ticket.history].reverse().map((entry) =>
      h("li", {},
        h("time", { dateTime: new Date(entry.at).toISOString() }, new Date(entry.at).toLocaleString()),
        ` ${entry.by}: `,
        entry.from && entry.to ? `${columnName(entry.from)} → ${columnName(entry.to)}` : entry.to ? columnName(entry.to) : "",
        entry.note ? `${entry.from || entry.to ? " · " : ""}${entry.note}` : "",
      )))),
  );
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      actions.close();
    }
  });
  return panel;
}

function section(title: string, body: HTMLElement): HTMLElement {
  return h("section", {}, h("h3", {}, title), body);
}

function list(items: string[], empty: string): HTMLElement {
  return items.length ? h("ul", {}, ...items.map((item) => h("li", {}, item))) : h("p", { className: "muted" }, empty);
}
