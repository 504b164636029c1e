// The team's models in the real editor: a scripted OpenAI-compatible server on loopback that
// reads its prompts (the test comes from the criterion the Tester is shown, the code from the test
// file the Developer is shown), set as every model of the user's registry.
import * as vscode from "vscode";
import type { startScriptedOpenAi, ScriptedRequest } from "../fixtures/scriptedOpenAi";
import { activateRedgreen } from "./harness";

const PLAN = { functionalities: [{ name: "Math", tickets: [{ key: "T1", title: "Sum", description: "", goal: "Add two numbers.", acceptanceCriteria: ["sum(2, 3) is 5"], requirementIds: ["R-1"], severity: "high", estimateHours: 1, dependsOn: [] }] }] };
const CRITERION = /sum\((\d+), (\d+)\) is (\d+)/;
const testOf = (a: string, b: string, total: string) =>
  `const { test } = require('node:test');\nconst assert = require('node:assert');\nconst { sum } = require('../src/sum.js');\ntest('adds two numbers', () => assert.strictEqual(sum(${a}, ${b}), ${total}));\n`;

/** Which agent asks is told by the reply schema: plan (functionalities), Tester (criterion), refactor, Developer. Each reads its prompt. */
export function answer(request: ScriptedRequest, developerNote = "the least code that passes"): string {
  const properties = request.schema?.properties ?? {};
  const prompt = request.messages.map((m) => m.content).join("\n");
  if ("functionalities" in properties) return JSON.stringify(PLAN);
  if ("criterion" in properties) {
    if (prompt.includes("--- test/sum.test.js")) return JSON.stringify({ status: "covered", criterion: "", note: "sum is covered", edits: [] });
    const [criterion, a, b, total] = CRITERION.exec(prompt) ?? [];
    if (!criterion) return JSON.stringify({ status: "needs_clarification", criterion: "", note: "I was not shown a criterion", edits: [] });
    return JSON.stringify({ status: "test", criterion, note: "", edits: [{ path: "test/sum.test.js", content: testOf(a!, b!, total!) }] });
  }
  const statuses = JSON.stringify(properties.status ?? "");
  if (statuses.includes("refactor")) return JSON.stringify({ status: "skip", note: "", edits: [] });
  // The Developer writes sum() only when it was shown the failing test that calls it.
  if (!/--- test\/sum\.test\.js[\s\S]*sum\(2, 3\)/.test(prompt)) return JSON.stringify({ status: "blocked", note: "I was not shown the failing test", edits: [] });
  return JSON.stringify({ status: "code", note: developerNote, edits: [{ path: "src/sum.js", content: "exports.sum = (a, b) => a + b;\n" }] });
}

/** The scripted server as every model of the registry (the team's roles fall back to them); cleared by the returned function. */
export async function useScriptedModels(server: Awaited<ReturnType<typeof startScriptedOpenAi>>): Promise<() => Promise<void>> {
  const { models } = await activateRedgreen();
  const config = vscode.workspace.getConfiguration("redgreen");
  const model = (id: string) => ({ id, backend: "openai", url: server.url, model: "scripted" });
  await config.update("models.registry", { models: [model("heavy"), model("code")] }, vscode.ConfigurationTarget.Global);
  await models.reload();
  return async () => {
    await vscode.workspace.getConfiguration("redgreen").update("models.registry", undefined, vscode.ConfigurationTarget.Global);
    await server.close();
  };
}

