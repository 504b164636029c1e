// Opens the real editor (code-server) with Redgreen on the sample workspace, shows the Redgreen
// container and saves PNGs of the whole window and of each view, in the dark and light themes,
// into screenshots/ (git-ignored). Then creates a project through New Project's prompts, saves
// its spec with CodeLens, and chats with the PM by typing into the Chat view; the PM is a scripted
// OpenAI-compatible server on loopback (the test helper), so the pictures show readable replies.
// Also fails if a view logs a CSP violation or an error.
import { mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { launchBrowser, startCodeServer, workbenchUrl } from "./code-server.mjs";
import { createProjectThroughUi, sampleWorkspace, setColorTheme, showRedgreen } from "./workbench.mjs";
import { dragLikeAHand } from "./ui-driver.mjs";
import { fail, log, repoRoot, scratchDataFolder } from "./lib.mjs";

const THEMES = { dark: "Default Dark Modern", light: "Default Light Modern" };
const { startScriptedOpenAi } = createRequire(import.meta.url)(path.join(repoRoot, "out/test/integration/scriptedOpenAi.js"));

const PM_REPLY = "Good idea. I propose gift cards as a **Should have** requirement, with two acceptance criteria:\n\n" +
  "- a valid code reduces the order total\n- an expired code is refused with a clear message\n\nThe checkout would call `applyGiftCard(order, code)`. " +
  "The exact edit is below: accept it, or look at the diff first.";
const PM_EDIT = { summary: "Add gift cards (R-2) as a Should have.", section: "Should have", text: "- **R-2**: Gift cards can pay for orders.\n  - Acceptance: a valid code reduces the total; an expired one is refused." };
const outDir = path.join(repoRoot, "screenshots");

/**
 * The Developer/Tester pair for the review pictures, told apart by their reply schemas: the Tester
 * writes one failing test, then says the ticket is covered, then asks a question (which stops
 * the pair on the next ticket); the Developer writes the code; refactoring is skipped.
 */
let testerTurns = 0;
function pairReply(request) {
  const properties = request.schema?.properties ?? {};
  if ("criterion" in properties) {
    testerTurns++;
    if (testerTurns === 1) {
      const test = "const { test } = require('node:test');\nconst assert = require('node:assert');\nconst { bookDetail } = require('../src/bookDetail.js');\n\n" +
        "test('shows the title and the author', () => {\n  assert.strictEqual(bookDetail({ title: 'Dune', author: 'Frank Herbert' }), 'Dune, by Frank Herbert');\n});\n";
      return JSON.stringify({ status: "test", criterion: "shows the title and the author", note: "", edits: [{ path: "test/bookDetail.test.js", content: test }] });
    }
    if (testerTurns === 2) return JSON.stringify({ status: "covered", criterion: "", note: "both criteria have a passing test", edits: [] });
    return JSON.stringify({ status: "needs_clarification", criterion: "", note: "Should cover images be resized on upload, or shown as they come?", edits: [] });
  }
  if (!("status" in properties)) return undefined;
  if (JSON.stringify(properties.status).includes("refactor")) return JSON.stringify({ status: "skip", note: "", edits: [] });
  const code = "// The line a book's page shows under its cover.\nexports.bookDetail = (book) => `${book.title}, by ${book.author}`;\n";
  return JSON.stringify({ status: "code", note: "the least code that passes", edits: [{ path: "src/bookDetail.js", content: code }] });
}

/** The Architect's plan for the board pictures: 30 tickets in 5 functionalities, with dependencies. */
function boardPlan() {
  const functionalities = {
    Catalogue: ["List the books", "Book detail page", "Cover images", "Categories", "Stock levels", "Catalogue import"],
    Search: ["Search by title", "Search by author", "Filters by price", "Sort results", "Search suggestions", "Empty results page"],
    Cart: ["Add to cart", "Change quantities", "Remove items", "Cart total with tax", "Keep the cart across visits", "Cart badge"],
    Checkout: ["Shipping address", "Pay by card", "Pay with a gift card", "Order confirmation email", "Refuse expired gift cards", "Order history"],
    Accounts: ["Sign up", "Sign in", "Password reset", "Profile page", "Delete my account", "Admin role"],
  };
  const severities = ["high", "medium", "critical", "low", "medium", "high"];
  let n = 0;
  return {
    functionalities: Object.entries(functionalities).map(([name, titles]) => ({
      name,
      tickets: titles.map((title, i) => {
        n++;
        return {
          key: `T${n}`, title, description: `${title} for the bookshop.`, goal: `${title} works end to end.`,
          acceptanceCriteria: [`${title.toLowerCase()} is covered by a test`, "errors are shown, not swallowed"],
          requirementIds: name === "Checkout" && /gift/i.test(title) ? ["R-2"] : name === "Accounts" ? ["R-3"] : ["R-1"],
          severity: severities[i], estimateHours: [2, 3, 1.5, 5, 4, 8][i], dependsOn: i > 0 && i % 2 === 0 ? [`T${n - 1}`] : [],
        };
      }),
    })),
  };
}

async function capture(theme, colorTheme) {
  const folder = sampleWorkspace();
  const pm = await startScriptedOpenAi((request) => {
    if (request.schema?.properties?.intent) return '{"intent":"change"}';
    if (request.schema?.properties?.section) return JSON.stringify(PM_EDIT);
    if (request.schema?.properties?.functionalities) return JSON.stringify(boardPlan());
    const pair = pairReply(request);
    if (pair) return pair;
    return PM_REPLY;
  }, { paceMs: 15 });
  testerTurns = 0;
  const registry = { models: ["reasoning", "heavy", "code"].map((id) => ({ id, backend: "openai", url: pm.url, model: "scripted" })) };
  // The pictures show the board as planned: no pair takes a ticket meanwhile.
  const data = scratchDataFolder("redgreen-shots-data-");
  const server = await startCodeServer({ folder, env: data.env, settings: { "redgreen.models.registry": registry, "redgreen.pairs.autoStart": false } });
  const browser = await launchBrowser();
  const problems = [];
  try {
    const page = await browser.context.newPage();
    page.on("console", (message) => {
      const text = message.text();
      if (/Content Security Policy|redgreen/i.test(text) && message.type() !== "debug") problems.push(text);
    });
    await page.goto(workbenchUrl(server, { folder, extensionPath: repoRoot }));
    await setColorTheme(page, colorTheme);
    const views = await showRedgreen(page, { log });
    await page.mouse.move(700, 450); // no tooltip over the activity bar
    await page.waitForTimeout(300);
    const files = [path.join(outDir, `${theme}-window.png`)];
    await page.screenshot({ path: files[0] });
    for (const [name, locator] of Object.entries(views)) {
      const file = path.join(outDir, `${theme}-${name}.png`);
      await locator.screenshot({ path: file });
      files.push(file);
    }
    // A project made through New Project's prompts: its spec opens with CodeLens and highlighting.
    const project = path.join(folder, "bookshop");
    mkdirSync(project);
    await createProjectThroughUi(page, { folder: project, name: "Bookshop", testCommand: "node --test" });
    const editor = page.locator(".editor-group-container.active");
    await page.locator(".codelens-decoration", { hasText: "Approve spec" }).waitFor({ timeout: 20_000 });
    await page.waitForTimeout(500);
    files.push(path.join(outDir, `${theme}-spec.png`));
    await editor.screenshot({ path: files.at(-1) });

    // Typed into the Chat view as a user would; the reply streams, then the proposal waits.
    const chat = await frameWith(page, ".composer");
    await chat.locator("vscode-textarea").click();
    await page.keyboard.type("Can we add gift cards?");
    await page.keyboard.press("Enter");
    await chat.locator(".notice.proposal").waitFor({ timeout: 30_000 });
    await page.waitForTimeout(300);
    files.push(path.join(outDir, `${theme}-chat-conversation.png`));
    await views.chat.screenshot({ path: files.at(-1) });
    files.push(path.join(outDir, `${theme}-project-window.png`));
    await page.screenshot({ path: files.at(-1) });

    // Accept the edit, approve the spec with its CodeLens: the Architect plans 30 tickets.
    await chat.locator("vscode-button", { hasText: "Accept" }).click();
    await chat.locator(".entry", { hasText: "I changed the spec" }).waitFor({ timeout: 20_000 });
    await page.locator(".codelens-decoration a", { hasText: "Approve spec" }).click({ timeout: 20_000 });
    const board = await frameWith(page, ".board");
    await board.locator(".card").nth(29).waitFor({ state: "attached", timeout: 60_000 });
    // The board alone in a wide side bar, as someone watching the agents would set it.
    await page.locator(".pane-header", { hasText: "Chat" }).click();
    const sidebar = await page.locator(".part.sidebar").boundingBox();
    const edge = { x: sidebar.x + sidebar.width, y: sidebar.y + sidebar.height / 2 };
    await page.mouse.move(edge.x, edge.y, { steps: 2 });
    await page.mouse.down();
    await page.mouse.move(edge.x + 700, edge.y, { steps: 10 });
    await page.mouse.up();
    await page.waitForTimeout(500);
    // The human drags one card to In progress (the project goes on hold for a re-review) and
    // moves another with the keyboard; then opens a ticket.
    await dragLikeAHand(page, board.locator(".card", { hasText: "List the books" }), board.locator('.lane[data-column="inprogress"]'));
    await board.locator('.lane[data-column="inprogress"] .card').first().waitFor({ timeout: 10_000 });
    await board.locator(".card", { hasText: "Search by title" }).focus();
    await page.keyboard.press("Alt+ArrowRight");
    await board.locator('.lane[data-column="inprogress"] .card').nth(1).waitFor({ timeout: 10_000 });
    await page.mouse.move(5, 5);
    await page.waitForTimeout(500);
    files.push(path.join(outDir, `${theme}-board.png`));
    await views.kanban.screenshot({ path: files.at(-1) });
    await board.locator(".card", { hasText: "Pay with a gift card" }).click();
    await board.locator(".detail").waitFor({ timeout: 10_000 });
    await page.waitForTimeout(300);
    files.push(path.join(outDir, `${theme}-board-detail.png`));
    await views.kanban.screenshot({ path: files.at(-1) });

    // Resume the project and start the pair: the first ready ticket goes red, green, to review.
    await board.locator(".detail .icon-button").click();
    await board.locator("vscode-button", { hasText: "Resume" }).click();
    await board.locator("vscode-button", { hasText: "Start Pair" }).click({ timeout: 20_000 });
    await board.locator('.lane[data-column="review"] .card').first().waitFor({ timeout: 120_000 });
    await page.waitForTimeout(1000);
    files.push(path.join(outDir, `${theme}-board-review.png`));
    await views.kanban.screenshot({ path: files.at(-1) });
    // The ticket under review in the Source Control view, and its diff.
    await page.locator('.activitybar [aria-label^="Source Control"]').first().click();
    // Back to a usual side bar width, so that the diff has room.
    const wide = await page.locator(".part.sidebar").boundingBox();
    await page.mouse.move(wide.x + wide.width, wide.y + wide.height / 2, { steps: 2 });
    await page.mouse.down();
    await page.mouse.move(wide.x + 420, wide.y + wide.height / 2, { steps: 10 });
    await page.mouse.up();
    const row = page.locator(".scm-view .monaco-list-row", { hasText: "bookDetail.js" }).first();
    await row.waitFor({ timeout: 20_000 });
    await row.click();
    await page.locator(".monaco-diff-editor").first().waitFor({ timeout: 20_000 });
    await page.mouse.move(5, 5);
    await page.waitForTimeout(800);
    files.push(path.join(outDir, `${theme}-review-window.png`));
    await page.screenshot({ path: files.at(-1) });
    for (const file of files) log(`saved ${path.relative(repoRoot, file)}`);
  } finally {
    await browser.close();
    await server.stop();
    await pm.close();
    data.remove();
    rmSync(folder, { recursive: true, force: true });
  }
  if (problems.length > 0) throw new Error(`the ${theme} views reported problems:\n${problems.join("\n")}`);
}

/** The webview frame whose page has `selector` (webviews are nested frames of the workbench). */
async function frameWith(page, selector, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if ((await frame.locator(selector).count().catch(() => 0)) > 0) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`no webview shows ${selector}`);
}

try {
  mkdirSync(outDir, { recursive: true });
  for (const [theme, colorTheme] of Object.entries(THEMES)) await capture(theme, colorTheme);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
