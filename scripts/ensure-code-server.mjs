// Installs code-server 4.100.3 (a real VS Code, see ../shared/INFRA.md) into the git-ignored cache
// on first use, offline: Debian packages first, then npm with ripgrep pre-seeded from Debian's rg,
// because code-server's postinstall would otherwise download ripgrep from GitHub.
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { cacheDir, chromiumPath, log, run, which } from "./lib.mjs";

export const CODE_SERVER_VERSION = "4.100.3";
const RIPGREP_CACHE = "vscode-ripgrep-cache-1.15.11";
const RIPGREP_TARBALL = "ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz";
// bubblewrap: the sandbox of test runs, which the unit tests exercise too.
const DEBIAN_PACKAGES = ["chromium", "ripgrep", "libkrb5-dev", "bubblewrap"];

const installDir = path.join(cacheDir, `code-server-${CODE_SERVER_VERSION}`);
const marker = path.join(installDir, ".installed");
export const codeServerEntry = path.join(installDir, "node_modules", "code-server", "out", "node", "entry.js");

function missingDebianPackages() {
  const missing = [];
  if (!chromiumPath()) missing.push("chromium");
  if (!which("rg")) missing.push("ripgrep");
  if (process.platform === "linux" && !which("bwrap")) missing.push("bubblewrap");
  if (!existsSync("/usr/include/gssapi/gssapi.h") && !which("krb5-config")) missing.push("libkrb5-dev");
  return missing;
}

export function ensureDebianPackages() {
  const missing = missingDebianPackages();
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!which("apt-get") || !isRoot) {
    throw new Error(
      `The tests need the Debian packages ${missing.join(", ")}. ` +
        `Install them with: sudo apt-get install -y ${DEBIAN_PACKAGES.join(" ")}`,
    );
  }
  log(`installing Debian packages: ${DEBIAN_PACKAGES.join(" ")}`);
  run("apt-get", ["update", "-qq"]);
  run("apt-get", ["install", "-y", "-qq", ...DEBIAN_PACKAGES], {
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

function seedRipgrepCache() {
  const dir = path.join(os.tmpdir(), RIPGREP_CACHE);
  const tarball = path.join(dir, RIPGREP_TARBALL);
  if (existsSync(tarball)) return;
  const staging = path.join(dir, "staging");
  mkdirSync(staging, { recursive: true });
  copyFileSync(which("rg"), path.join(staging, "rg"));
  run("tar", ["-czf", tarball, "-C", staging, "rg"]);
  rmSync(staging, { recursive: true, force: true });
}

/** Returns the path of code-server's entry script, installing it first when needed. */
export function ensureCodeServer() {
  ensureDebianPackages();
  if (existsSync(marker) && existsSync(codeServerEntry)) return codeServerEntry;
  log(`installing code-server ${CODE_SERVER_VERSION} into ${installDir} (once, about a minute)`);
  rmSync(installDir, { recursive: true, force: true });
  mkdirSync(installDir, { recursive: true });
  writeFileSync(path.join(installDir, "package.json"), JSON.stringify({ private: true }) + "\n");
  seedRipgrepCache();
  // Its native modules compile here (node-gyp output goes to a log, shown if the install fails).
  const logFile = path.join(cacheDir, "code-server-install.log");
  const output = openSync(logFile, "w");
  try {
    run(
      "npm",
      ["install", "--prefix", installDir, "--unsafe-perm", "--foreground-scripts", "--no-audit", "--no-fund",
        `code-server@${CODE_SERVER_VERSION}`],
      // npm_config_yes: node-pty's setup runs `npx node-gyp`, which would otherwise wait for a prompt.
      { env: { ...process.env, npm_config_yes: "true" }, stdio: ["ignore", output, output] },
    );
  } catch (error) {
    const tail = readFileSync(logFile, "utf8").split("\n").slice(-40).join("\n");
    throw new Error(`${error.message}\n${tail}\n(full log: ${logFile})`);
  } finally {
    closeSync(output);
  }
  if (!existsSync(codeServerEntry)) throw new Error(`code-server installed but ${codeServerEntry} is missing`);
  writeFileSync(marker, new Date().toISOString() + "\n");
  return codeServerEntry;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    console.log(ensureCodeServer());
  } catch (error) {
    log(`error: ${error.message}`);
    process.exit(1);
  }
}
