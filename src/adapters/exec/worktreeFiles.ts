import { promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeFiles } from "../../core/tdd/edits";

// The files of one ticket worktree, for the TDD engine. The core has checked each path already;
// here the real location is checked again after symbolic links are followed, so a link in the
// repository cannot carry an agent's write outside the worktree.

const SKIP = new Set([".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "out", "target", "coverage"]);
const MAX_LISTED = 2000;

export function worktreeFiles(root: string): WorktreeFiles {
  const inside = async (relativePath: string): Promise<string> => {
    const full = path.resolve(root, relativePath);
    const realRoot = await fs.realpath(root);
    // The deepest existing ancestor decides: the file itself may not exist yet.
    let existing = full;
    while (!(await fs.stat(existing).then(() => true, () => false))) existing = path.dirname(existing);
    const real = await fs.realpath(existing);
    if (real !== realRoot && !real.startsWith(realRoot + path.sep)) throw new Error(`${relativePath} resolves outside the worktree (${real})`);
    return full;
  };
  return {
    async read(relativePath) {
      const file = await inside(relativePath);
      return fs.readFile(file, "utf8").catch(() => undefined);
    },
    async write(relativePath, content) {
      const file = await inside(relativePath);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, content);
    },
    async remove(relativePath) {
      await fs.rm(await inside(relativePath), { force: true });
    },
    async list() {
      const files: string[] = [];
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
          if (files.length >= MAX_LISTED || SKIP.has(entry.name)) continue;
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) await walk(full);
          else if (entry.isFile()) files.push(path.relative(root, full).split(path.sep).join("/"));
        }
      };
      await walk(root);
      return files.sort();
    },
  };
}
