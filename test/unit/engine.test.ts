// The engine's socket and its store, in this process (the CLI tests start it as a real detached
// process): hello with the token or nothing, validated requests that never stop the engine, the
// store reached through it with dates intact, private folders only, team claims, idle exit.
import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createMessageConnection, SocketMessageReader, SocketMessageWriter, type MessageConnection } from "vscode-jsonrpc/node";
import { EngineConnection } from "../../src/adapters/engine/engineClient";
import { engineFiles } from "../../src/adapters/engine/engineFiles";
import { RemoteStore } from "../../src/adapters/engine/remoteStore";
import { openEmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import type { Logger } from "../../src/core/logger";
import type { Project } from "../../src/core/store/records";
import { startEngine, type RunningEngine } from "../../src/engine/engine";
import { MemoryManager } from "../../src/core/memory/memoryManager";
import { copyStore } from "../../src/core/store/copyStore";
import { DuplicateKeyError } from "../../src/core/store/port";
import { existsSync } from "node:fs";
import { noModels } from "../fixtures/kit";
import { EngineModelHost } from "../../src/adapters/engine/engineModelHost";
import { LocalModelBackend } from "../../src/adapters/llm/localBackend";
import { HostRequests, loadResultSchema } from "../../src/adapters/llm/hostProtocol";
import { claimResult, ENGINE_PROTOCOL, EngineMethods, statusResult } from "../../src/protocol/engine";

/** A logger that keeps what it was told. */
function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: string | Error) => void lines.push(String(message));
  return { lines, trace: keep, debug: keep, info: keep, warn: keep, error: keep };
}

const project = (id: string): Project => ({
  _id: id, name: id, root: `/tmp/${id}`, priority: "high", state: "drafting", testCommand: "npm test", specPath: "SPEC.md",
  createdAt: new Date("2026-12-01T10:00:00.000Z"), updatedAt: new Date("2026-12-02T11:30:00.500Z"),
});

