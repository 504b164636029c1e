// Runs the built CLI (dist/cli.js) as a real child process, the way a user or a script does: its
// own data folder, real git repositories in the temp folder, stdout and stderr apart.
import { execFileSync, spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import type * as z from "zod";

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
export const BUILT_CLI = path.join(REPO_ROOT, "dist", "cli.js");

/**
 * The built CLI and the engine it starts, copied into `dir` first: the bundles are self-contained,
 * and a build running meanwhile (which empties dist/) cannot pull them away from under a test.
 */
export async function snapshotCli(dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const copy = path.join(dir, "cli.js");
  await fs.copyFile(BUILT_CLI, copy);
  await fs.copyFile(path.join(path.dirname(BUILT_CLI), "engine.js"), path.join(dir, "engine.js"));
  return copy;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment without what would change the CLI's choices (data folder, colour). */
function baseEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_DATA_HOME: path.join(home, "xdg") };
  for (const name of ["REDGREEN_DATA", "NO_COLOR", "FORCE_COLOR", "REDGREEN_DEBUG"]) delete env[name];
  return env;
}

export function cliIn(cli: string, home: string) {
  return (args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Run => {
    const result = spawnSync(process.execPath, [cli, ...args], { cwd: options.cwd ?? home, env: { ...baseEnv(home), ...options.env }, encoding: "utf8", timeout: options.timeout ?? 30_000, input: "" });
    if (result.error) throw result.error;
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
}

/** The CLI on a pseudo-terminal (util-linux `script`), where colour is allowed. */
export function cliOnTty(cli: string, home: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const line = [process.execPath, cli, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  return execFileSync("script", ["-qec", line, "/dev/null"], { cwd: home, env: { ...baseEnv(home), TERM: "xterm", ...env }, encoding: "utf8", timeout: 30_000 });
}

/** The run's stdout as JSON, checked against its documented schema. */
export function parsed<S extends z.ZodType>(schema: S, run: Run): z.output<S> {
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`);
  return schema.parse(JSON.parse(run.stdout));
}

/** An error is one line on stderr, nothing on stdout, and exit code 1. */
export function oneLineError(run: Run): string {
  if (run.code !== 1) throw new Error(`expected exit 1, got ${run.code}: ${run.stdout}${run.stderr}`);
  const lines = run.stderr.split("\n").filter(Boolean);
  if (lines.length !== 1 || run.stdout !== "") throw new Error(`expected one line on stderr and nothing on stdout, got:\n${run.stdout}\n---\n${run.stderr}`);
  return lines[0]!;
}

export function gitIn(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@t", ...args], { cwd: dir, encoding: "utf8" }).trim();
}

/** Commits `files` on `branch` through a throwaway worktree (the user's tree untouched). */
export async function commitOn(dir: string, branch: string, files: Record<string, string>, message: string): Promise<string> {
  const worktree = `${dir}-wt`;
  gitIn(dir, "worktree", "add", "-q", worktree, branch);
  try {
    for (const [file, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(worktree, file)), { recursive: true });
      await fs.writeFile(path.join(worktree, file), content);
    }
    gitIn(worktree, "add", "-A");
    gitIn(worktree, "commit", "-q", "-m", message);
    return gitIn(dir, "rev-parse", branch);
  } finally {
    gitIn(dir, "worktree", "remove", "--force", worktree);
  }
}
