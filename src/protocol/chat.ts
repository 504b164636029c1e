import { defineProtocol } from "./rpc";
import { commonToHost, commonToWebview } from "./viewState";

export const chatProtocol = defineProtocol({
  view: "chat",
  toHost: { ...commonToHost },
  toWebview: { ...commonToWebview },
});
export type ChatProtocol = typeof chatProtocol;
