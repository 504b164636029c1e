import * as assert from "node:assert/strict";
import type { Clock } from "../../src/core/clock";
import { DuplicateKeyError, StoreError, type Store } from "../../src/core/store/port";
import type { Conversation } from "../../src/core/store/records";

// One behaviour for every store adapter: each adapter's test file calls this with a way to open
// a fresh store. Time is a controllable clock that starts at the real time, so a server's own
// TTL monitor agrees with it about what is expired.

export class ManualClock implements Clock {
  time = Date.now();
  now = () => this.time;
  setTimeout(): { cancel(): void } {
    return { cancel: () => undefined };
  }
}

export interface StoreFactory {
  /** Opens the store under test; the same `key` reopens the same data. */
  open(key: string, options: { clock: Clock; cappedMax: number }): Promise<Store>;
  /** Deletes all data of `key`. */
  drop(key: string): Promise<void>;
}

let counter = 0;
const HOUR = 3_600_000;

export function conversation(projectId: string, at: number, text: string, extra: Partial<Conversation> = {}): Conversation {
  return { _id: `c-${++counter}-${text}`, projectId, channel: "human", from: "human", text, at: new Date(at), ...extra };
}

export function describeStoreConformance(adapter: string, factory: StoreFactory): void {
  describe(`store conformance: ${adapter}`, function () {
    this.timeout(60_000);
    let clock: ManualClock;
    let store: Store;
    let key: string;
    const CAPPED = 25;

    beforeEach(async () => {
      clock = new ManualClock();
      key = `conformance-${process.pid}-${++counter}`;
      store = await factory.open(key, { clock, cappedMax: CAPPED });
    });
    afterEach(async () => {
      await store.close();
      await factory.drop(key);
    });

    it("round-trips documents, dates included", async () => {
      const doc = conversation("p1", clock.now(), "hello", { ticketId: "T-1", expiresAt: new Date(clock.now() + HOUR) });
      await store.collection("conversations").insert(doc);
      const read = await store.collection("conversations").get(doc._id);
      assert.deepEqual(read, doc);
      assert.ok(read?.at instanceof Date);
      assert.equal(await store.collection("conversations").get("missing"), undefined);
    });

    it("refuses a duplicate _id and keeps the first document", async () => {
      const first = conversation("p1", clock.now(), "first");
      await store.collection("conversations").insert(first);
      await assert.rejects(store.collection("conversations").insert({ ...first, text: "second" }), DuplicateKeyError);
      assert.equal((await store.collection("conversations").get(first._id))!.text, "first");
    });

    it("rejects an invalid document, naming the collection and field, and writes nothing", async () => {
      const bad = { ...conversation("p1", clock.now(), "bad"), channel: "email" } as unknown as Conversation;
      await assert.rejects(store.collection("conversations").insert(bad), (error: Error) => {
        assert.ok(error instanceof StoreError);
        assert.match(error.message, /conversations/);
        assert.match(error.message, /channel/);
        return true;
      });
      assert.equal(await store.collection("conversations").count(), 0);
    });

    it("replaces a document by _id with put", async () => {
      const doc = conversation("p1", clock.now(), "draft");
      await store.collection("conversations").put(doc);
      await store.collection("conversations").put({ ...doc, text: "final" });
      assert.equal(await store.collection("conversations").count(), 1);
      assert.equal((await store.collection("conversations").get(doc._id))!.text, "final");
    });

    it("finds by project and time range, sorted, with skip and limit", async () => {
      const t0 = clock.now();
      const docs = [];
      for (let i = 0; i < 10; i++) docs.push(conversation(i % 2 ? "p1" : "p2", t0 + i * 1000, `m${i}`));
      for (const doc of docs) await store.collection("conversations").insert(doc);
      const p1 = await store.collection("conversations").find({ projectId: "p1" }, { sort: { at: -1 } });
      assert.deepEqual(p1.map((d) => d.text), ["m9", "m7", "m5", "m3", "m1"]);
      const range = await store.collection("conversations").find(
        { projectId: "p1", at: { $gte: new Date(t0 + 3000), $lt: new Date(t0 + 9000) } },
        { sort: { at: 1 } },
      );
      assert.deepEqual(range.map((d) => d.text), ["m3", "m5", "m7"]);
      const page = await store.collection("conversations").find({}, { sort: { at: 1 }, skip: 2, limit: 3 });
      assert.deepEqual(page.map((d) => d.text), ["m2", "m3", "m4"]);
      const some = await store.collection("conversations").find({ text: { $in: ["m0", "m4"] } }, { sort: { at: 1 } });
      assert.deepEqual(some.map((d) => d.text), ["m0", "m4"]);
    });

    it("counts and deletes by filter", async () => {
      for (let i = 0; i < 6; i++) await store.collection("agent_logs").insert({
        _id: `log-${i}`, projectId: i < 4 ? "p1" : "p2", role: "developer", level: i % 2 ? "warn" : "info", message: `step ${i}`, at: new Date(clock.now() + i),
      });
      assert.equal(await store.collection("agent_logs").count({ projectId: "p1" }), 4);
      assert.equal(await store.collection("agent_logs").delete({ projectId: "p1", level: "warn" }), 2);
      assert.equal(await store.collection("agent_logs").count(), 4);
      assert.deepEqual((await store.collection("agent_logs").find({ projectId: "p1" }, { sort: { at: 1 } })).map((d) => d._id), ["log-0", "log-2"]);
    });

    it("never returns expired documents and removes them on sweep", async () => {
      const now = clock.now();
      await store.collection("conversations").insert(conversation("p1", now, "old", { expiresAt: new Date(now - 1000) }));
      await store.collection("conversations").insert(conversation("p1", now, "soon", { expiresAt: new Date(now + HOUR) }));
      await store.collection("conversations").insert(conversation("p1", now, "kept"));
      const texts = async () => (await store.collection("conversations").find({ projectId: "p1" }, { sort: { text: 1 } })).map((d) => d.text);
      assert.deepEqual(await texts(), ["kept", "soon"]);
      clock.time += 2 * HOUR;
      assert.deepEqual(await texts(), ["kept"]);
      assert.equal(await store.collection("conversations").count({ projectId: "p1" }), 1);
      assert.ok((await store.sweepExpired()) >= 1);
      assert.deepEqual(await texts(), ["kept"]);
    });

    it("drops the oldest working entries beyond the capped size", async () => {
      for (let seq = 0; seq < CAPPED + 10; seq++) {
        await store.collection("conversations_current").insert({
          _id: `w-${seq}`, projectId: "p1", seq, kind: "message", from: "pm", text: `entry ${seq}`, at: new Date(clock.now()),
        });
      }
      const kept = await store.collection("conversations_current").find({ projectId: "p1" }, { sort: { seq: 1 } });
      assert.equal(kept.length, CAPPED);
      assert.equal(kept[0]!.seq, 10);
      assert.equal(kept.at(-1)!.seq, CAPPED + 9);
    });

    it("keeps every document across close and reopen", async () => {
      const doc = conversation("p1", clock.now(), "durable");
      await store.collection("conversations").insert(doc);
      await store.collection("tickets").insert(ticket("p1", "T-1", clock.now()));
      await store.close();
      store = await factory.open(key, { clock, cappedMax: CAPPED });
      assert.deepEqual(await store.collection("conversations").get(doc._id), doc);
      assert.equal((await store.collection("tickets").get("T-1"))!.title, "Ticket T-1");
    });

    it("keeps every one of 200 concurrent writes", async () => {
      const docs = Array.from({ length: 200 }, (_, i) => conversation("p1", clock.now() + i, `burst${i}`));
      await Promise.all(docs.map((doc) => store.collection("conversations").insert(doc)));
      assert.equal(await store.collection("conversations").count({ projectId: "p1" }), 200);
    });
  });
}

export function ticket(projectId: string, id: string, at: number) {
  return {
    _id: id, projectId, functionalityId: "F-1", title: `Ticket ${id}`, description: "", goal: "Do the thing",
    acceptanceCriteria: ["it works"], requirementIds: ["R-1"], column: "todo" as const, severity: "medium" as const, timeEstimate: null,
    assignedPair: null, filesChanged: [], testPassRate: null, branch: null, blockedBy: [], history: [],
    createdAt: new Date(at), updatedAt: new Date(at),
  };
}
