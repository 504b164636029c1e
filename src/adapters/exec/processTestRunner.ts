import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseTestOutput } from "../../core/tdd/testOutput";
import { cutMarker, SandboxUnavailableError, UntrustedWorkspaceError, type TestRun, type TestRunner, type TestRunRequest } from "../../core/tdd/testRun";
import { bubblewrapArgs, probeSandbox, type SandboxProbe } from "./sandbox";

// Runs a project's test command as a real process in the ticket's worktree: through the platform
// shell (the command is what the user typed), inside the sandbox where the machine has one
// (sandbox.ts), with a clean environment (the editor's variables and secrets stay out), stdin
// closed, a time limit and an output cap. On POSIX the shell (or bubblewrap) leads its own process
// group, so a timeout or a cancel stops everything the tests started, not just the shell.

export type ProcessTestRunnerOptions = {
  /**
   * Asked before every run, for the folder it runs in; nothing runs when it says no. The extension
   * passes the workspace's and the project folder's trust; the default trusts, for tests and tools
   * outside the editor.
   */
  isTrusted?: (cwd: string) => boolean;
  /** How long a stopped tree gets between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  sandbox?: SandboxOptions;
};

export type SandboxOptions = {
  /** Refuse to run where there is no sandbox (the default); false runs with the limits above only. */
  require?: () => boolean;
  /** Let the run reach the network (default: none, loopback inside the sandbox only). */
  network?: () => boolean;
  /** What this machine offers; tests pass a machine without one. */
  probe?: () => SandboxProbe;
};

// Variables a test command needs to find its tools, and nothing else: no VSCODE_*, ELECTRON_*,
// NODE_OPTIONS, tokens or proxies from the editor's own environment.
const POSIX_ENV = ["PATH", "HOME", "USER", "LANG", "TMPDIR", "TEMP", "TMP", "SHELL"];
// On Windows, Node, npm and Python also need the profile folders and the system drive to start.
const WINDOWS_ENV = ["PATH", "PATHEXT", "SystemRoot", "SystemDrive", "windir", "ComSpec", "TEMP", "TMP", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "USERNAME"];
// Plain, non-interactive output: no colours to strip, no watch mode, no prompts.
const FIXED_ENV = { TERM: "dumb", CI: "1", NO_COLOR: "1", FORCE_COLOR: "0" };

/** The environment a test command gets: an allow-list of the given one, plus fixed settings. */
export function cleanEnv(source: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Record<string, string> {
  const windows = platform === "win32";
  // Windows variable names are case-insensitive ("Path", "PATH"); POSIX ones are not.
  const key = (name: string) => (windows ? name.toUpperCase() : name);
  const allowed = new Set((windows ? WINDOWS_ENV : POSIX_ENV).map(key));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && (allowed.has(key(name)) || (!windows && name.startsWith("LC_")))) env[name] = value;
  }
  return { ...env, ...FIXED_ENV };
}

export class ProcessTestRunner implements TestRunner {
  private readonly isTrusted: (cwd: string) => boolean;
  private readonly killGraceMs: number;
  private readonly sandbox: Required<SandboxOptions>;

  constructor(options: ProcessTestRunnerOptions = {}) {
    this.isTrusted = options.isTrusted ?? (() => true);
    this.killGraceMs = options.killGraceMs ?? 2000;
    this.sandbox = { require: () => true, network: () => false, probe: () => probeSandbox(), ...options.sandbox };
  }

  /** How the next run would be isolated: the sandbox, or none (and why). */
  sandboxProbe(): SandboxProbe {
    return this.sandbox.probe();
  }

