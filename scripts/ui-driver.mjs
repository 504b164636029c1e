// The integration suite's "UI driver": a loopback HTTP server in the runner process that acts on
// the workbench's webviews with Playwright, as a user would (real mouse and keyboard). The suite
// runs in the extension host, which has no browser; test/integration/ui.ts is its client and
// finds this server through REDGREEN_UI_DRIVER and REDGREEN_UI_DRIVER_TOKEN.
//
// POST / with the token in the `x-redgreen-ui-driver-token` header and a JSON body
//   { action: "drag", frame, from, to } | { action: "click" | "text" | "count", frame, selector }
//   | { action: "press", frame, selector, key } | { action: "attribute", frame, selector, name }
//   | { action: "openWindow", folder } | { action: "closeWindow" } | { action: "screenshot", path }
//   | { action: "workbenchText" | "workbenchClick", selector }
// (each may add timeoutMs, and `window`: 1, the suite's own, by default; openWindow opens another
// window of the same code-server on `folder`, with the extension under development, and answers
// its number). `frame` is a selector that only the wanted webview's page has: the
// action runs in the one webview frame that shows it, searched again for every action because
// VS Code recreates a webview's frames when its view is hidden and shown. Replies are JSON:
// { ok: true, value } or { ok: false, error }.
import { randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { z } from "zod";

export const TOKEN_HEADER = "x-redgreen-ui-driver-token";
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 64 * 1024;

const selector = z.string().min(1).max(2_000);
const timing = { timeoutMs: z.number().int().min(1).max(120_000).optional(), window: z.number().int().min(1).max(8).optional() };
const common = { frame: selector, ...timing };
const ActionSchema = z.discriminatedUnion("action", [
  z.strictObject({ action: z.literal("drag"), ...common, from: selector, to: selector }),
  z.strictObject({ action: z.literal("click"), ...common, selector }),
  z.strictObject({ action: z.literal("press"), ...common, selector, key: z.string().min(1).max(100) }),
  z.strictObject({ action: z.literal("text"), ...common, selector }),
  z.strictObject({ action: z.literal("count"), ...common, selector }),
  z.strictObject({ action: z.literal("attribute"), ...common, selector, name: z.string().min(1).max(200) }),
  z.strictObject({ action: z.literal("openWindow"), folder: z.string().min(1).max(4_096), ...timing }),
  z.strictObject({ action: z.literal("closeWindow"), ...timing, window: z.number().int().min(2).max(8) }),
  z.strictObject({ action: z.literal("screenshot"), ...timing, path: z.string().min(1).max(4_096) }),
  z.strictObject({ action: z.enum(["workbenchText", "workbenchClick"]), selector, ...timing }),
]);

/** A failure to report as is (no stack): the message says what the test asked for and what was missing. */
class DriverError extends Error {}

/**
 * Starts the driver on 127.0.0.1 (a random port). Attach the workbench page once it exists, with
 * how to open another window; actions before that fail with a clear error.
 * @returns {Promise<{ url: string, token: string, env: Record<string,string>, attach(page: import("playwright-core").Page, openWindow?: (folder: string) => Promise<import("playwright-core").Page>): void, close(): Promise<void> }>}
 */
export async function startUiDriver({ log = () => {} } = {}) {
  const token = randomBytes(24).toString("hex");
  /** The windows by number less one: the suite's own first. @type {import("playwright-core").Page[]} */
  let pages = [];
  /** @type {((folder: string) => Promise<import("playwright-core").Page>) | undefined} */
  let opener;
  // One action at a time: the mouse and the keyboard are shared.
  let queue = Promise.resolve();

  const server = http.createServer((request, response) => {
    const reply = (status, body) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (request.method !== "POST" || (request.url !== "/" && request.url !== "")) {
      request.resume();
      reply(request.method === "POST" ? 404 : 405, { ok: false, error: "the UI driver takes POST / only" });
      return;
    }
    if (!tokenMatches(request.headers[TOKEN_HEADER], token)) {
      request.resume();
      reply(401, { ok: false, error: `missing or wrong ${TOKEN_HEADER} header` });
      return;
    }
    readBody(request).then(
      (text) => {
        let parsed;
        try {
          parsed = ActionSchema.safeParse(JSON.parse(text));
        } catch {
          reply(400, { ok: false, error: "the body is not JSON" });
          return;
        }
        if (!parsed.success) {
          reply(400, { ok: false, error: `invalid action: ${z.prettifyError(parsed.error)}` });
          return;
        }
        const action = parsed.data;
        const run = queue.then(() => {
          if (action.action === "openWindow") return openWindow(action.folder);
          if (action.action === "closeWindow") return pages[action.window - 1]?.close();
          if (action.action === "screenshot") return pages[(action.window ?? 1) - 1]?.screenshot({ path: action.path }).then(() => null);
          return perform(pages[(action.window ?? 1) - 1], action);
        });
        queue = run.then(() => undefined, () => undefined);
        run.then(
          (value) => reply(200, { ok: true, value: value ?? null }),
          (error) => {
            const message = describeError(error, action);
            log(`UI driver: ${action.action} failed: ${message}`);
            reply(500, { ok: false, error: message });
          },
        );
      },
      (error) => reply(400, { ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  const openWindow = async (folder) => {
    if (!opener) throw new DriverError("this runner cannot open another window");
    pages.push(await opener(folder));
    return pages.length;
  };
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    token,
    env: { REDGREEN_UI_DRIVER: url, REDGREEN_UI_DRIVER_TOKEN: token },
    attach(workbench, openAnother) {
      pages = [workbench];
      opener = openAnother;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function tokenMatches(header, token) {
  if (typeof header !== "string") return false;
  const given = Buffer.from(header);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`the body is larger than ${MAX_BODY_BYTES} bytes`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

/** Runs one validated action on the workbench page; resolves with the reply's value. */
async function perform(page, action) {
  if (!page || page.isClosed()) throw new DriverError(`window ${action.window ?? 1} is not open`);
  const timeoutMs = action.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  if (action.action === "workbenchText" || action.action === "workbenchClick") return onWorkbench(page, action, remaining);
  const frame = await frameShowing(page, action.frame, timeoutMs);
  /** The first element matching `css` in that frame, waited for until the deadline. */
  const element = async (css) => {
    const locator = frame.locator(css).first();
    try {
      await locator.waitFor({ state: "attached", timeout: remaining() });
    } catch (error) {
      if (error?.name !== "TimeoutError") throw error;
      throw new DriverError(`selector ${css} not found in the webview frame that shows ${action.frame} within ${timeoutMs} ms`);
    }
    return locator;
  };
  switch (action.action) {
    case "count":
      return frame.locator(action.selector).count();
    case "text": {
      const locator = frame.locator(action.selector).first();
      return (await locator.count()) === 0 ? null : locator.innerText({ timeout: remaining() });
    }
    case "attribute": {
      const locator = frame.locator(action.selector).first();
      return (await locator.count()) === 0 ? null : locator.getAttribute(action.name, { timeout: remaining() });
    }
    case "click":
      await (await element(action.selector)).click({ timeout: remaining() });
      return null;
    case "press":
      await (await element(action.selector)).focus({ timeout: remaining() });
      await page.keyboard.press(action.key);
      return null;
    case "drag": {
      // A real mouse drag (Playwright presses the mouse on the source and releases it on the
      // target): Chromium runs its own HTML5 drag and drop, also inside the webview's nested
      // iframes (checked: dragstart, dragenter, dragover, drop with the dataTransfer, dragend).
      await dragLikeAHand(page, await element(action.from), await element(action.to), remaining());
      return null;
    }
  }
}

/** Reads or clicks the first match of `selector` in the workbench itself (the status bar, the activity bar), not in a webview. */
async function onWorkbench(page, action, remaining) {
  const locator = page.locator(action.selector).first();
  if (action.action === "workbenchText") return (await locator.count()) === 0 ? null : locator.innerText({ timeout: remaining() });
  await locator.click({ timeout: remaining() });
  return null;
}

/**
 * Drags `source` onto `target` (locators) with the mouse, in steps with short pauses as a hand
 * does. With one jump from outside the frame (Playwright's dragTo), Chromium did not start the
 * first drag in a webview at all (seen in the Kanban test: no dragstart), and a scroll between
 * the press and the move could start it on another card.
 */
export async function dragLikeAHand(page, source, target, timeout = 10_000) {
  await source.scrollIntoViewIfNeeded({ timeout });
  const from = await source.boundingBox();
  if (!from) throw new DriverError("the element to drag has no box");
  const x = from.x + from.width / 2;
  const y = from.y + from.height / 2;
  await page.mouse.move(x - 20, y, { steps: 4 });
  await page.mouse.move(x, y, { steps: 4 });
  await page.waitForTimeout(100);
  await page.mouse.down();
  await page.mouse.move(x, y + 10, { steps: 4 });
  await target.scrollIntoViewIfNeeded({ timeout });
  const to = await target.boundingBox();
  if (!to) throw new DriverError("the drop target has no box");
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 12 });
  await page.waitForTimeout(50);
  await page.mouse.up();
}

/**
 * The one webview frame (not the workbench itself) whose page has `css`. Waits up to `timeoutMs`;
 * fails when none or several show it (frames of hidden views disappear, new ones start loading).
 */
async function frameShowing(page, css, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    const frames = page.frames().filter((frame) => frame !== page.mainFrame() && !frame.isDetached());
    const counts = await Promise.all(frames.map((frame) => frame.locator(css).count().catch((error) => {
      lastError = error;
      return 0;
    })));
    const showing = frames.filter((_, i) => counts[i] > 0);
    if (showing.length === 1) return showing[0];
    if (showing.length > 1) {
      throw new DriverError(`${showing.length} webview frames show ${css}: pass a frame selector that only one view's page has`);
    }
    if (Date.now() >= deadline) {
      const why = lastError ? ` (last error: ${firstLine(lastError)})` : "";
      throw new DriverError(`no webview frame shows ${css} within ${timeoutMs} ms${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function firstLine(error) {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0];
}

function describeError(error, action) {
  if (error instanceof DriverError) return error.message;
  // Playwright's messages end with a long call log: keep what it says went wrong.
  const message = error instanceof Error ? error.message : String(error);
  const [summary] = message.split("\nCall log:");
  const where = action.frame ? `the webview frame that shows ${action.frame}` : `window ${action.window ?? 1}`;
  return `${action.action} in ${where}: ${summary.trim().slice(0, 1_000)}`;
}
