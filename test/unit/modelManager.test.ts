import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as z from "zod";
import { CancelledError, grammarSafe, GRAMMAR_MAX_LENGTH, ModelManager, ModelNotConfiguredError, ModelReplyError } from "../../src/core/models/manager";
import { planSchema } from "../../src/core/agents/architect";
import { specEditSchema } from "../../src/core/agents/pm";
import { parseRegistry, type RegistryInput } from "../../src/core/models/registry";
import { registryJsonSchema } from "../../src/core/models/registrySchema";
import { FakeClock, ScriptedBackend } from "../fakes/scriptedBackend";

const registryInput: RegistryInput = {
  models: [
    { id: "small", backend: "local", path: "/m/small.gguf", poolSize: 2 },
    { id: "code", backend: "local", path: "/m/code.gguf" },
    { id: "heavy", backend: "local", path: "/m/heavy.gguf", profile: "heavy", idleTtlSeconds: 120 },
    { id: "embed", backend: "local", path: "/m/embed.gguf", embedding: true },
  ],
  roles: {
    pm: { model: "small", fallback: "heavy" },
    architect: { model: "heavy" },
    developer: { model: "code" },
    embedding: { model: "embed" },
  },
};

const verdict = z.object({ verdict: z.enum(["approve", "reject"]) });
const flush = () => new Promise((resolve) => setImmediate(resolve));

function setup(replies: Record<string, (string | Error)[]>) {
  const backend = new ScriptedBackend(replies);
  const clock = new FakeClock();
  const manager = new ModelManager(parseRegistry(registryInput, "test"), { local: backend }, { defaultThreads: () => 2, clock });
  return { backend, clock, manager };
}