  /** The process for `command`: inside bubblewrap where there is one, else the plain shell when that is allowed. */
  private spawn({ command, cwd, readOnly }: TestRunRequest): ChildProcess {
    const probe = this.sandbox.probe();
    if (probe.kind === "bubblewrap") {
      const { args, env } = bubblewrapArgs(command, { cwd, network: this.sandbox.network(), env: cleanEnv(), readOnly });
      return spawn(probe.bwrap, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    }
    if (this.sandbox.require()) {
      throw new SandboxUnavailableError(`Refused to run "${command}" without a sandbox: ${probe.reason}. To run tests with time and output limits and a clean environment only, set "redgreen.sandbox.require" to false.`);
    }
    return spawnShell(command, cwd);
  }

  async run(request: TestRunRequest): Promise<TestRun> {
    if (!this.isTrusted(request.cwd)) throw new UntrustedWorkspaceError(`Refused to run "${request.command}": ${request.cwd} is not in a trusted workspace or project folder.`);
    if (!(await fs.stat(request.cwd).catch(() => undefined))?.isDirectory()) throw new Error(`Cannot run the tests: ${request.cwd} is not a folder.`);
    const started = performance.now();
    const output = new CappedOutput(request.outputCapBytes);
    if (request.signal?.aborted) return finish({ exitCode: null, signal: null, timedOut: false, cancelled: true, started, output });

    const child = this.spawn(request);
    child.stdout!.on("data", output.push);
    child.stderr!.on("data", output.push);
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    let timedOut = false;
    let cancelled = false;
    let stopping: Promise<void> | undefined;
    const stop = () => (stopping ??= stopTree(child, this.killGraceMs));
    const timer = setTimeout(() => {
      timedOut = true;
      void stop();
    }, request.timeoutMs);
    const onAbort = () => {
      cancelled = true;
      void stop();
    };
    request.signal?.addEventListener("abort", onAbort, { once: true });

    const [exitCode, signal] = await new Promise<[number | null, string | null]>((resolve) => {
      child.once("exit", (code, sig) => resolve([code, sig]));
      child.once("error", (error) => {
        output.push(Buffer.from(`[redgreen] could not start the test command: ${error.message}\n`));
        resolve([null, null]);
      });
    });
    clearTimeout(timer);
    request.signal?.removeEventListener("abort", onAbort);
    // A test run leaves nothing behind: whatever the shell started and left running is stopped too
    // (and until it is, it may hold the output pipes open).
    await stop();
    await Promise.race([closed, delay(1000)]);
    child.stdout!.destroy();
    child.stderr!.destroy();
    return finish({ exitCode, signal, timedOut, cancelled, started, output });
  }
}

/** The runner the extension and the TDD engine use. */
export const processTestRunner = (options?: ProcessTestRunnerOptions): ProcessTestRunner => new ProcessTestRunner(options);

function finish(run: { exitCode: number | null; signal: string | null; timedOut: boolean; cancelled: boolean; started: number; output: CappedOutput }): TestRun {
  const { text, truncated } = run.output.text();
  return {
    exitCode: run.exitCode,
    signal: run.signal,
    timedOut: run.timedOut,
    cancelled: run.cancelled,
    durationMs: Math.round(performance.now() - run.started),
    output: text,
    truncated,
    summary: parseTestOutput(text, run.exitCode, run.timedOut),
  };
}

function spawnShell(command: string, cwd: string): ChildProcess {
  const env = cleanEnv();
  if (process.platform === "win32") {
    // What `shell: true` does on Windows, spelled out so the environment stays ours.
    return spawn(process.env.ComSpec ?? "cmd.exe", ["/d", "/s", "/c", `"${command}"`], { cwd, env, stdio: ["ignore", "pipe", "pipe"], windowsHide: true, windowsVerbatimArguments: true });
  }
  // detached: the shell leads a new process group, which stopTree signals as a whole.
  return spawn("/bin/sh", ["-c", command], { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
}

/** SIGTERM to the whole tree, then SIGKILL to whatever is still there after the grace period. */
async function stopTree(child: ChildProcess, graceMs: number): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  if (process.platform === "win32") {
    if (child.exitCode !== null || child.signalCode !== null) return; // its children can no longer be found
    await new Promise<void>((resolve) => spawn("taskkill", ["/pid", String(pid), "/T", "/F"], { stdio: "ignore", windowsHide: true }).once("close", () => resolve()).once("error", () => resolve()));
    return;
  }
  if (!signalGroup(pid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await delay(50);
    if (!signalGroup(pid, 0)) return;
  }
  signalGroup(pid, "SIGKILL");
}

/** Signals a process group; false once the group has no process left. */
function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counts every byte, keeps the first half of the cap and the last half, drops the middle. */
class CappedOutput {
  private readonly head: Buffer[] = [];
  private readonly tail: Buffer[] = [];
  private headBytes = 0;
  private tailBytes = 0;
  private total = 0;
  private readonly headCap: number;
  private readonly tailCap: number;

  constructor(cap: number) {
    this.headCap = Math.floor(Math.max(0, cap) / 2);
    this.tailCap = Math.max(0, cap) - this.headCap;
  }

  readonly push = (chunk: Buffer): void => {
    this.total += chunk.length;
    if (this.headBytes < this.headCap) {
      const taken = chunk.subarray(0, this.headCap - this.headBytes);
      this.head.push(taken);
      this.headBytes += taken.length;
      chunk = chunk.subarray(taken.length);
    }
    if (chunk.length === 0) return;
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    // Keep whole chunks while they are needed to fill the tail; trim the first one at the end.
    while (this.tail.length > 1 && this.tailBytes - this.tail[0]!.length >= this.tailCap) this.tailBytes -= this.tail.shift()!.length;
  };

  text(): { text: string; truncated: boolean } {
    const head = Buffer.concat(this.head);
    let tail = Buffer.concat(this.tail);
    if (this.total <= this.headCap + this.tailCap) return { text: Buffer.concat([head, tail]).toString("utf8"), truncated: false };
    tail = tail.subarray(tail.length - this.tailCap);
    // Start the tail on a whole UTF-8 character, not in the middle of one.
    let start = 0;
    while (start < tail.length && start < 3 && (tail[start]! & 0xc0) === 0x80) start++;
    tail = tail.subarray(start);
    const cut = this.total - head.length - tail.length;
    return { text: `${head.toString("utf8")}${cutMarker(cut)}${tail.toString("utf8")}`, truncated: true };
  }
}
