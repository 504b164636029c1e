import { defineProtocol } from "./rpc";
import { commonToHost, commonToWebview } from "./viewState";

export const kanbanProtocol = defineProtocol({
  view: "kanban",
  toHost: { ...commonToHost },
  toWebview: { ...commonToWebview },
});
export type KanbanProtocol = typeof kanbanProtocol;
