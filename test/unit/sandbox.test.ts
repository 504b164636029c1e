import * as assert from "node:assert/strict";
import { existsSync, promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { ProcessTestRunner, type SandboxOptions } from "../../src/adapters/exec/processTestRunner";
import { probeSandbox, toolFolders } from "../../src/adapters/exec/sandbox";
import { SandboxUnavailableError } from "../../src/core/tdd/testRun";
import { eventually, NO_SANDBOX, processesWith } from "../fixtures/processes";

// Agents' code in the sandbox (bubblewrap, installed by the test setup with the other Debian
// packages): each escape is tried once inside it and once with no sandbox, so each test shows that
// the sandbox, not the test, is what stops it.

const root = path.join(os.tmpdir(), `redgreen-sandbox-${process.pid}`);
let n = 0;

async function worktree(): Promise<string> {
  const dir = path.join(root, `wt${++n}`);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

function run(cwd: string, command: string, sandbox?: SandboxOptions) {
  return new ProcessTestRunner({ killGraceMs: 300, sandbox }).run({ cwd, command, timeoutMs: 20_000, outputCapBytes: 100_000 });
}

/** A server on the machine's loopback, outside any sandbox; its port. */
async function listen(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => socket.end("hello from outside\n"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const connect = (port: number) => `node -e "require('net').connect(${port}, '127.0.0.1').on('data', (d) => console.log('GOT', String(d).trim())).on('error', (e) => console.log('NO', e.code))"`;

describe("The sandbox of test runs (bubblewrap)", function () {
  this.timeout(60_000);
  after(() => fs.rm(root, { recursive: true, force: true }));

  it("is there on this Linux machine", function () {
    if (process.platform !== "linux") this.skip(); // stated: macOS and Windows have no sandbox yet
    assert.deepEqual(probeSandbox().kind, "bubblewrap", JSON.stringify(probeSandbox()));
  });

  it("hides the real HOME: a test cannot read a secret there, and its HOME is a throwaway", async () => {
    const secret = path.join(os.homedir(), `.redgreen-secret-${process.pid}`);
    await fs.writeFile(secret, "TOP-SECRET\n");
    try {
      const command = `cat ${secret}; echo home=$HOME; touch "$HOME/left-behind-${process.pid}"`;
      const inside = await run(await worktree(), command);
      assert.doesNotMatch(inside.output, /TOP-SECRET/);
      assert.match(inside.output, /No such file/);
      assert.ok(!existsSync(path.join(os.homedir(), `left-behind-${process.pid}`)), "a write to HOME stays in the sandbox");
      assert.match((await run(await worktree(), `cat ${secret}`, NO_SANDBOX)).output, /TOP-SECRET/, "without the sandbox the secret is read");
    } finally {
      await fs.rm(secret, { force: true });
      await fs.rm(path.join(os.homedir(), `left-behind-${process.pid}`), { force: true });
    }
  });

  it("lets a test write only in its worktree", async () => {
    const dir = await worktree();
    const outside = path.join(root, `outside-${n}`);
    const result = await run(dir, `echo in > inside.txt; echo out > ${outside}; echo done`);
    assert.match(result.output, /done/);
    assert.equal(await fs.readFile(path.join(dir, "inside.txt"), "utf8"), "in\n");
    assert.ok(!existsSync(outside), `${outside} was written from inside the sandbox`);
  });

  it("keeps a worktree's .git as it was: a run cannot point it at another git folder", async () => {
    const dir = await worktree();
    await fs.writeFile(path.join(dir, ".git"), "gitdir: /somewhere/real\n");
    const command = `echo "gitdir: $PWD/evil" > .git; mv .git moved 2>&1; echo done`;
    assert.match((await run(dir, command)).output, /done/);
    assert.equal(await fs.readFile(path.join(dir, ".git"), "utf8"), "gitdir: /somewhere/real\n");
    assert.ok(!existsSync(path.join(dir, "moved")));
    await run(dir, command, NO_SANDBOX);
    assert.ok(existsSync(path.join(dir, "moved")), "without the sandbox the run moves it");
  });

  it("shows a hidden folder read-only when the run needs it (the repository's git folder)", async () => {
    const dir = await worktree();
    const gitFolder = path.join(root, `git-${n}`);
    await fs.mkdir(gitFolder);
    await fs.writeFile(path.join(gitFolder, "HEAD"), "ref: refs/heads/x\n");
    const runner = new ProcessTestRunner({ killGraceMs: 300 });
    const request = { cwd: dir, command: `cat ${gitFolder}/HEAD; echo x > ${gitFolder}/HEAD 2>&1 || echo refused`, timeoutMs: 20_000, outputCapBytes: 10_000 };
    assert.match((await runner.run(request)).output, /No such file/, "/tmp is hidden without it");
    const shown = await runner.run({ ...request, readOnly: [gitFolder] });
    assert.match(shown.output, /ref: refs\/heads\/x[\s\S]*refused/);
    assert.equal(await fs.readFile(path.join(gitFolder, "HEAD"), "utf8"), "ref: refs/heads/x\n");
  });

  it("has no network unless the project allows it", async () => {
    const server = await listen();
    try {
      assert.match((await run(await worktree(), connect(server.port))).output, /NO ECONNREFUSED/, "the machine's loopback is another network");
      assert.match((await run(await worktree(), connect(server.port), NO_SANDBOX)).output, /GOT hello from outside/);
      assert.match((await run(await worktree(), connect(server.port), { network: () => true })).output, /GOT hello from outside/, "redgreen.sandbox.network");
    } finally {
      await server.close();
    }
  });

  it("ends every process a run started, even one started with setsid", async () => {
    const escape = (token: string) => `setsid node -e "setInterval(() => {}, 1000)" ${token} > /dev/null 2>&1 & sleep 0.3; echo started`;
    const inside = `redgreen-setsid-in-${process.pid}`;
    assert.match((await run(await worktree(), escape(inside))).output, /started/);
    assert.ok(await eventually(() => processesWith(inside).length === 0), `left running: ${processesWith(inside).join(", ")}`);
    const outside = `redgreen-setsid-out-${process.pid}`;
    await run(await worktree(), escape(outside), NO_SANDBOX);
    const survivors = processesWith(outside);
    survivors.forEach((pid) => process.kill(pid, "SIGKILL"));
    assert.ok(survivors.length > 0, "without the sandbox, a setsid process outlives the run");
  });

  it("refuses to run without a sandbox unless the user allows it", async () => {
    const missing: SandboxOptions = { probe: () => ({ kind: "none", reason: "bubblewrap is not installed" }) };
    await assert.rejects(run(await worktree(), "echo ran", missing), (error: Error) => error instanceof SandboxUnavailableError && /bubblewrap is not installed[\s\S]*redgreen\.sandbox\.require/.test(error.message));
    assert.match((await run(await worktree(), "echo ran", { ...missing, require: () => false })).output, /ran/);
  });

  it("puts back the tool folders PATH needs under HOME, and no more", async () => {
    const home = path.join(root, "home");
    for (const dir of [".nvm/versions/node/v20/bin", ".local/bin", ".local/lib", ".local/share/keyrings", ".cargo/bin", "bin"]) await fs.mkdir(path.join(home, dir), { recursive: true });
    const PATH = [".nvm/versions/node/v20/bin", ".local/bin", ".cargo/bin", "bin", "missing/bin"].map((dir) => path.join(home, dir)).concat("/usr/bin").join(":");
    assert.deepEqual(toolFolders(PATH, home), [".nvm", ".local/bin", ".local/lib", ".cargo/bin", "bin"].map((dir) => path.join(home, dir)));
  });
});
