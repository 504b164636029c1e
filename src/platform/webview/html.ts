import { randomBytes } from "node:crypto";
import * as vscode from "vscode";

export interface WebviewPage {
  /** Bundle name under dist/webviews: `<name>.js` and `<name>.css`. */
  bundle: string;
  title: string;
  requestTimeoutMs: number;
}

export function webviewRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, "dist")];
}

/**
 * The page every Redgreen webview starts from. Strict CSP: scripts only with this page's nonce,
 * styles and fonts only from the extension's dist folder (web components use constructable
 * stylesheets, which the CSP allows without 'unsafe-inline'). form-action and base-uri do not fall
 * back to default-src, so they are closed by name: nothing on the page can post a form or move
 * its relative URLs elsewhere; frame-src says outright that no page embeds another.
 */
export function renderWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = randomBytes(18).toString("base64");
  const asset = (...segments: string[]) =>
    webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", ...segments)).toString();
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "form-action 'none'",
    "base-uri 'none'",
    "frame-src 'none'",
  ].join("; ");
  return `<!DOCTYPE html>
<html lang="${escapeAttribute(vscode.env.language)}">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${asset("codicons", "codicon.css")}" id="vscode-codicon-stylesheet">
  <link rel="stylesheet" href="${asset("webviews", `${page.bundle}.css`)}">
  <title>${escapeText(page.title)}</title>
</head>
<body data-request-timeout-ms="${page.requestTimeoutMs}">
  <main id="root" aria-busy="true"></main>
  <script type="module" nonce="${nonce}" src="${asset("webviews", `${page.bundle}.js`)}"></script>
</body>
</html>`;
}

function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function escapeAttribute(text: string): string {
  return escapeText(text).replace(/"/g, "&quot;");
}
