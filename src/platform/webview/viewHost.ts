import * as vscode from "vscode";
import { DisposableStore } from "../../core/lifecycle";
import type { Logger } from "../../core/logger";
import { Endpoint, type Protocol } from "../../protocol/rpc";
import type { Settings } from "../settings";
import { renderWebviewHtml, webviewRoots } from "./html";

export interface ViewHostServices {
  extensionUri: vscode.Uri;
  log: Logger;
  settings: Settings;
}

/**
 * Hosts one webview view and its typed channel. The channel outlives the page: when the view is
 * hidden its page is discarded (we do not retain hidden webviews), requests in flight fail at
 * once, and messages wait until the recreated page says "ready" again.
 */
export class WebviewViewHost<P extends Protocol> implements vscode.WebviewViewProvider, vscode.Disposable {
  readonly endpoint: Endpoint<P["toHost"], P["toWebview"]>;
  private readonly store = new DisposableStore();
  private page = new DisposableStore();
  private view: vscode.WebviewView | undefined;

  constructor(
    readonly viewId: string,
    private readonly protocol: P,
    private readonly title: string,
    private readonly services: ViewHostServices,
  ) {
    this.endpoint = new Endpoint(protocol.toHost, protocol.toWebview, {
      peer: `the ${protocol.view} view`,
      post: (message) => void this.view?.webview.postMessage(message),
      onInvalid: (problem) => services.log.warn(problem),
      requestTimeoutMs: () => services.settings.get("webviews.requestTimeoutMs"),
      waitForReady: true,
    });
    this.store.add(vscode.window.registerWebviewViewProvider(viewId, this));
    this.store.add(this.endpoint);
    this.store.add({ dispose: () => this.page.dispose() });
    this.endpoint.onReady(() => services.log.debug(`The ${protocol.view} view is ready`));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.page.dispose();
    this.page = new DisposableStore();
    this.view = view;
    const { extensionUri, settings } = this.services;
    view.webview.options = { enableScripts: true, localResourceRoots: webviewRoots(extensionUri) };
    view.webview.html = renderWebviewHtml(view.webview, extensionUri, {
      bundle: this.protocol.view,
      title: this.title,
      requestTimeoutMs: settings.get("webviews.requestTimeoutMs"),
    });
    this.page.add(view.webview.onDidReceiveMessage((message: unknown) => this.endpoint.receive(message)));
    this.page.add(
      view.onDidChangeVisibility(() => {
        if (!view.visible) this.endpoint.disconnect("hidden");
      }),
    );
    this.page.add(
      view.onDidDispose(() => {
        this.endpoint.disconnect("closed");
        this.view = undefined;
        this.page.dispose();
      }),
    );
  }

  /** Resolves once the page has said "ready" (at once if it already has). */
  whenReady(): Promise<void> {
    if (this.endpoint.isReady) return Promise.resolve();
    return new Promise((resolve) => {
      const subscription = this.endpoint.onReady(() => {
        subscription.dispose();
        resolve();
      });
    });
  }

  /** Posts a message as is, bypassing the typed API: for tests of the page's own validation. */
  postRaw(message: unknown): Thenable<boolean> {
    return this.view?.webview.postMessage(message) ?? Promise.resolve(false);
  }

  /** Runs `release` when this view host is disposed. */
  onDispose(release: () => void): void {
    this.store.add({ dispose: release });
  }

  dispose(): void {
    this.store.dispose();
  }
}
