import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { openEmbeddedStore } from "../../src/adapters/store/embedded/embeddedStore";
import { StoreError } from "../../src/core/store/port";
import { conversation, describeStoreConformance, ManualClock } from "../store/conformance";

const root = path.join(os.tmpdir(), `redgreen-store-${process.pid}`);
after(() => fs.rm(root, { recursive: true, force: true }));

describeStoreConformance("embedded", {
  open: (key, options) => openEmbeddedStore(path.join(root, key), { ...options, sweepIntervalMs: 0 }),
  drop: (key) => fs.rm(path.join(root, key), { recursive: true, force: true }),
});

describe("embedded store: crashes, corruption, locking", function () {
  this.timeout(30_000);
  let dir: string;
  let n = 0;
  beforeEach(async () => {
    dir = path.join(root, `case-${++n}`);
    await fs.mkdir(dir, { recursive: true });
  });

  it("loses no acknowledged write when the writing process is killed with SIGKILL", async () => {
    const writer = path.join(__dirname, "../fixtures/store/writer.js");
    const child = spawn(process.execPath, [writer, dir], { stdio: ["ignore", "pipe", "pipe"] });
    const acked: string[] = [];
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let buffered = "";
    await new Promise<void>((resolve, reject) => {
      child.on("exit", (code) => reject(new Error(`writer exited early (${code}): ${stderr}`)));
      child.stdout.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) if (line.startsWith("ack ")) acked.push(line.slice(4));
        // Kill while writes are in flight: well into the stream, not at a quiet moment.
        if (acked.length >= 400) {
          child.removeAllListeners("exit");
          child.kill("SIGKILL");
          child.on("exit", () => resolve());
        }
      });
    });
    const store = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
    try {
      const ids = new Set((await store.collection("conversations").find({ projectId: "p1" })).map((d) => d._id));
      const lost = acked.filter((id) => !ids.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged writes were lost`);
      assert.ok(ids.size >= acked.length);
    } finally {
      await store.close();
    }
  });

  it("moves a corrupted file aside, names it, recovers the readable documents, and keeps the rest working", async () => {
    const clock = new ManualClock();
    let store = await openEmbeddedStore(dir, { clock, sweepIntervalMs: 0 });
    for (const text of ["a", "b", "c"]) await store.collection("conversations").insert(conversation("p1", clock.now(), text));
    await store.collection("agent_logs").insert({ _id: "l1", projectId: "p1", role: "pm", level: "info", message: "ok", at: new Date(clock.now()) });
    await store.close();

    const file = path.join(dir, "conversations.jsonl");
    const lines = (await fs.readFile(file, "utf8")).split("\n");
    lines[1] = '{"put": {"_id": "broken", "text": ';
    const damaged = lines.join("\n");
    await fs.writeFile(file, damaged);

    const problems: string[] = [];
    store = await openEmbeddedStore(dir, { clock, sweepIntervalMs: 0, onProblem: (message) => problems.push(message) });
    try {
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(problems[0]!, /conversations\.jsonl is corrupted/);
      assert.match(problems[0]!, /line 2/);
      const aside = (await fs.readdir(dir)).find((name) => name.startsWith("conversations.jsonl.corrupt-"));
      assert.ok(aside, "the damaged file was kept aside");
      assert.equal(await fs.readFile(path.join(dir, aside), "utf8"), damaged);
      assert.deepEqual((await store.collection("conversations").find({}, { sort: { text: 1 } })).map((d) => d.text), ["a", "c"]);
      await store.collection("conversations").insert(conversation("p1", clock.now(), "d"));
      assert.equal(await store.collection("agent_logs").count(), 1);
    } finally {
      await store.close();
    }
    const reopened = await openEmbeddedStore(dir, { clock, sweepIntervalMs: 0, onProblem: (message) => assert.fail(message) });
    assert.equal(await reopened.collection("conversations").count(), 3);
    await reopened.close();
  });

  it("treats a document that fails its schema as corruption, not as data", async () => {
    await fs.writeFile(path.join(dir, "tickets.jsonl"), '{"put":{"_id":"T-1","title":"no project"}}\n');
    const problems: string[] = [];
    const store = await openEmbeddedStore(dir, { sweepIntervalMs: 0, onProblem: (message) => problems.push(message) });
    try {
      assert.match(problems.join("\n"), /tickets\.jsonl is corrupted.*line 1: tickets: invalid document on line 1: projectId/);
      assert.equal(await store.collection("tickets").count(), 0);
    } finally {
      await store.close();
    }
  });

  it("drops a torn last line (a write cut off before it was acknowledged) and appends cleanly after it", async () => {
    const clock = new ManualClock();
    let store = await openEmbeddedStore(dir, { clock, sweepIntervalMs: 0 });
    await store.collection("conversations").insert(conversation("p1", clock.now(), "whole"));
    await store.close();
    await fs.appendFile(path.join(dir, "conversations.jsonl"), '{"put":{"_id":"half');
    const problems: string[] = [];
    store = await openEmbeddedStore(dir, { clock, sweepIntervalMs: 0, onProblem: (message) => problems.push(message) });
    await store.collection("conversations").insert(conversation("p1", clock.now(), "after"));
    await store.close();
    assert.match(problems.join("\n"), /unfinished write/);
    store = await openEmbeddedStore(dir, { clock, sweepIntervalMs: 0, onProblem: (message) => assert.fail(message) });
    assert.deepEqual((await store.collection("conversations").find({}, { sort: { text: -1 } })).map((d) => d.text), ["whole", "after"]);
    await store.close();
  });

  it("keeps a last line that is a whole valid record without its newline, and adds the newline", async () => {
    const clock = new ManualClock();
    let store = await openEmbeddedStore(dir, { clock, sweepIntervalMs: 0 });
    await store.collection("conversations").insert(conversation("p1", clock.now(), "first"));
    await store.collection("conversations").insert(conversation("p1", clock.now(), "last"));
    await store.close();
    const file = path.join(dir, "conversations.jsonl");
    const whole = await fs.readFile(file, "utf8");
    await fs.writeFile(file, whole.slice(0, -1)); // the same bytes but the final newline
    const problems: string[] = [];
    store = await openEmbeddedStore(dir, { clock, sweepIntervalMs: 0, onProblem: (message) => problems.push(message) });
    assert.deepEqual((await store.collection("conversations").find({}, { sort: { text: 1 } })).map((d) => d.text), ["first", "last"]);
    await store.collection("conversations").insert(conversation("p1", clock.now(), "after"));
    await store.close();
    assert.doesNotMatch(problems.join("\n"), /unfinished write/);
    assert.match(problems.join("\n"), /its last record had no newline: kept, and the newline added/);
    store = await openEmbeddedStore(dir, { clock, sweepIntervalMs: 0, onProblem: (message) => assert.fail(message) });
    assert.deepEqual((await store.collection("conversations").find({}, { sort: { text: 1 } })).map((d) => d.text), ["after", "first", "last"]);
    await store.close();
  });

  it("keeps working when one collection's file cannot be read, and says which", async () => {
    await fs.mkdir(path.join(dir, "snippets.jsonl")); // a folder where the file should be
    const problems: string[] = [];
    const store = await openEmbeddedStore(dir, { sweepIntervalMs: 0, onProblem: (message) => problems.push(message) });
    try {
      assert.match(problems.join("\n"), /snippets\.jsonl cannot be opened/);
      await assert.rejects(store.collection("snippets").find(), /snippets\.jsonl cannot be opened/);
      await store.collection("conversations").insert(conversation("p1", 0, "fine"));
      assert.equal(await store.collection("conversations").count(), 1);
    } finally {
      await store.close();
    }
  });

  it("refuses a second live process and takes over a lock left by a dead one", async () => {
    await fs.writeFile(path.join(dir, "LOCK"), String(process.ppid));
    await assert.rejects(openEmbeddedStore(dir, { sweepIntervalMs: 0 }), (error: Error) => error instanceof StoreError && /in use by another process/.test(error.message));
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => dead.on("exit", resolve));
    await fs.writeFile(path.join(dir, "LOCK"), String(dead.pid));
    const store = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
    await assert.rejects(openEmbeddedStore(dir, { sweepIntervalMs: 0 }), /already open in this window/);
    await store.close();
    // A live pid whose lock has not been refreshed for minutes: the id was reused, the lock is stale.
    await fs.writeFile(path.join(dir, "LOCK"), String(process.ppid));
    const old = new Date(Date.now() - 5 * 60_000);
    await fs.utimes(path.join(dir, "LOCK"), old, old);
    const again = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
    await again.close();
  });

  it("is never held by two processes that open it at the same moment, whether a dead process left its lock or not", async function () {
    this.timeout(120_000);
    const module = path.resolve(__dirname, "../../src/adapters/store/embedded/embeddedStore.js");
    // Each contender waits for the same instant, opens the store once, holds it a while, and says which.
    const contender = `const { openEmbeddedStore } = require(${JSON.stringify(module)});
      const at = Number(process.argv[1]);
      setTimeout(async () => {
        try { const store = await openEmbeddedStore(process.argv[2], { sweepIntervalMs: 0 }); console.log("held"); setTimeout(() => store.close(), 1500); }
        catch (error) { console.log(/in use by another process/.test(error.message) ? "refused" : "error " + error.message); }
      }, Math.max(0, at - Date.now()));`;
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => dead.on("exit", resolve));
    for (let round = 0; round < 6; round++) {
      if (round % 2 === 1) await fs.writeFile(path.join(dir, "LOCK"), String(dead.pid)); // left by a process that died
      const at = Date.now() + 600;
      const said = await Promise.all(Array.from({ length: 6 }, () => new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ["-e", contender, String(at), dir]);
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
        child.on("exit", () => resolve(out.trim()));
      })));
      assert.deepEqual(said.filter((s) => s === "held").length, 1, `round ${round}: ${said.join(", ")}`);
      assert.deepEqual(said.filter((s) => s !== "held"), Array(5).fill("refused"), `round ${round}: ${said.join(", ")}`);
    }
  });

  it("cuts a torn tail at the last newline byte, even inside a multi-byte character", async () => {
    const file = path.join(dir, "conversations.jsonl");
    let store = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
    await store.collection("conversations").insert(conversation("p1", 0, "héllo wörld"));
    await store.close();
    await fs.appendFile(file, Buffer.from([0x7b, 0x22, 0xc3])); // '{"' and half of a two-byte character
    store = await openEmbeddedStore(dir, { sweepIntervalMs: 0, onProblem: () => undefined });
    await store.collection("conversations").insert(conversation("p1", 0, "après"));
    await store.close();
    store = await openEmbeddedStore(dir, { sweepIntervalMs: 0, onProblem: (message) => assert.fail(message) });
    assert.deepEqual((await store.collection("conversations").find({}, { sort: { text: 1 } })).map((d) => d.text), ["après", "héllo wörld"]);
    await store.close();
  });

  it("fails the collection, reads included, once a write could not reach the disk", async () => {
    const store = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
    await store.collection("conversations").insert(conversation("p1", 0, "kept"));
    // Break the file under the store: its handle is closed behind its back.
    const logs = (store as unknown as { collections: Map<string, { log: { handle: { close(): Promise<void> } } }> }).collections;
    await logs.get("conversations")!.log.handle.close();
    await assert.rejects(store.collection("conversations").insert(conversation("p1", 0, "lost")), /could not be written/);
    await assert.rejects(store.collection("conversations").find(), /could not be written/);
    assert.equal(await store.collection("agent_logs").count(), 0, "other collections keep working");
    await store.close().catch(() => undefined);
  });

  it("compacts its file once superseded lines dominate, keeping the latest version of each document", async () => {
    const store = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
    const doc = conversation("p1", 0, "v0");
    for (let i = 0; i < 1500; i++) await store.collection("conversations").put({ ...doc, text: `v${i}` });
    await store.close();
    const lines = (await fs.readFile(path.join(dir, "conversations.jsonl"), "utf8")).trim().split("\n");
    assert.ok(lines.length < 1000, `file has ${lines.length} lines`);
    const reopened = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
    assert.equal((await reopened.collection("conversations").get(doc._id))!.text, "v1499");
    await reopened.close();
  });
});

describe("embedded store: file permissions", function () {
  this.timeout(30_000);
  let dir: string;
  let n = 0;
  beforeEach(() => {
    dir = path.join(root, `modes-${++n}`, "store");
  });
  /** Permission bits of `target` (type bits dropped). */
  const mode = async (target: string) => (await fs.stat(target)).mode & 0o777;
  /** Every file in the store folder with its mode, so a failure names the file. */
  const modes = async () => Promise.all((await fs.readdir(dir)).map(async (name): Promise<[string, string]> => [name, (await mode(path.join(dir, name))).toString(8)]));

  it("creates its folder 0700 and its files 0600, so other users of the machine cannot read the store", async function () {
    if (process.platform === "win32") this.skip();
    const store = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
    try {
      await store.collection("conversations").insert(conversation("p1", 0, "private"));
      assert.equal((await mode(dir)).toString(8), "700");
      const files = await modes();
      assert.ok(files.some(([name]) => name === "LOCK") && files.some(([name]) => name === "conversations.jsonl"), JSON.stringify(files));
      assert.deepEqual(files.filter(([, bits]) => bits !== "600"), []);
    } finally {
      await store.close();
    }
  });

  it("tightens an existing store's 0755 folder and 0644 files when it opens, rewritten and set-aside files included", async function () {
    if (process.platform === "win32") this.skip();
    const earlier = await openEmbeddedStore(dir, { sweepIntervalMs: 0 });
    await earlier.collection("conversations").insert(conversation("p1", 0, "old"));
    await earlier.close();
    await fs.writeFile(path.join(dir, "tickets.jsonl"), "not json\n"); // corrupted: copied aside, then rewritten
    for (const name of await fs.readdir(dir)) await fs.chmod(path.join(dir, name), 0o644);
    await fs.chmod(dir, 0o755);
    const store = await openEmbeddedStore(dir, { sweepIntervalMs: 0, onProblem: () => undefined });
    try {
      assert.equal((await mode(dir)).toString(8), "700");
      const files = await modes();
      assert.ok(files.some(([name]) => name.startsWith("tickets.jsonl.corrupt-")), JSON.stringify(files));
      assert.deepEqual(files.filter(([, bits]) => bits !== "600"), []);
      assert.equal(await store.collection("conversations").count(), 1, "the data is still read");
    } finally {
      await store.close();
    }
  });
});
