// Model replies are Markdown from an untrusted source: rendered by marked, then sanitized by
// DOMPurify before they touch the page (the CSP forbids inline scripts as a second line).
import DOMPurify from "dompurify";
import { marked } from "marked";

marked.setOptions({ gfm: true, breaks: true });

// A reply could otherwise draw a convincing form ("enter your token to continue") whose submit
// posts what the user types; no reply needs a form, so none of its parts survive (the CSP's
// form-action 'none' stops a submission as a second line). A label alone is harmless text.
const FORM_TAGS = ["form", "input", "button", "select", "option", "optgroup", "textarea", "datalist", "output", "fieldset", "legend"];
const FORM_ATTRIBUTES = ["action", "formaction", "method", "enctype", "form"];

export function renderMarkdown(target: HTMLElement, text: string): void {
  const html = marked.parse(text, { async: false });
  target.innerHTML = DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: FORM_TAGS,
    FORBID_ATTR: ["style", ...FORM_ATTRIBUTES],
  });
  for (const link of target.querySelectorAll("a")) {
    // Links open through VS Code (the webview intercepts navigation); never in this frame.
    link.setAttribute("rel", "noreferrer");
  }
}
