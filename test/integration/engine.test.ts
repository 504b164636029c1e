// The window as a client of the data folder's engine: its store is the engine's (the suite's own
// data folder, $REDGREEN_DATA), a real `redgreen` process shares it both ways and live, and an
// engine killed with SIGKILL is started again by the window, losing nothing it acknowledged.
import * as assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as vscode from "vscode";
import { openEmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import type { CopyReport } from "../../src/core/store/copyStore";
import type { Project } from "../../src/core/store/records";
import type { StoreState } from "../../src/features/store/storeService";
import { activateRedgreen, eventually, redgreen } from "./harness";

type Open = Extract<StoreState, { kind: "open" }>;

async function opened(timeoutMs = 20_000): Promise<Open> {
  const { store } = await activateRedgreen();
  return eventually(async () => {
    const state = await store.ready();
    return state.kind === "open" ? state : undefined;
  }, timeoutMs, () => "the store did not open");
}

describe("The window as a client of the data folder's engine", function () {
  this.timeout(60_000);

  it("keeps its store in the data folder's engine, a process of its own outside the repository, and memory survives a reopen", async () => {
    const { store } = await activateRedgreen();
    const { memory, store: backing, engine } = await opened();
    assert.equal(backing.kind, "embedded");
    assert.ok(engine, "the store goes through the engine");
    assert.notEqual(engine.pid, process.pid);
    assert.equal(engine.dataFolder, path.resolve(process.env.REDGREEN_DATA!));
    const workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    assert.ok(!engine.dataFolder.startsWith(workspace), "nothing is written into the repository");
    await memory.transcript.record({ kind: "message", projectId: "it", channel: "human", from: "human", text: "remember me" });
    await store.reopen();
    const after = await opened();
    assert.equal(after.memory.transcript.recent("it").at(-1)?.text, "remember me");
    assert.equal(after.engine?.pid, engine.pid, "a reopen connects to the same engine");
  });

  it("shares the store live with a redgreen process: a project made in a terminal reaches the window within a second, and the terminal sees what the window wrote", async () => {
    const { memory } = await opened();
    const folder = mkdtempSync(path.join(os.tmpdir(), "redgreen-it-cli-"));
    const name = `From a terminal ${process.pid}`;
    let heardAt = 0;
    const arrived = new Promise<Project>((resolve) => {
      const listening = memory.projects.onDidChange((project) => {
        if (project.name !== name) return;
        heardAt = Date.now();
        listening.dispose();
        resolve(project);
      });
    });
    const made = JSON.parse(await redgreen(["init", folder, "--name", name, "--test-command", "true", "--trust", "--json"])) as { project: { id: string } };
    const project = await eventually(() => Promise.race([arrived, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20))]), 5_000, () => "the window never heard of the project");
    const heardAfter = heardAt - project.createdAt.getTime();
    assert.ok(heardAfter < 1_000, `the window heard within a second of the write (${heardAfter} ms)`);
    assert.equal(project._id, made.project.id);
    await memory.projects.transition(project._id, "approved", "human", "changed in the window");
    const listed = JSON.parse(await redgreen(["projects", "--json"])) as { projects: { id: string; state: string }[] };
    assert.equal(listed.projects.find((p) => p.id === project._id)?.state, "approved");
  });

  it("runs the window's models in the engine's one model host, which a redgreen process sees loaded", async () => {
    const { models } = await activateRedgreen();
    const { engine } = await opened();
    const modelPath = process.env.REDGREEN_TEST_CHAT_MODEL!;
    await models.backend.load({ id: "shared-probe", path: modelPath, contextSize: 512, threads: 1, gpuLayers: 0, poolSize: 1, embedding: false });
    try {
      const status = JSON.parse(await redgreen(["engine", "status", "--json"])) as { engine: { pid: number; modelHost: { pid: number; models: { id: string; path: string }[] } | null } };
      assert.equal(status.engine.pid, engine!.pid);
      const host = status.engine.modelHost;
      assert.ok(host, "the engine started its model host");
      assert.deepEqual(host.models.filter((m) => m.id === "shared-probe").map((m) => m.path), [modelPath]);
      const parent = Number(readFileSync(`/proc/${host.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
      assert.equal(parent, engine!.pid, "the model host is the engine's child, not the window's");
    } finally {
      await models.backend.unload("shared-probe");
    }
  });

  it("starts the engine again after it is killed with SIGKILL, says so, and loses nothing it acknowledged", async () => {
    const { store, log } = await activateRedgreen();
    const before = await opened();
    await before.memory.transcript.record({ kind: "message", projectId: "it", channel: "human", from: "human", text: "acknowledged before the crash" });
    const states: string[] = [];
    const listening = store.onDidChange((state) => states.push(state.kind === "failed" && state.restarting ? "restarting" : state.kind));
    try {
      process.kill(before.engine!.pid, "SIGKILL");
      const after = await eventually(async () => {
        const state = await store.ready();
        return state.kind === "open" && state.engine?.pid !== before.engine?.pid ? state : undefined;
      }, 30_000, () => `states: ${states.join(", ")}`);
      assert.ok(states.includes("restarting"), `the window said it was restarting the engine (${states.join(", ")})`);
      assert.ok(log.recent().some((entry) => /The Redgreen engine \(pid \d+\) closed the connection.*restarting it/.test(entry.message)));
      assert.equal(after.memory.transcript.recent("it").at(-1)?.text, "acknowledged before the crash");
    } finally {
      listening.dispose();
    }
  });
});

describe("Importing a window's earlier store into the engine's", function () {
  this.timeout(60_000);

  it("copies every record of the workspace's earlier store, verified, keeps its files, and a second import copies nothing", async () => {
    const { oldStoreFolder } = await activateRedgreen();
    assert.ok(oldStoreFolder, "the workspace has extension storage");
    const old = await openEmbeddedStore(oldStoreFolder);
    const at = new Date();
    await old.collection("projects").insert({ _id: `old-${process.pid}`, name: `Earlier ${process.pid}`, root: os.tmpdir(), priority: "low", state: "drafting", testCommand: "true", specPath: "SPEC.md", createdAt: at, updatedAt: at });
    await old.collection("conversations").insert({ _id: `old-msg-${process.pid}`, projectId: `old-${process.pid}`, channel: "human", from: "human", text: "said before the engine", at, expiresAt: new Date(Date.now() + 86_400_000) });
    await old.close();
    const report = await vscode.commands.executeCommand<CopyReport>("redgreen.importWorkspaceStore");
    assert.deepEqual(report.collections.projects, { source: 1, copied: 1, present: 0 });
    assert.deepEqual(report.collections.conversations, { source: 1, copied: 1, present: 0 });
    const { memory } = await opened();
    assert.equal((await memory.projects.get(`old-${process.pid}`))?.name, `Earlier ${process.pid}`);
    const listed = JSON.parse(await redgreen(["projects", "--json"])) as { projects: { id: string }[] };
    assert.ok(listed.projects.some((p) => p.id === `old-${process.pid}`), "the command line sees the imported project");
    assert.ok(existsSync(path.join(oldStoreFolder, "projects.jsonl")) && existsSync(path.join(oldStoreFolder, "imported.json")), "the old files are kept, noted as imported");
    const again = await vscode.commands.executeCommand<CopyReport>("redgreen.importWorkspaceStore");
    assert.equal(again.collections.projects.copied, 0);
    assert.equal(again.collections.projects.present, 1);
  });
});