describe("ModelManager", () => {
  it("routes each role to its model and loads a small model once", async () => {
    const { backend, manager } = setup({ small: ["a", "b"], code: ["c"] });
    assert.equal((await manager.ask("pm", { messages: [{ role: "user", content: "hi" }] })).text, "a");
    assert.equal((await manager.ask("pm", { messages: [{ role: "user", content: "hi" }] })).text, "b");
    assert.equal((await manager.ask("developer", { messages: [{ role: "user", content: "hi" }] })).model, "code");
    assert.deepEqual(backend.loads, ["small", "code"]);
  });

  it("says which role has no model and what to do, instead of failing obscurely", async () => {
    const { manager } = setup({});
    await assert.rejects(manager.ask("tester", { messages: [{ role: "user", content: "x" }] }), (error: Error) => {
      assert.ok(error instanceof ModelNotConfiguredError);
      assert.match(error.message, /No model is configured for the Tester role\. Run "Redgreen: Select Model Files…"/);
      return true;
    });
    const routedToNothing = new ModelManager(
      parseRegistry({ roles: { pm: { model: "reasoning" } } }, "test"),
      { local: new ScriptedBackend({}) },
      { defaultThreads: () => 2 },
    );
    await assert.rejects(
      routedToNothing.ask("pm", { messages: [{ role: "user", content: "x" }] }),
      /PM role uses the model "reasoning", which has no model file yet\. Run "Redgreen: Select Model Files…"/,
    );
  });

  it("validates structured replies, retries, then escalates to the fallback, recording every attempt", async () => {
    const { backend, manager } = setup({ small: ["not json", '{"verdict":"maybe"}'], heavy: ['{"verdict":"approve"}'] });
    const result = await manager.ask("pm", { messages: [{ role: "user", content: "ok?" }] }, { schema: verdict });
    assert.deepEqual(result.value, { verdict: "approve" });
    assert.equal(result.model, "heavy");
    assert.deepEqual(result.attempts.map((a) => [a.model, a.outcome, a.escalated]), [
      ["small", "invalid", false], ["small", "invalid", false], ["heavy", "ok", true],
    ]);
    assert.match(result.attempts[0]!.problem!, /not JSON/);
    assert.match(result.attempts[1]!.problem!, /verdict/);
    // Generation was constrained by a grammar from the same schema.
    assert.deepEqual((backend.calls[0]!.request.jsonSchema as { required: string[] }).required, ["verdict"]);
  });

  it("escalates when the caller's check rejects a valid reply, and gives up with every attempt listed", async () => {
    const { manager } = setup({ small: ['{"verdict":"reject"}', '{"verdict":"reject"}'], heavy: ['{"verdict":"reject"}', new Error("host down")] });
    await assert.rejects(
      manager.ask("pm", { messages: [{ role: "user", content: "ok?" }] }, { schema: verdict, isSatisfactory: (v) => v.verdict === "approve" }),
      (error: Error) => {
        assert.ok(error instanceof ModelReplyError);
        assert.equal(error.attempts.length, 4);
        assert.match(error.message, /PM got no acceptable reply after 4 attempts: small: unsatisfactory.*heavy: error \(host down\)/);
        return true;
      },
    );
  });

  it("does not retry a cancelled call", async () => {
    const { backend, manager } = setup({ small: ["a", "b"] });
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(manager.ask("pm", { messages: [{ role: "user", content: "x" }] }, { signal: abort.signal }), CancelledError);
    assert.equal(backend.calls.length, 1);
  });

  it("serializes calls to the heavy model behind one lock, while a small model serves calls at once", async () => {
    const { backend, manager } = setup({ heavy: ["1", "2"], small: ["3", "4"] });
    let open!: () => void;
    backend.gate = new Promise((resolve) => (open = resolve));
    const heavyCalls = Promise.all([1, 2].map(() => manager.ask("architect", { messages: [{ role: "user", content: "plan" }] })));
    await flush();
    assert.equal(backend.maxActive, 1, "the second heavy call waits for the first");
    open();
    await heavyCalls;
    backend.maxActive = 0;
    backend.gate = new Promise((resolve) => (open = resolve));
    const smallCalls = Promise.all([1, 2].map(() => manager.ask("pm", { messages: [{ role: "user", content: "hi" }] })));
    await flush();
    assert.equal(backend.maxActive, 2, "small calls run together");
    open();
    await smallCalls;
  });

  it("evicts the heavy model after its idle TTL, and a call in between restarts the countdown", async () => {
    const { backend, clock, manager } = setup({ heavy: ["1", "2", "3"] });
    const ask = () => manager.ask("architect", { messages: [{ role: "user", content: "plan" }] });
    await ask();
    clock.advance(100_000);
    await ask();
    clock.advance(100_000);
    await flush();
    assert.deepEqual(backend.unloads, [], "used 100 s ago: still loaded");
    clock.advance(20_001);
    await flush();
    await flush();
    assert.deepEqual(backend.unloads, ["heavy"]);
    assert.deepEqual(manager.snapshot().loaded, []);
    await ask();
    assert.deepEqual(backend.loads, ["heavy", "heavy"], "loaded again on demand");
  });

  it("asks for room before it loads a heavy model, and unloads for another only a heavy model no call uses", async () => {
    const backend = new ScriptedBackend({ heavy: ["1", "2", "3"], small: ["s"] });
    const events: string[] = [];
    const makeRoom = (residency: string) => {
      events.push(`room for ${residency} (loaded: ${backend.loads.length - backend.unloads.length})`);
      return Promise.resolve();
    };
    const registry = parseRegistry(registryInput, "test");
    const one = new ModelManager(registry, { local: backend }, { defaultThreads: () => 2, makeRoom });
    const other = new ModelManager(registry, { local: backend }, { defaultThreads: () => 2 });
    await one.ask("pm", { messages: [{ role: "user", content: "hi" }] });
    await one.ask("architect", { messages: [{ role: "user", content: "plan" }] });
    await one.ask("architect", { messages: [{ role: "user", content: "plan" }] });
    assert.deepEqual(events, ["room for file /m/heavy.gguf (loaded: 1)"], "once, before the load, and not for a small model");
    const counting = new ModelManager(registry, { local: backend }, { defaultThreads: () => 2, makeRoom });
    await counting.countTokens("architect", "how long is this");
    assert.equal(events.length, 2, "a token count that loads the heavy model makes room first too");
    let open!: () => void;
    backend.gate = new Promise((resolve) => (open = resolve));
    const inCall = one.ask("architect", { messages: [{ role: "user", content: "plan" }] });
    await flush();
    assert.equal(await one.unloadIdle("file /m/heavy.gguf"), false, "in a call: it stays");
    assert.equal(await other.unloadIdle("file /m/heavy.gguf"), true, "another manager holds none of it");
    assert.deepEqual(backend.unloads, []);
    open();
    await inCall;
    assert.equal(await one.unloadIdle("file /m/heavy.gguf"), true);
    assert.deepEqual(backend.unloads, ["heavy"]);
    assert.deepEqual(one.loadedResidencies(), ["file /m/small.gguf"]);
  });

  it("loads models again after the backend lost them (host restart)", async () => {
    const { backend, manager } = setup({ small: ["a", "b"] });
    await manager.ask("pm", { messages: [{ role: "user", content: "x" }] });
    backend.reset();
    await manager.ask("pm", { messages: [{ role: "user", content: "x" }] });
    assert.deepEqual(backend.loads, ["small", "small"]);
  });

  it("records tokens, latency and outcome per call, as events and as totals", async () => {
    const { manager } = setup({ small: ["not json", '{"verdict":"approve"}'] });
    const seen: string[] = [];
    manager.onDidRecord((r) => seen.push(`${r.model}:${r.outcome}:${r.ticketId}`));
    await manager.ask("pm", { messages: [{ role: "user", content: "x" }] }, { schema: verdict, ticketId: "T-1" });
    assert.deepEqual(seen, ["small:invalid:T-1", "small:ok:T-1"]);
    const stats = manager.snapshot().models.small!;
    assert.deepEqual([stats.calls, stats.ok, stats.promptTokens, stats.completionTokens], [2, 1, 10, 6]);
  });

  it("caps each reply at its role's maxTokens, whatever the agent asks for, and leaves other roles alone", async () => {
    const backend = new ScriptedBackend({ heavy: ["plan", "plan"], code: ["code"] });
    const capped: RegistryInput = { ...registryInput, roles: { ...registryInput.roles, architect: { model: "heavy", maxTokens: 300 } } };
    const manager = new ModelManager(parseRegistry(capped, "test"), { local: backend }, { defaultThreads: () => 2 });
    await manager.ask("architect", { messages: [{ role: "user", content: "plan" }], maxTokens: 3000 });
    await manager.ask("architect", { messages: [{ role: "user", content: "plan" }], maxTokens: 100 });
    await manager.ask("developer", { messages: [{ role: "user", content: "code" }], maxTokens: 2500 });
    assert.deepEqual(backend.calls.map((c) => [c.model, c.request.maxTokens]), [["heavy", 300], ["heavy", 100], ["code", 2500]]);
    // A cap above the default never raises a request that asked for nothing.
    const generous = new ModelManager(parseRegistry({ ...registryInput, roles: { pm: { model: "small", maxTokens: 4000 } } }, "test"), { local: backend }, { defaultThreads: () => 2 });
    backend.script("small", ["hi"]);
    await generous.ask("pm", { messages: [{ role: "user", content: "hi" }] });
    assert.equal(backend.calls.at(-1)?.request.maxTokens, 512);
    assert.throws(() => parseRegistry({ roles: { architect: { model: "heavy", maxTokens: 0 } } }, "test"), /roles\.architect\.maxTokens/);
  });

  it("embeds and counts tokens through the role's model", async () => {
    const { manager } = setup({});
    assert.deepEqual(await manager.embed(["abc", "de"]), [[3], [2]]);
    assert.equal(await manager.countTokens("pm", "one two three"), 3);
  });
});

