// Renders SVG charts (the bench's) to PNG with Debian's headless Chromium, so they can be looked at.
// Usage: node scripts/render-svg.mjs file.svg…
import { promises as fs } from "node:fs";
import { launchBrowser } from "./code-server.mjs";

const files = process.argv.slice(2);
const { context, close } = await launchBrowser();
try {
  const page = await context.newPage();
  for (const file of files) {
    const svg = await fs.readFile(file, "utf8");
    await page.setContent(`<body style="margin:0">${svg}</body>`);
    await page.locator("svg").screenshot({ path: file.replace(/\.svg$/, ".png") });
  }
} finally {
  await close();
}
