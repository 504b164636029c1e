// Opens the real editor (code-server) with Redgreen on the sample workspace, shows the Redgreen
// container and saves PNGs of the whole window and of each view, in the dark and light themes,
// into screenshots/ (git-ignored). Also fails if a view logs a CSP violation or an error.
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { launchBrowser, startCodeServer, workbenchUrl } from "./code-server.mjs";
import { createProjectThroughUi, sampleWorkspace, setColorTheme, showRedgreen } from "./workbench.mjs";
import { fail, log, repoRoot } from "./lib.mjs";

const THEMES = { dark: "Default Dark Modern", light: "Default Light Modern" };
const outDir = path.join(repoRoot, "screenshots");

async function capture(theme, colorTheme) {
  const folder = sampleWorkspace();
  const server = await startCodeServer({ folder });
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
    await createProjectThroughUi(page, { folder: project, name: "Bookshop" });
    const editor = page.locator(".editor-group-container.active");
    await page.locator(".codelens-decoration", { hasText: "Approve spec" }).waitFor({ timeout: 20_000 });
    await page.waitForTimeout(500);
    files.push(path.join(outDir, `${theme}-spec.png`));
    await editor.screenshot({ path: files.at(-1) });
    for (const file of files) log(`saved ${path.relative(repoRoot, file)}`);
  } finally {
    await browser.close();
    await server.stop();
    rmSync(folder, { recursive: true, force: true });
  }
  if (problems.length > 0) throw new Error(`the ${theme} views reported problems:\n${problems.join("\n")}`);
}

try {
  mkdirSync(outDir, { recursive: true });
  for (const [theme, colorTheme] of Object.entries(THEMES)) await capture(theme, colorTheme);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