describe("model registry", () => {
  it("fills in defaults", () => {
    const registry = parseRegistry(registryInput, "test");
    const small = registry.models[0]!;
    assert.equal(small.contextSize, 4096);
    assert.equal(small.profile, "small");
    assert.equal(registry.models[2]!.idleTtlSeconds, 120);
  });

  it("names the source, the path and the problem of an invalid registry", () => {
    assert.throws(
      () => parseRegistry({ models: [{ id: "a", backend: "local", path: "/a" }, { id: "a", backend: "local", path: "/b" }], roles: { pm: { model: "" } } }, ".redgreen/models.json"),
      /registry in \.redgreen\/models\.json is invalid:[\s\S]*roles\.pm\.model[\s\S]*duplicate model id "a"[\s\S]*models\[1\]\.id/,
    );
    assert.throws(() => parseRegistry({ models: [{ id: "x", backend: "ftp" }] }, "settings"), /models\[0\]|models\.0|backend/);
  });
});

describe("registry files", () => {
  const root = path.resolve(__dirname, "..", "..", "..");

  it("ships a default registry that routes every role as SPEC-001 says", () => {
    const registry = parseRegistry(JSON.parse(readFileSync(path.join(root, "models", "registry.json"), "utf8")), "models/registry.json");
    assert.deepEqual(registry.roles.pm, { model: "reasoning", fallback: "heavy" });
    assert.equal(registry.roles.architect?.model, "heavy");
    assert.equal(registry.roles.developer?.model, registry.roles.tester?.model);
    assert.equal(registry.roles.resourceDirector?.model, "reasoning");
  });

  it("publishes a JSON schema that matches the zod schema (run npm run schema if this fails)", () => {
    const published: unknown = JSON.parse(readFileSync(path.join(root, "models", "registry.schema.json"), "utf8"));
    assert.deepEqual(published, registryJsonSchema());
  });

  it("sends llama.cpp no length limit it refuses (2,000+ repetitions), and still enforces it on the reply", async () => {
    const limits = (schema: unknown): number[] => JSON.stringify(schema).match(/"max(?:Length|Items)":\d+/g)?.map((m) => Number(m.split(":")[1])) ?? [];
    for (const schema of [planSchema, specEditSchema]) {
      const sent = grammarSafe(z.toJSONSchema(schema));
      assert.ok(limits(sent).every((n) => n <= GRAMMAR_MAX_LENGTH), `limits sent: ${limits(sent).join(", ")}`);
      assert.ok(limits(sent).length > 0, "the small limits stay");
    }
    assert.ok(limits(z.toJSONSchema(specEditSchema)).includes(8000), "the spec edit's own limit is larger");
    const { manager } = setup({ small: [JSON.stringify({ summary: "s", section: "Must have", text: "x".repeat(8001) }), JSON.stringify({ summary: "s", section: "Must have", text: "ok" })] });
    const { value, attempts } = await manager.ask("pm", { messages: [{ role: "user", content: "edit" }] }, { schema: specEditSchema });
    assert.equal(value.text, "ok");
    assert.deepEqual(attempts.map((a) => a.outcome), ["invalid", "ok"]);
  });
});
