// Model replies are Markdown from an untrusted source: rendered by marked, then sanitized by
// DOMPurify before they touch the page (the CSP forbids inline scripts as a second line).
import DOMPurify from "dompurify";
import { marked } from "marked";

marked.setOptions({ gfm: true, breaks: true });

export function renderMarkdown(target: HTMLElement, text: string): void {
  const html = marked.parse(text, { async: false });
  target.innerHTML = DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_ATTR: ["style"] });
  for (const link of target.querySelectorAll("a")) {
    // Links open through VS Code (the webview intercepts navigation); never in this frame.
    link.setAttribute("rel", "noreferrer");
  }
}
