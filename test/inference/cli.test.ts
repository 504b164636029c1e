// The command line on a real local model: `redgreen` as a real process starts its own model host
// (node-llama-cpp) on the generated random-weight chat model from the user's registry in its data
// folder. Random weights cannot write a plan, so what is tested is that the run is bounded and
// honest: the Architect's replies are capped by the role's maxTokens, the attempts end, the
// failure is said (exit codes, JSON shapes), and nothing in the repository changes.
import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { initOutput, planOutput, runOutput, statusOutput } from "../../src/cli/schemas";
import { BUILT_CLI, cliIn, gitIn, parsed, type Run } from "../cli/harness";
import { chatModel } from "../fixtures/models/makeModels";

/** Fewer tokens than the smallest valid plan takes, so every attempt is cut off and refused. */
const ARCHITECT_CAP = 48;

const spec = `# Answers: specification

## Requirements

- **R-1**: The answer is 42.
  - Acceptance: \`answer()\` returns 42.
`;

describe("redgreen on the generated random-weight model (real model host)", function () {
  this.timeout(240_000);
  const root = path.join(os.tmpdir(), `redgreen-cli-inference-${process.pid}`);
  const home = path.join(root, "home");
  const data = path.join(home, "data");
  const folder = path.join(home, "answers");
  let rg: (...args: string[]) => Run;

  before(async () => {
    await fs.rm(root, { recursive: true, force: true });
    await fs.mkdir(data, { recursive: true });
    const modelPath = await chatModel();
    const local = (id: string) => ({ id, backend: "local", path: modelPath, contextSize: 2048, threads: 2, profile: id === "heavy" ? "heavy" : "small" });
    const registry = {
      models: ["reasoning", "heavy", "code"].map(local),
      roles: { architect: { model: "heavy", fallback: "reasoning", maxTokens: ARCHITECT_CAP }, tester: { model: "code", maxTokens: 64 }, developer: { model: "code", maxTokens: 64 } },
    };
    await fs.writeFile(path.join(data, "models.json"), `// the user's registry\n${JSON.stringify(registry, null, 2)}\n`);
    await fs.writeFile(path.join(data, "settings.json"), `{ "redgreen.models.threads": 2 }\n`);
    // The built CLI itself (no build runs beside the inference suite): it starts dist/modelHost.js,
    // which finds node-llama-cpp in this repository's node_modules.
    const sync = cliIn(BUILT_CLI, home);
    rg = (...args) => sync(["--data", data, ...args], { timeout: 200_000 });

    assert.equal(rg("trust", folder).code, 0);
    parsed(initOutput, rg("init", folder, "--name", "Answers", "--test-command", "node --test", "--json"));
    await fs.writeFile(path.join(folder, "SPEC.md"), spec);
    const approved = rg("spec", "approve", folder);
    assert.equal(approved.code, 0, approved.stderr);
  });
  after(async () => {
    rg("engine", "stop");
    await fs.rm(root, { recursive: true, force: true });
  });

  it("plan: the Architect's capped replies are refused, attempts end, exit 1 with the reason; no ticket, no branch", () => {
    const before = gitIn(folder, "for-each-ref", "--format=%(refname)");
    const planned = rg("plan", folder, "--json");
    assert.equal(planned.code, 1, planned.stderr);
    const output = planOutput.parse(JSON.parse(planned.stdout));
    assert.equal(output.outcome, "failed");
    const message = output.message ?? "";
    assert.match(message, /The Architect got no acceptable reply after 4 attempts: heavy: /);
    // Each attempt reached the model and was refused for what it said, not for a failing host.
    assert.doesNotMatch(message, /: error \(/, message);
    assert.equal(output.tickets, 0);
    assert.equal(gitIn(folder, "for-each-ref", "--format=%(refname)"), before, "no branch was made");
    assert.equal(gitIn(folder, "status", "--porcelain"), "", "the user's working tree is untouched");
  });

  it("run: plans by itself, says the planning failed on stderr, and exits 2 (the project waits for the human)", () => {
    const ran = rg("run", folder, "--json");
    assert.equal(ran.code, 2, ran.stderr);
    const output = runOutput.parse(JSON.parse(ran.stdout));
    assert.equal(output.state, "approved");
    assert.deepEqual(output.tickets.todo, []);
    assert.match(ran.stderr, /Planning "Answers" failed: The Architect could not plan "Answers": The Architect got no acceptable reply after 4 attempts: heavy: invalid/);
    const status = parsed(statusOutput, rg("status", folder, "--json"));
    assert.equal(status.project.state, "approved");
  });
});
