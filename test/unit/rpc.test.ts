import * as assert from "node:assert/strict";
import * as z from "zod";
import { defineProtocol, Endpoint, type Message } from "../../src/protocol/rpc";

const protocol = defineProtocol({
  view: "test",
  toHost: {
    requests: { add: { params: z.object({ a: z.number(), b: z.number() }), result: z.number() } },
    notifications: { clicked: z.object({ button: z.string() }) },
  },
  toWebview: {
    requests: { echo: { params: z.object({ text: z.string() }), result: z.object({ text: z.string() }) } },
    notifications: { state: z.object({ count: z.number() }) },
  },
});

/** A host and a webview endpoint joined by an asynchronous in-memory transport, like postMessage. */
function pair(options: { timeoutMs?: number } = {}) {
  const problems = { host: [] as string[], webview: [] as string[] };
  const sent = { host: [] as Message[], webview: [] as Message[] };
  let webviewListening = false;
  const deliver = (target: { receive(raw: unknown): void }, message: unknown) =>
    queueMicrotask(() => target.receive(structuredClone(message)));
  const host: Endpoint<typeof protocol.toHost, typeof protocol.toWebview> = new Endpoint(protocol.toHost, protocol.toWebview, {
    peer: "the test view",
    post: (message) => {
      sent.host.push(message);
      // Like a webview page that has not loaded yet: early messages are lost.
      if (webviewListening) deliver(webview, message);
    },
    onInvalid: (problem) => problems.host.push(problem),
    requestTimeoutMs: () => options.timeoutMs ?? 1000,
    waitForReady: true,
  });
  const webview: Endpoint<typeof protocol.toWebview, typeof protocol.toHost> = new Endpoint(protocol.toWebview, protocol.toHost, {
    peer: "the extension host",
    post: (message) => {
      sent.webview.push(message);
      deliver(host, message);
    },
    onInvalid: (problem) => problems.webview.push(problem),
    requestTimeoutMs: () => options.timeoutMs ?? 1000,
    waitForReady: false,
  });
  const start = () => {
    webviewListening = true;
    webview.announceReady();
  };
  return { host, webview, problems, sent, start };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("rpc Endpoint", () => {
  it("answers typed requests in both directions once the webview is ready", async () => {
    const { host, webview, start } = pair();
    host.handle("add", ({ a, b }) => a + b);
    webview.handle("echo", ({ text }) => ({ text: text.toUpperCase() }));
    start();
    assert.equal(await webview.request("add", { a: 2, b: 3 }), 5);
    assert.deepEqual(await host.request("echo", { text: "red" }), { text: "RED" });
  });

  it("queues the host's messages until the webview says ready, then delivers them in order", async () => {
    const { host, webview, sent, start } = pair();
    const states: number[] = [];
    webview.on("state", ({ count }) => states.push(count));
    host.notify("state", { count: 1 });
    host.notify("state", { count: 2 });
    await tick();
    assert.equal(sent.host.length, 0, "nothing may be posted before ready");
    assert.equal(host.isReady, false);
    start();
    await tick();
    await tick();
    assert.deepEqual(states, [1, 2]);
    assert.equal(host.isReady, true);
  });

  it("drops a message that is not an envelope, reports it on the host, and keeps working", async () => {
    const { host, webview, problems, start } = pair();
    host.handle("add", ({ a, b }) => a + b);
    start();
    host.receive({ kind: "shout", text: "hello" });
    host.receive("just a string");
    assert.equal(problems.host.length, 2);
    assert.match(problems.host[0]!, /not a valid envelope/);
    assert.match(problems.host[0]!, /kind/);
    assert.equal(await webview.request("add", { a: 1, b: 1 }), 2);
  });

  it("tells the host when the webview rejects a message, so the host can log it", async () => {
    const { webview, problems, start } = pair();
    start();
    await tick();
    webview.receive({ kind: "notification", method: "state", params: { count: "three" } });
    await tick();
    assert.equal(problems.webview.length, 1);
    assert.match(problems.webview[0]!, /invalid params/);
    assert.equal(problems.host.length, 1, "the host hears about the rejection");
    assert.match(problems.host[0]!, /the test view rejected a message: notification "state" with invalid params/);
    assert.match(problems.host[0]!, /count/);
  });

  it("answers a request with invalid params or an unknown method with an error, not silence", async () => {
    const { host, webview, problems, start } = pair();
    host.handle("add", ({ a, b }) => a + b);
    start();
    await assert.rejects(
      webview.request("add", { a: 1, b: "two" } as unknown as { a: number; b: number }),
      /invalid params[\s\S]*b/,
    );
    await assert.rejects(host.request("echo", { text: "x" }), /request "echo", which this side does not handle/);
    host.receive({ kind: "request", id: "99", method: "format disk", params: {} });
    assert.match(problems.host.at(-1)!, /request "format disk", which this side does not handle/);
  });

  it("treats message names that every JavaScript object has as data: dropped and reported, never thrown", async () => {
    const { host, webview, problems, start } = pair();
    host.handle("add", ({ a, b }) => a + b);
    start();
    await tick();
    for (const method of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]) {
      assert.doesNotThrow(() => host.receive({ kind: "notification", method, params: {} }), method);
      assert.doesNotThrow(() => host.receive({ kind: "request", id: `x-${method}`, method, params: {} }), method);
    }
    await tick();
    assert.equal(problems.host.filter((p) => /which (is not in the protocol|this side does not handle)/.test(p)).length, 10, problems.host.join("\n"));
    assert.equal(await webview.request("add", { a: 2, b: 2 }), 4, "and keeps working");
  });

  it("rejects a result that does not match the protocol", async () => {
    const { host, webview, problems, start } = pair();
    host.handle("add", () => "five" as unknown as number);
    start();
    await assert.rejects(webview.request("add", { a: 2, b: 3 }), /invalid result/);
    assert.equal(problems.webview.length, 1);
  });

  it("passes a handler's error back to the caller", async () => {
    const { host, webview, start } = pair();
    host.handle("add", () => {
      throw new Error("no adding today");
    });
    start();
    await assert.rejects(webview.request("add", { a: 1, b: 2 }), /no adding today/);
  });

  it("times out a request nobody answers", async () => {
    const { host } = pair({ timeoutMs: 30 });
    // Ready, but the page never listens: like a webview whose script died.
    host.receive({ kind: "ready" });
    await assert.rejects(host.request("echo", { text: "x" }), /timed out after 30 ms/);
  });

  it("fails requests in flight at once when the webview goes away, and waits for ready again", async () => {
    const { host, webview, sent, start } = pair({ timeoutMs: 5000 });
    webview.handle("echo", () => new Promise<never>(() => {}));
    start();
    await tick();
    const inFlight = host.request("echo", { text: "x" });
    host.disconnect("hidden");
    await assert.rejects(inFlight, /closed before answering \(hidden\)/);
    const before = sent.host.length;
    host.notify("state", { count: 1 });
    assert.equal(sent.host.length, before, "queued until the next ready");
  });
});
