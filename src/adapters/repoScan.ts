import { promises as fs } from "node:fs";
import path from "node:path";

// What the Architect reads before planning a repository that already has code: languages by
// file count, manifests and their test scripts, top-level folders. Undefined when there is
// nothing but the spec (a new project).

const SKIP = new Set([".git", ".redgreen", "node_modules", "dist", "out", "build", "target", ".venv", "venv", "__pycache__", ".cache", "coverage"]);
const MANIFESTS = ["package.json", "pyproject.toml", "requirements.txt", "Cargo.toml", "go.mod", "pom.xml", "build.gradle", "Gemfile", "composer.json", "CMakeLists.txt", "Makefile"];
const MAX_FILES = 5000;

export async function scanRepository(root: string, specPath: string): Promise<string | undefined> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (files.length >= MAX_FILES) return;
      if (SKIP.has(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) files.push(path.relative(root, full));
    }
  };
  await walk(root);
  const code = files.filter((file) => file !== specPath && !/^(readme|license|changelog)(\.|$)/i.test(path.basename(file)) && file !== ".gitignore");
  if (code.length === 0) return undefined;

  const byExtension = new Map<string, number>();
  for (const file of code) {
    const ext = path.extname(file).toLowerCase() || path.basename(file);
    byExtension.set(ext, (byExtension.get(ext) ?? 0) + 1);
  }
  const languages = [...byExtension].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([ext, count]) => `${ext} ${count}`).join(", ");
  const folders = [...new Set(code.filter((f) => f.includes(path.sep)).map((f) => f.split(path.sep)[0]!))].slice(0, 15).join(", ");
  const manifests: string[] = [];
  for (const name of MANIFESTS.filter((m) => code.includes(m))) {
    if (name === "package.json") {
      const pkg = parseJson(await fs.readFile(path.join(root, name), "utf8").catch(() => "{}")) as { name?: string; scripts?: Record<string, string>; dependencies?: Record<string, string> };
      const deps = Object.keys(pkg.dependencies ?? {}).slice(0, 12).join(", ");
      manifests.push(`package.json (${pkg.name ?? "unnamed"}; test: ${pkg.scripts?.test ?? "none"}${deps ? `; dependencies: ${deps}` : ""})`);
    } else manifests.push(name);
  }
  return [
    `${code.length}${files.length >= MAX_FILES ? "+" : ""} files. By extension: ${languages}.`,
    folders && `Top-level folders: ${folders}.`,
    manifests.length > 0 && `Manifests: ${manifests.join("; ")}.`,
  ].filter(Boolean).join("\n");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {}; // a broken manifest is still listed, without its details
  }
}
