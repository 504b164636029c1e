import { constants as fsConstants, promises as fs } from "node:fs";
import path from "node:path";
import type { WorktreeFiles } from "../../core/tdd/edits";

// The files of one ticket worktree, for the TDD engine. The core has checked each path already;
// here every component of it is checked again without following symbolic links (a link, even a
// dangling one, could carry an agent's write outside the worktree), and the file itself is opened
// with O_NOFOLLOW, so a link swapped in at the last moment is not followed either.

const SKIP = new Set([".git", "node_modules", ".venv", "venv", "__pycache__", "dist", "out", "target", "coverage"]);
const MAX_LISTED = 2000;
// Windows has no O_NOFOLLOW; there the component check alone stands.
const NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;

export function worktreeFiles(root: string): WorktreeFiles {
  /** The full path, once no component from the worktree down to the file is a link. */
  const inside = async (relativePath: string): Promise<string> => {
    const full = path.resolve(root, relativePath);
    const parts = path.relative(root, full).split(path.sep);
    if (parts[0] === ".." || path.isAbsolute(parts[0]!)) throw new Error(`${relativePath} is outside the worktree`);
    let current = root;
    for (const part of parts) {
      current = path.join(current, part);
      const stat = await fs.lstat(current).catch(() => undefined);
      if (!stat) break; // the rest does not exist yet: nothing there to follow
      if (stat.isSymbolicLink()) throw new Error(`${relativePath} goes through a symbolic link (${path.relative(root, current)}); agents do not write or read through links`);
    }
    return full;
  };
  return {
    async read(relativePath) {
      // A link is not followed for a read either: to the agents it is a file they cannot see.
      const file = await inside(relativePath).catch(() => undefined);
      if (!file) return undefined;
      const handle = await fs.open(file, fsConstants.O_RDONLY | NOFOLLOW).catch(() => undefined);
      if (!handle) return undefined;
      try {
        return await handle.readFile("utf8");
      } finally {
        await handle.close();
      }
    },
    async write(relativePath, content) {
      const file = await inside(relativePath);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const handle = await fs.open(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | NOFOLLOW, 0o644);
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
    },
    async remove(relativePath) {
      // unlink removes a link itself, never its target; inside() has refused links anyway.
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