describe("The engine (socket, token, store, lifetime)", function () {
  this.timeout(20_000);
  const root = path.join(os.tmpdir(), `redgreen-engine-${process.pid}`);
  let n = 0;
  let dataDir: string;
  let engine: RunningEngine;
  let log: ReturnType<typeof recordingLog>;
  const clients: EngineConnection[] = [];

  const connect = async (version = "1.0.0") => {
    const client = await EngineConnection.open({ dataDir, version, client: "cli", log: recordingLog() });
    clients.push(client);
    return client;
  };

  /** A raw connection to the socket, to send what a real client never would. */
  const raw = async (): Promise<{ connection: MessageConnection; closed: Promise<void> }> => {
    const socket = net.connect({ path: engineFiles(dataDir).socket });
    await new Promise((resolve) => socket.once("connect", resolve));
    const connection = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    connection.listen();
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    return { connection, closed };
  };

  beforeEach(async () => {
    dataDir = path.join(root, `d${++n}`);
    log = recordingLog();
    const started = await startEngine({ dataDir, log, version: "1.0.0", idleMs: 60_000 });
    assert.notEqual(started, "running");
    engine = started as RunningEngine;
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.dispose();
    await engine.stop();
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  it("says hello with the token, and serves the store: what one client writes another reads, dates intact", async () => {
    const a = new RemoteStore(await connect(), recordingLog());
    const b = new RemoteStore(await connect(), recordingLog());
    assert.equal(a.kind, "embedded");
    await a.collection("projects").insert(project("p1"));
    const read = await b.collection("projects").get("p1");
    assert.deepEqual(read, project("p1"));
    assert.ok(read?.updatedAt instanceof Date);
    assert.deepEqual((await b.collection("projects").find({ priority: "high" })).map((p) => p._id), ["p1"]);
    assert.equal(await b.collection("projects").count(), 1);
    assert.equal(await a.collection("projects").get("nope"), undefined);
    const status = await clients[0]!.request(EngineMethods.status, {}, statusResult);
    assert.equal(status.clients.length, 2);
    assert.equal(status.pid, process.pid);
  });

  it("tells every other client what one wrote: their Memory Managers announce the project, ticket and message, and keep numbering after the writer's entries", async () => {
    const [a, b] = [new RemoteStore(await connect(), recordingLog()), new RemoteStore(await connect(), recordingLog())];
    const [writer, reader] = [await MemoryManager.open({ store: a, models: noModels }), await MemoryManager.open({ store: b, models: noModels })];
    const seen: string[] = [];
    reader.projects.onDidChange((p) => seen.push(`project ${p._id} ${p.state}`));
    reader.tickets.onDidChange((t) => seen.push(`ticket ${t._id} ${t.column}`));
    reader.transcript.onDidRecordMessage((m) => seen.push(`message ${m.text}`));
    const heard = writer.projects.onDidChange((p) => seen.push(`writer heard ${p._id}`));
    await writer.projects.create(project("p9"), "test");
    await writer.tickets.create({ _id: "t1", projectId: "p9", functionalityId: "F-1", title: "Add", description: "", goal: "adds", acceptanceCriteria: ["1+1=2"], requirementIds: [], column: "todo", severity: "medium", timeEstimate: null, assignedPair: null, filesChanged: [], testPassRate: null, branch: null, blockedBy: [] }, "test");
    await writer.tickets.move("t1", "inprogress", "test");
    await writer.transcript.record({ kind: "message", projectId: "p9", channel: "human", from: "pm", text: "hello from a" });
    const expected = ["project p9 drafting", "ticket t1 todo", "ticket t1 inprogress", "message hello from a"];
    for (let i = 0; i < 100 && seen.length <= expected.length; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(seen.filter((line) => !line.startsWith("writer")), expected, "the other client hears each write, in order");
    assert.deepEqual(seen.filter((line) => line.startsWith("writer")), ["writer heard p9"], "the writer hears its own once, not echoed back");
    heard.dispose();
    const entry = await reader.transcript.appendWorking({ projectId: "p9", kind: "message", from: "human", text: "from b", at: new Date() });
    const writerSeqs = writer.transcript.recent("p9").filter((e) => e.text !== "from b").map((e) => e.seq);
    assert.ok(writerSeqs.length >= 3 && entry.seq > Math.max(...writerSeqs), `b numbers after a's entries (${entry.seq} > ${writerSeqs.join(",")})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(writer.transcript.recent("p9").at(-1)?.text, "from b", "and a keeps b's working entry");
  });

  it("copies a window's old store into the engine's without loss: every record verified, a torn line reported and skipped, a second copy adds nothing", async () => {
    const oldFolder = path.join(root, `old${n}`);
    const old = await openEmbeddedStore(oldFolder);
    await old.collection("projects").insert(project("p-old"));
    await old.collection("conversations").insert({ _id: "c1", projectId: "p-old", channel: "human", from: "human", text: "kept", at: new Date(), expiresAt: new Date(Date.now() + 86_400_000) });
    await old.close();
    await fs.appendFile(path.join(oldFolder, "projects.jsonl"), '{"_id": "torn", "name": \n');
    const problems: string[] = [];
    const source = await openEmbeddedStore(oldFolder, { onProblem: (message) => problems.push(message) });
    const target = new RemoteStore(await connect(), recordingLog());
    await target.collection("projects").insert(project("p-already"));
    await assert.rejects(target.collection("projects").insert(project("p-already")), DuplicateKeyError, "a duplicate is the same error through the engine as in process");
    const first = await copyStore(source, target);
    assert.deepEqual(first.collections.projects, { source: 1, copied: 1, present: 0 });
    assert.deepEqual(first.collections.conversations, { source: 1, copied: 1, present: 0 });
    assert.equal(first.total, 2);
    assert.ok(problems.length > 0, "the torn line was reported by the store that found it");
    assert.deepEqual(await target.collection("projects").get("p-old"), project("p-old"));
    assert.equal((await target.collection("conversations").get("c1"))?.text, "kept");
    const again = await copyStore(source, target);
    assert.deepEqual(again.collections.projects, { source: 1, copied: 0, present: 1 });
    assert.equal(await target.collection("projects").count(), 2, "nothing doubled, nothing of the target's own lost");
    await source.close();
    assert.ok(existsSync(path.join(oldFolder, "projects.jsonl")), "the old store's files are kept");
  });

  it("shares the model host's models between clients, and a model whose last holder goes while it loads is unloaded when the load ends, its name free for another file", async () => {
    await engine.stop();
    const started = await startEngine({ dataDir, log, version: "1.0.0", idleMs: 60_000, modelHostEntry: path.join(__dirname, "..", "fixtures", "fakeModelHost.js") });
    engine = started as RunningEngine;
    const backendOf = (connection: EngineConnection) => new LocalModelBackend(new EngineModelHost(() => Promise.resolve(connection), recordingLog(), false));
    const models = async () => (await clients[0]!.request(EngineMethods.status, {}, statusResult)).modelHost?.models.map((m) => `${m.id} ${m.path}`) ?? [];
    const [watcher, a, b] = [await connect(), await connect(), await connect()];
    assert.ok(watcher);
    // A real load reads the file's header first: the fake host needs none, so the requests go straight to it.
    const load = (connection: EngineConnection, id: string, file: string) => connection.request(EngineMethods.model, { method: "model/load", params: { id, path: file, contextSize: 512, threads: 1 } }, loadResultSchema);
    const leaving = load(a, "pm", "/models/x.gguf");
    await new Promise((resolve) => setTimeout(resolve, 50));
    a.dispose();
    await leaving.catch(() => undefined);
    const loading = async () => (await clients[0]!.request(EngineMethods.status, {}, statusResult)).modelHost?.loading ?? 0;
    assert.equal(await loading(), 1, "the load goes on in the host after its client left");
    for (let i = 0; i < 200 && (await loading()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await models(), [], "loaded for a client that left: unloaded once loaded");
    await load(b, "pm", "/models/y.gguf");
    assert.deepEqual(await models(), ["pm /models/y.gguf"], "the name serves the new file, not the old one");
    const c = await connect();
    assert.equal((await load(c, "developer", "/models/y.gguf")).loadMs, 0, "the same file and options: shared");
    assert.deepEqual(await models(), ["pm /models/y.gguf"]);
    await backendOf(b).unload("pm");
    assert.deepEqual(await models(), ["pm /models/y.gguf"], "c still holds it");
    c.dispose();
    for (let i = 0; i < 50 && (await models()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await models(), [], "the last holder left");
  });

  it("lets a model connection go when the data folder changes: its models are forgotten, the old engine unloads them, the other engine serves", async () => {
    const fakeHost = path.join(__dirname, "..", "fixtures", "fakeModelHost.js");
    await engine.stop();
    engine = (await startEngine({ dataDir, log, version: "1.0.0", idleMs: 60_000, modelHostEntry: fakeHost })) as RunningEngine;
    const otherDir = `${dataDir}-other`;
    const other = (await startEngine({ dataDir: otherDir, log, version: "1.0.0", idleMs: 60_000, modelHostEntry: fakeHost })) as RunningEngine;
    try {
      let target = dataDir;
      const host = new EngineModelHost(() => EngineConnection.open({ dataDir: target, version: "1.0.0", client: "editor", log: recordingLog() }), recordingLog(), true);
      const backend = new LocalModelBackend(host);
      let resets = 0;
      backend.onDidReset(() => void (resets += 1));
      const load = () => host.request(HostRequests.load, { id: "pm", path: "/models/x.gguf", contextSize: 512, threads: 1 }, loadResultSchema);
      const modelsOf = async (dir: string) => {
        const watcher = await EngineConnection.open({ dataDir: dir, version: "1.0.0", client: "cli", log: recordingLog() });
        clients.push(watcher);
        return (await watcher.request(EngineMethods.status, {}, statusResult)).modelHost?.models.map((m) => m.id) ?? [];
      };
      await load();
      assert.deepEqual(await modelsOf(dataDir), ["pm"]);
      target = otherDir;
      host.reconnect("the data folder changed");
      assert.equal(resets, 1, "the ModelManager forgets what was loaded");
      await load();
      assert.deepEqual(await modelsOf(otherDir), ["pm"], "the other engine serves now");
      for (let i = 0; i < 50 && (await modelsOf(dataDir)).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(await modelsOf(dataDir), [], "the old engine let go of it");
      backend.dispose();
      host.dispose();
    } finally {
      await other.stop();
    }
  });

  it("refuses a document its collection does not accept, naming the field, and goes on serving", async () => {
    const store = new RemoteStore(await connect(), recordingLog());
    const bad = { ...project("p2"), priority: "urgent" } as unknown as Project;
    await assert.rejects(store.collection("projects").insert(bad), /Not a valid projects document: priority: /);
    await assert.rejects(clients[0]!.request(EngineMethods.store, { op: "find", collection: "nothing" }, statusResult), /store\/op: collection: /);
    for (const method of ["constructor", "__proto__", "toString"]) {
      await assert.rejects(clients[0]!.request(method, {}, statusResult), /The engine has no request/, method);
    }
    assert.ok(log.lines.some((line) => /refused a malformed store\/op from pid \d+: collection/.test(line)), log.lines.join("\n"));
    await store.collection("projects").insert(project("p3"));
    assert.equal((await store.collection("projects").get("p3"))?._id, "p3");
  });

  it("refuses a wrong token and any request before hello, logs why, and hangs up", async () => {
    const wrong = await raw();
    await assert.rejects(
      wrong.connection.sendRequest(EngineMethods.hello, { token: "x".repeat(64), protocol: ENGINE_PROTOCOL, version: "1.0.0", client: "cli", pid: process.pid }),
      /Refused: a wrong token/,
    );
    await wrong.closed;
    const early = await raw();
    await assert.rejects(early.connection.sendRequest(EngineMethods.status, {}), /Refused: engine\/status before hello/);
    await early.closed;
    assert.ok(log.lines.some((line) => line.includes("refused a wrong token")));
    const twice = await raw();
    const token = (await fs.readFile(engineFiles(dataDir).token, "utf8")).trim();
    const hello = { token, protocol: ENGINE_PROTOCOL, version: "1.0.0", client: "cli", pid: process.pid };
    await twice.connection.sendRequest(EngineMethods.hello, hello);
    await assert.rejects(twice.connection.sendRequest(EngineMethods.hello, hello), /Refused: a second hello/);
    await twice.closed;
    assert.ok((await connect()).engine.pid > 0, "and still serves a client with the token");
    assert.equal((await clients[0]!.request(EngineMethods.status, {}, statusResult)).clients.length, 1, "no ghost of a refused connection stays");
  });

  it("lets a client of another protocol ask only for the status or a stop", async () => {
    const other = await raw();
    const token = (await fs.readFile(engineFiles(dataDir).token, "utf8")).trim();
    await other.connection.sendRequest(EngineMethods.hello, { token, protocol: ENGINE_PROTOCOL + 1, version: "9.0.0", client: "cli", pid: process.pid });
    await assert.rejects(other.connection.sendRequest(EngineMethods.store, { op: "sweep" }), new RegExp(`speaks protocol ${ENGINE_PROTOCOL}: stop it`));
    assert.ok(statusResult.parse(await other.connection.sendRequest(EngineMethods.status, {})));
    other.connection.dispose();
  });

  it("refuses an engine folder or token that other users can reach", async () => {
    const files = engineFiles(dataDir);
    await fs.chmod(files.folder, 0o755);
    await assert.rejects(connect(), /engine can be reached by other users \(mode 755\)/);
    await fs.chmod(files.folder, 0o700);
    await fs.chmod(files.token, 0o644);
    await assert.rejects(connect(), /token can be reached by other users \(mode 644\)/);
    await fs.chmod(files.token, 0o600);
    assert.ok(await connect());
  });

  it("is the only engine of its data folder, and gives a project's team to one client at a time", async () => {
    assert.equal(await startEngine({ dataDir, log: recordingLog(), version: "1.0.0", idleMs: 60_000 }), "running");
    const [first, second] = [await connect(), await connect()];
    assert.deepEqual(await first.request(EngineMethods.claimProject, { projectId: "p" }, claimResult), { granted: true, holderPid: process.pid });
    assert.deepEqual(await second.request(EngineMethods.claimProject, { projectId: "p" }, claimResult), { granted: false, holderPid: process.pid });
    first.dispose();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(await second.request(EngineMethods.claimProject, { projectId: "p" }, claimResult), { granted: true, holderPid: process.pid }, "a client that hung up holds nothing");
  });

  it("is stopped and replaced, as a process of its own, by a client of another version", async () => {
    const entry = path.join(__dirname, "..", "..", "..", "dist", "engine.js");
    const client = await EngineConnection.open({ dataDir, entry, version: "2.0.0", client: "cli", log: recordingLog() });
    clients.push(client);
    await engine.stopped;
    assert.notEqual(client.engine.pid, process.pid, "a detached engine process answers now");
    assert.equal((await client.request(EngineMethods.status, {}, statusResult)).store.location, path.join(dataDir, "store"));
    await client.stopEngine();
    await assert.rejects(EngineConnection.open({ dataDir, version: "2.0.0", client: "cli", log: recordingLog() }), /No Redgreen engine answers/);
  });

  it("exits after its idle time with no client, releasing the store", async () => {
    await engine.stop();
    log = recordingLog();
    engine = (await startEngine({ dataDir, log, version: "1.0.0", idleMs: 300 })) as RunningEngine;
    const client = await connect();
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal((await client.request(EngineMethods.status, {}, statusResult)).exitsAt, null, "a connected client keeps it running");
    client.dispose();
    await engine.stopped;
    const store = await openEmbeddedStore(path.join(dataDir, "store"));
    await store.close();
  });
});
