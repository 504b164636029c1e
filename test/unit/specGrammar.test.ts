// The spec injection grammar, tokenized by the engine VS Code uses (vscode-textmate on
// Oniguruma), over a small stand-in for Markdown's grammar with fenced code and inline code.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as oniguruma from "vscode-oniguruma";
import * as textmate from "vscode-textmate";

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const injection = JSON.parse(readFileSync(path.join(repoRoot, "syntaxes", "spec.injection.tmLanguage.json"), "utf8")) as textmate.IRawGrammar;
const markdown = {
  scopeName: "text.html.markdown",
  patterns: [
    { begin: "^```", end: "^```", name: "markup.fenced_code.block.markdown" },
    { match: "`[^`]*`", name: "markup.inline.raw.string.markdown" },
  ],
} as unknown as textmate.IRawGrammar;

async function loadGrammar(): Promise<textmate.IGrammar> {
  const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
    loadGrammar: (scope) => Promise.resolve(scope === "text.html.markdown" ? markdown : scope === injection.scopeName ? injection : null),
    getInjections: (scope) => (scope === "text.html.markdown" ? [injection.scopeName] : undefined),
  });
  const grammar = await registry.loadGrammar("text.html.markdown");
  assert.ok(grammar);
  return grammar;
}

/** The [text, our scope] pairs of each line that got one of our scopes. */
function ours(grammar: textmate.IGrammar, text: string): [string, string][] {
  let state = textmate.INITIAL;
  const found: [string, string][] = [];
  for (const line of text.split("\n")) {
    const result = grammar.tokenizeLine(line, state);
    for (const token of result.tokens) {
      const scope = token.scopes.find((s) => s.endsWith(".redgreen"));
      if (scope) found.push([line.slice(token.startIndex, token.endIndex), scope.split(".").slice(0, -1).join(".")]);
    }
    state = result.ruleStack;
  }
  return found;
}

describe("spec grammar", () => {
  let grammar: textmate.IGrammar;
  before(async () => (grammar = await loadGrammar()));

  it("highlights requirement ids, ticket and functionality references and MoSCoW keywords", () => {
    assert.deepEqual(ours(grammar, "### Must have\n- **R-12**: checkout MUST work (see T-3, F-2)."), [
      ["Must have", "keyword.other.moscow"],
      ["R-12", "constant.numeric.requirement-id"],
      ["MUST", "keyword.other.moscow"],
      ["T-3", "entity.name.tag.ticket-ref"],
      ["F-2", "entity.name.tag.ticket-ref"],
    ]);
    assert.deepEqual(ours(grammar, "### Won't have (this time)"), [["Won't have", "keyword.other.moscow"]]);
  });

  it("leaves ordinary words, look-alikes and code alone", () => {
    assert.deepEqual(ours(grammar, "We must ship. CR-12 and R-x are not ids. MUSTARD is food."), []);
    assert.deepEqual(ours(grammar, "Inline `R-1 MUST` code.\n```\nR-2 SHOULD\n```\nR-3"), [["R-3", "constant.numeric.requirement-id"]]);
  });
});
