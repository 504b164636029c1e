// The webview end of a view's protocol: the same Endpoint as the host, over acquireVsCodeApi().
import { Endpoint, type Protocol } from "../../src/protocol/rpc";

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export type WebviewEndpoint<P extends Protocol> = Endpoint<P["toWebview"], P["toHost"]>;

export interface Connection<P extends Protocol> {
  endpoint: WebviewEndpoint<P>;
  /** Starts listening and says "ready"; call it once the handlers are in place. */
  start(): void;
}

/** Connects this page to the host. */
export function connect<P extends Protocol>(protocol: P): Connection<P> {
  const api = acquireVsCodeApi();
  const timeout = Number(document.body.dataset.requestTimeoutMs) || 10_000;
  const endpoint: WebviewEndpoint<P> = new Endpoint(protocol.toWebview, protocol.toHost, {
    peer: "the extension host",
    post: (message) => api.postMessage(message),
    onInvalid: (problem) => console.warn(`[redgreen ${protocol.view}] ${problem}`),
    requestTimeoutMs: () => timeout,
    waitForReady: false,
  });
  return {
    endpoint,
    start() {
      window.addEventListener("message", (event: MessageEvent<unknown>) => endpoint.receive(event.data));
      endpoint.announceReady();
    },
  };
}
