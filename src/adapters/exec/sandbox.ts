import { execFileSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// Where agents' code runs: on Linux inside bubblewrap (Debian's `bubblewrap`). The worktree is
// writable; the rest of the file system is read-only, with the real HOME, /tmp and /run hidden
// behind empty ones (no ~/.ssh, ~/.npmrc, git credentials, agent or D-Bus sockets); there is no
// network unless the project allows it; and the run has its own PID namespace, so whatever it
// starts (even under setsid) ends with it. Tools installed under HOME stay usable: the folders
// PATH needs there are put back read-only (toolFolders).

export type SandboxProbe = { kind: "bubblewrap"; bwrap: string } | { kind: "none"; reason: string };

export type SandboxPolicy = {
  /** The worktree: the only place the run may write (besides the throwaway HOME and /tmp). */
  cwd: string;
  network: boolean;
  env: Record<string, string>;
  /** Folders shown read-only even where they lie in a hidden place (the repository's git folder, its hooks). */
  readOnly?: readonly string[];
};

const BWRAP_CANDIDATES = ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"];
let probed: SandboxProbe | undefined;

/** Whether this machine has a sandbox that works (checked once, by running one). */
export function probeSandbox(platform: NodeJS.Platform = process.platform): SandboxProbe {
  if (platform !== "linux") return { kind: "none", reason: `no sandbox is available on ${platform} yet` };
  probed ??= probeBubblewrap();
  return probed;
}

function probeBubblewrap(): SandboxProbe {
  const bwrap = BWRAP_CANDIDATES.find((candidate) => existsSync(candidate));
  if (!bwrap) return { kind: "none", reason: "bubblewrap is not installed (sudo apt-get install bubblewrap)" };
  try {
    execFileSync(bwrap, ["--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "/bin/true"], { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
    return { kind: "bubblewrap", bwrap };
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim();
    // Typically user namespaces are off for unprivileged users (a kernel or AppArmor setting).
    return { kind: "none", reason: `bubblewrap cannot start a sandbox here: ${stderr || (error as Error).message}` };
  }
}

/** bubblewrap's arguments for running `/bin/sh -c command` under `policy`, and the environment inside. */
export function bubblewrapArgs(command: string, policy: SandboxPolicy): { args: string[]; env: Record<string, string> } {
  const cwd = realpathSync(policy.cwd);
  const home = os.homedir();
  const hideHome = home !== "/" && home !== "";
  const args = ["--die-with-parent", "--new-session", "--unshare-all", ...(policy.network ? ["--share-net"] : [])];
  args.push("--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp");
  // /run holds sockets that cross network namespaces (Docker, D-Bus, keyrings, ssh agents); with the
  // network allowed, name resolution may live there, so only the users' part is hidden then.
  if (existsSync("/run")) args.push("--tmpfs", policy.network ? "/run/user" : "/run");
  if (hideHome) {
    args.push("--tmpfs", home);
    for (const folder of toolFolders(policy.env.PATH ?? "", home)) args.push("--ro-bind", folder, folder);
  }
  // Read-only folders are mounted after the worktree (a later mount wins), so one inside it (a
  // hooks folder such as .husky/) stays read-only too.
  args.push("--bind", cwd, cwd);
  for (const folder of policy.readOnly ?? []) if (existsSync(folder)) args.push("--ro-bind", folder, folder);
  // The worktree's .git (a file naming its git folder) stays as the engine made it: a run that
  // pointed it elsewhere would steer the git commands Redgreen runs outside the sandbox next.
  const dotGit = path.join(cwd, ".git");
  if (existsSync(dotGit)) args.push("--ro-bind", dotGit, dotGit);
  args.push("--chdir", cwd, "/bin/sh", "-c", command);
  return { args, env: { ...policy.env, HOME: hideHome ? home : "/tmp", TMPDIR: "/tmp" } };
}

// Folders of HOME that hold more than tools (credentials, keyrings): only the PATH entry itself (and
// a bin's sibling lib) is put back from these, never the whole folder.
const MIXED_FOLDERS = new Set([".local", ".cargo", ".config", ".ssh", ".gnupg", ".aws", ".docker", ".kube"]);

/**
 * The folders under HOME that PATH needs: for a tool manager (~/.nvm, ~/.pyenv, ~/.volta, ~/go, …)
 * its whole folder, since its shims call into it; for a mixed folder only the entry and its lib.
 */
export function toolFolders(pathVariable: string, home: string): string[] {
  const folders = new Set<string>();
  for (const entry of pathVariable.split(":")) {
    if (!path.isAbsolute(entry) || !entry.startsWith(home + path.sep) || !existsSync(entry)) continue;
    const top = path.join(home, path.relative(home, entry).split(path.sep)[0]!);
    if (top !== entry && !MIXED_FOLDERS.has(path.basename(top))) {
      folders.add(top);
      continue;
    }
    folders.add(entry);
    const lib = path.join(path.dirname(entry), "lib");
    if (path.basename(entry) === "bin" && path.dirname(entry) !== home && existsSync(lib)) folders.add(lib);
  }
  return [...folders];
}
