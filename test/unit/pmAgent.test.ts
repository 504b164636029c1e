import * as assert from "node:assert/strict";
import { applySpecEdit, PmAgent } from "../../src/core/agents/pm";
import { CORE_PRINCIPLES } from "../../src/core/agents/principles";
import { ModelManager, ModelReplyError } from "../../src/core/models/manager";
import { parseRegistry } from "../../src/core/models/registry";
import { specTemplate } from "../../src/core/spec/spec";
import { FakeClock, ScriptedBackend } from "../fakes/scriptedBackend";

// The PM's orchestration through a real ModelManager over scripted replies: which calls it makes
// for each intent, and what it does with replies that are not valid JSON.
function pm(replies: { small?: (string | Error)[]; heavy?: (string | Error)[] }) {
  const backend = new ScriptedBackend({ small: replies.small ?? [], heavy: replies.heavy ?? [] });
  const registry = parseRegistry({
    models: [{ id: "small", backend: "local", path: "/m/small.gguf" }, { id: "heavy", backend: "local", path: "/m/heavy.gguf", profile: "heavy" }],
    roles: { pm: { model: "small", fallback: "heavy" } },
  }, "test");
  const manager = new ModelManager(registry, { local: backend }, { defaultThreads: () => 2, clock: new FakeClock() });
  return { backend, agent: new PmAgent(manager) };
}

const input = { projectName: "Shop", spec: specTemplate("Shop"), history: [{ from: "human", text: "Hi" }, { from: "pm", text: "Hello!" }], message: "" };

describe("PM agent", () => {
  it("classifies, then streams an answer to a question, with the principles and the spec in its prompt", async () => {
    const { agent, backend } = pm({ small: ['{"intent":"question"}', "R-1 comes first."] });
    const tokens: string[] = [];
    const result = await agent.turn({ ...input, message: "What comes first?", onToken: (t) => tokens.push(t) });
    assert.deepEqual(result, { intent: "question", reply: "R-1 comes first.", stopped: false });
    assert.deepEqual(tokens, ["R-1 comes first."]);
    assert.equal(backend.calls.length, 2);
    const [classify, answer] = backend.calls;
    assert.ok(classify!.request.jsonSchema, "the classification is constrained by a JSON schema");
    assert.equal(answer!.request.jsonSchema, undefined);
    const system = answer!.request.messages[0]!.content;
    assert.ok(system.startsWith(CORE_PRINCIPLES));
    assert.match(system, /Project Manager/);
    assert.match(system, /### Must have/);
    assert.deepEqual(answer!.request.messages.slice(1, 3).map((m) => m.role), ["user", "assistant"]);
  });

  it("for a change, proposes a validated structured edit; for an approval, proposes nothing", async () => {
    const edit = { summary: "Add gift cards", section: "Should have", text: "- **R-2**: Gift cards." };
    const changing = pm({ small: ['{"intent":"change"}', "I will add gift cards.", JSON.stringify(edit)] });
    const phases: string[] = [];
    assert.deepEqual((await changing.agent.turn({ ...input, message: "add gift cards", onPhase: (phase) => phases.push(phase) })).proposal, edit);
    assert.deepEqual(phases, ["classifying", "answering", "drafting"], "each phase is told before its model call");
    const approving = pm({ small: ['{"intent":"approve"}', "Confirm with the button."] });
    phases.length = 0;
    const result = await approving.agent.turn({ ...input, message: "looks good", onPhase: (phase) => phases.push(phase) });
    assert.deepEqual(phases, ["classifying", "answering"]);
    assert.equal(result.intent, "approve");
    assert.equal(result.proposal, undefined);
    assert.equal(approving.backend.calls.length, 2);
  });

  it("retries a classification that is not valid JSON, escalates, then reports every attempt", async () => {
    const { agent } = pm({ small: ["sure!", '{"intent":"maybe"}'], heavy: ["{", '{"mood":"approve"}'] });
    await assert.rejects(agent.turn({ ...input, message: "ok?" }), (error: Error) => {
      assert.ok(error instanceof ModelReplyError);
      assert.equal(error.attempts.length, 4);
      assert.ok(error.attempts.every((a) => a.outcome === "invalid"));
      return true;
    });
  });

  it("recovers when a retry gives valid JSON", async () => {
    const { agent } = pm({ small: ["not json", '{"intent":"other"}', "Could you say more?"] });
    assert.equal((await agent.turn({ ...input, message: "hmm" })).intent, "other");
  });

  it("ends the turn as stopped when cancelled at any step, without proposing anything", async () => {
    const { agent, backend } = pm({ small: ['{"intent":"change"}', "partial", "{}"] });
    const controller = new AbortController();
    let release!: () => void;
    backend.gate = new Promise((resolve) => (release = resolve));
    const turn = agent.turn({ ...input, message: "change it", signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    release();
    assert.deepEqual(await turn, { intent: "other", reply: "", stopped: true });
    assert.equal(backend.calls.length, 1, "no step after the cancelled one");
  });
});

describe("applySpecEdit", () => {
  const spec = specTemplate("Shop");

  it("replaces the body of the named section and leaves the rest as it was", () => {
    const next = applySpecEdit(spec, { summary: "s", section: "Should have", text: "- **R-2**: Gift cards." });
    assert.match(next, /### Should have\n\n- \*\*R-2\*\*: Gift cards\.\n\n### Could have/);
    assert.ok(!next.includes("Something important but not vital"));
    assert.equal(next.replace(/### Should have[\s\S]*?(?=### Could have)/, ""), spec.replace(/### Should have[\s\S]*?(?=### Could have)/, ""));
  });

  it("matches headings whatever their level markers or case, and appends a section it does not find", () => {
    assert.match(applySpecEdit(spec, { summary: "s", section: "## background", text: "New background." }), /## Background\n\nNew background\.\n\n## Requirements/);
    const added = applySpecEdit(spec, { summary: "s", section: "Glossary", text: "- SKU: a stock unit." });
    assert.ok(added.endsWith("## Glossary\n\n- SKU: a stock unit.\n"));
    assert.ok(added.startsWith(spec.trimEnd()));
  });
});
