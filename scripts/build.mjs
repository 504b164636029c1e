// Builds the extension with esbuild:
//   dist/extension.js         the host, a CommonJS bundle for Node (vscode and native modules external)
//   dist/modelHost.js         the model host process (node-llama-cpp external)
//   dist/mongoStore.js        the MongoDB adapter and driver, loaded only when configured
//   dist/cli.js               the `redgreen` command line (Node, no vscode: the build fails if it imports it)
//   dist/engine.js            the engine process a data folder's clients share (Node, no vscode either)
//   dist/webviews/<view>.js   one browser ESM bundle per webview (+ its CSS)
//   dist/codicons/            the icon font the webviews' components use
//   out/                      with --tests: src and test transpiled file by file, for mocha
// Flags: --production (minified, no source maps), --watch, --tests.
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import { repoRoot } from "./lib.mjs";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");
const tests = process.argv.includes("--tests");
const at = (...segments) => path.join(repoRoot, ...segments);
const WEBVIEWS = ["kanban", "chat"];

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : "linked",
  logLevel: "warning",
  absWorkingDir: repoRoot,
};

const configs = [
  {
    ...common,
    // The model host runs in its own process; node-llama-cpp (native, ESM-only) stays external.
    entryPoints: {
      extension: at("src/extension.ts"),
      modelHost: at("src/adapters/llm/host/main.ts"),
      // Loaded by the extension only when a MongoDB URI is configured.
      mongoStore: at("src/adapters/store/mongo/mongoStore.ts"),
    },
    outdir: at("dist"),
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["vscode", "node-llama-cpp"],
  },
  {
    ...common,
    // The CLI's composition root. Nothing is external but node-llama-cpp (which it never loads
    // itself: the model host does): an import of vscode anywhere in its graph fails the build.
    entryPoints: { cli: at("src/cli/main.ts"), engine: at("src/engine/main.ts") },
    outdir: at("dist"),
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["node-llama-cpp"],
    banner: { js: "#!/usr/bin/env node" },
  },
  {
    ...common,
    entryPoints: Object.fromEntries(WEBVIEWS.map((view) => [view, at("webviews", view, "main.ts")])),
    outdir: at("dist/webviews"),
    platform: "browser",
    format: "esm",
    target: "chrome120",
  },
];

if (tests) {
  configs.push({
    entryPoints: [...listTs(at("src")), ...listTs(at("test"))],
    outdir: at("out"),
    outbase: repoRoot,
    bundle: false,
    platform: "node",
    format: "cjs",
    target: "node20",
    sourcemap: "inline",
    logLevel: "warning",
  });
}

function listTs(dir) {
  return readdirSync(dir, { recursive: true })
    .map((file) => path.join(dir, file))
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts") && statSync(file).isFile());
}

function copyCodicons() {
  const target = at("dist/codicons");
  mkdirSync(target, { recursive: true });
  for (const file of ["codicon.css", "codicon.ttf"]) {
    cpSync(at("node_modules/@vscode/codicons/dist", file), path.join(target, file));
  }
}

rmSync(at("dist"), { recursive: true, force: true });
if (tests) rmSync(at("out"), { recursive: true, force: true });
copyCodicons();
if (watch) {
  for (const config of configs) await (await esbuild.context(config)).watch();
  console.log("[redgreen] watching for changes");
} else {
  await Promise.all(configs.map((config) => esbuild.build(config)));
  chmodSync(at("dist/cli.js"), 0o755);
}
