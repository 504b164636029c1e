// Acts on the webviews as a user would: real mouse drags, clicks and key presses, through the UI
// driver that scripts/run-integration.mjs runs beside the browser (scripts/ui-driver.mjs). The
// suite runs in the extension host, which has no page of its own to click on.
//
// `frame` is a CSS selector that only the wanted view's page has (".lanes" for the Kanban): each
// call acts in the one webview frame that shows it, found again for every call (VS Code recreates
// a view's frames when it is hidden and shown), waiting up to timeoutMs (10 s by default).
// Selectors then match inside that frame; actions take the first match.
//
// Only the code-server runner (npm run test:integration) has a browser to drive: elsewhere
// (npm run test:electron) `ui.available` is false and every call throws; skip such tests with
// `if (!ui.available) this.skip();`.

/** Must match TOKEN_HEADER in scripts/ui-driver.mjs. */
const TOKEN_HEADER = "x-redgreen-ui-driver-token";
const DEFAULT_TIMEOUT_MS = 10_000;

type Action = { window?: number } & (
  | { action: "drag"; frame: string; from: string; to: string }
  | { action: "click" | "text" | "count"; frame: string; selector: string }
  | { action: "press"; frame: string; selector: string; key: string }
  | { action: "attribute"; frame: string; selector: string; name: string }
  | { action: "openWindow"; folder: string; frame?: undefined }
  | { action: "closeWindow"; frame?: undefined }
  | { action: "screenshot"; path: string; frame?: undefined }
  | { action: "workbenchText" | "workbenchClick"; selector: string; frame?: undefined }
);

const driverUrl = process.env.REDGREEN_UI_DRIVER;
const driverToken = process.env.REDGREEN_UI_DRIVER_TOKEN;

async function perform(request: Action, timeoutMs: number | undefined): Promise<unknown> {
  const what = `ui.${request.action}(${JSON.stringify(request.frame ?? request.window ?? "")}, ...)`;
  if (!driverUrl || !driverToken) {
    throw new Error(`${what}: no UI driver (REDGREEN_UI_DRIVER is not set). Only npm run test:integration (code-server) has one; skip with "if (!ui.available) this.skip()".`);
  }
  const body = JSON.stringify(timeoutMs === undefined ? request : { ...request, timeoutMs });
  const response = await fetch(driverUrl, {
    method: "POST",
    headers: { "content-type": "application/json", [TOKEN_HEADER]: driverToken },
    body,
    // The driver answers within timeoutMs; this only guards against a runner that went away.
    signal: AbortSignal.timeout((timeoutMs ?? DEFAULT_TIMEOUT_MS) + 30_000),
  });
  const reply = (await response.json().catch(() => undefined)) as { ok?: unknown; value?: unknown; error?: unknown } | undefined;
  if (reply?.ok === true) return reply.value;
  const error = typeof reply?.error === "string" ? reply.error : `HTTP ${response.status} without an error message`;
  throw new Error(`${what} failed: ${error}`);
}

export const ui = {
  /** Whether a UI driver runs beside this suite (true under the code-server runner). */
  available: Boolean(driverUrl && driverToken),

  /** Drags `from` onto `to` with the mouse (Chromium's own HTML5 drag and drop events fire). */
  async drag(frame: string, from: string, to: string, timeoutMs?: number): Promise<void> {
    await perform({ action: "drag", frame, from, to }, timeoutMs);
  },

  /** Clicks the first element matching `selector`, waiting for it to be there and clickable. */
  async click(frame: string, selector: string, timeoutMs?: number): Promise<void> {
    await perform({ action: "click", frame, selector }, timeoutMs);
  },

  /** Focuses the first match of `selector`, then presses `key` ("Enter", "Alt+ArrowRight", ...). */
  async press(frame: string, selector: string, key: string, timeoutMs?: number): Promise<void> {
    await perform({ action: "press", frame, selector, key }, timeoutMs);
  },

  /** The innerText of the first match (what the user reads), or null when nothing matches. */
  async text(frame: string, selector: string, timeoutMs?: number): Promise<string | null> {
    return (await perform({ action: "text", frame, selector }, timeoutMs)) as string | null;
  },

  /** How many elements match `selector` now (no waiting, 0 is an answer). */
  async count(frame: string, selector: string, timeoutMs?: number): Promise<number> {
    return (await perform({ action: "count", frame, selector }, timeoutMs)) as number;
  },

  /** Attribute `name` of the first match, or null when nothing matches or it has no such attribute. */
  async attribute(frame: string, selector: string, name: string, timeoutMs?: number): Promise<string | null> {
    return (await perform({ action: "attribute", frame, selector, name }, timeoutMs)) as string | null;
  },

  /** Opens another window of the same code-server on `folder` (its own extension host, with Redgreen); resolves with its number. */
  async openWindow(folder: string, timeoutMs = 60_000): Promise<number> {
    return (await perform({ action: "openWindow", folder }, timeoutMs)) as number;
  },

  /** Acts in window `window` (1 is the suite's own): its webviews, and the workbench around them (status bar, activity bar). */
  window(window: number) {
    return {
      text: async (frame: string, selector: string, timeoutMs?: number) => (await perform({ action: "text", frame, selector, window }, timeoutMs)) as string | null,
      count: async (frame: string, selector: string, timeoutMs?: number) => (await perform({ action: "count", frame, selector, window }, timeoutMs)) as number,
      attribute: async (frame: string, selector: string, name: string, timeoutMs?: number) => (await perform({ action: "attribute", frame, selector, name, window }, timeoutMs)) as string | null,
      press: async (frame: string, selector: string, key: string, timeoutMs?: number) => void (await perform({ action: "press", frame, selector, key, window }, timeoutMs)),
      workbenchText: async (selector: string, timeoutMs?: number) => (await perform({ action: "workbenchText", selector, window }, timeoutMs)) as string | null,
      workbenchClick: async (selector: string, timeoutMs?: number) => void (await perform({ action: "workbenchClick", selector, window }, timeoutMs)),
      close: async () => void (await perform({ action: "closeWindow", window }, undefined)),
      /** Saves what the window shows now as a PNG at `path`. */
      screenshot: async (path: string) => void (await perform({ action: "screenshot", path, window }, undefined)),
    };
  },
};
