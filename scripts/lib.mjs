// Shared helpers for the build, test and launch scripts (plain Node, no dependencies).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Git-ignored folder for everything the tests install on first use (code-server, browser profiles). */
export const cacheDir = process.env.REDGREEN_CACHE_DIR
  ? path.resolve(process.env.REDGREEN_CACHE_DIR)
  : path.join(repoRoot, ".cache");

export function log(message) {
  process.stderr.write(`[redgreen] ${message}\n`);
}

export function fail(message) {
  log(`error: ${message}`);
  process.exit(1);
}

/** Runs a command, inheriting stdio; throws with the command line when it fails. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited with ${result.status ?? result.signal}`);
  }
}

export function which(command) {
  const result = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function chromiumPath() {
  const candidates = [process.env.REDGREEN_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"];
  return candidates.find((c) => c && existsSync(c));
}

/**
 * A throw-away Redgreen data folder for an editor started by a script (its engine and store, never
 * the user's): pass `env` to the editor, and `remove()` when done, which stops its engine first
 * (it would otherwise wait its idle minutes).
 */
export function scratchDataFolder(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    env: { REDGREEN_DATA: dir },
    remove() {
      // No engine running (exit 1) is fine.
      spawnSync(process.execPath, [path.join(repoRoot, "dist", "cli.js"), "--data", dir, "engine", "stop"], { stdio: "ignore", timeout: 30_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
