// The import structure's rules that eslint's own rules do not cover, run by `npm run lint`:
// - no import cycles among the modules of src/ and webviews/ (type-only imports included: a cycle
//   of types is still two modules that cannot be understood apart);
// - no re-exporting shim: a module whose only content is `export … from` another one.
// Prints each cycle (as a path of files) and each shim, and exits 1 when there is one.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./lib.mjs";

const ROOTS = ["src", "webviews"];
const SPECIFIER = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/gm;

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return /\.ts$/.test(name) && !name.endsWith(".d.ts") ? [file] : [];
  });
}

/** The module a relative specifier names, or undefined for a package or a non-TypeScript file. */
function resolve(from, specifier) {
  if (!specifier.startsWith(".")) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  const isFile = (candidate) => {
    try {
      return statSync(candidate).isFile();
    } catch {
      return false;
    }
  };
  return [`${base}.ts`, path.join(base, "index.ts"), base].find((candidate) => candidate.endsWith(".ts") && isFile(candidate));
}

function importsOf(file) {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(SPECIFIER)].map((match) => resolve(file, match[1])).filter(Boolean);
}

/** A file that only passes another's exports on. */
function isShim(file) {
  const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "").trim();
  if (!code) return false;
  const statements = code.split(/;\s*\n|;\s*$/).map((s) => s.trim()).filter(Boolean);
  return statements.every((statement) => /^export\s+(?:type\s+)?(?:\*|\{[^}]*\})\s+from\s+["'][^"']+["']$/.test(statement));
}

/** Every cycle once, by depth-first search with colours; each as the list of files around it. */
function cycles(graph) {
  const state = new Map();
  const stack = [];
  const found = [];
  const visit = (file) => {
    state.set(file, "open");
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

const files = ROOTS.flatMap((dir) => sources(path.join(repoRoot, dir)));
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const relative = (file) => path.relative(repoRoot, file);
const problems = [
  ...cycles(graph).map((cycle) => `import cycle: ${cycle.map(relative).join(" → ")}`),
  ...files.filter(isShim).map((file) => `re-exporting shim: ${relative(file)} only passes on another module's exports; import that module instead`),
];
for (const problem of problems) console.error(problem);
if (problems.length > 0) process.exit(1);
console.log(`[check-imports] ${files.length} modules: no import cycle, no re-exporting shim`);
