// A Developer/Tester pair that reads its prompt, for orchestration tests: it derives each test
// from an acceptance criterion of the form "`name()` returns N" that it is shown (the ticket's
// criteria, or a reviewer's comment), and the code from the failing test files it is shown. A
// prompt that lost the ticket, the comment or the files makes these pairs fail.
import type { ChatRequest } from "../../src/core/models/types";

const CRITERION = /`(\w+)\(\)` returns (\d+)/g;
const TEST_CALL = /require\('\.\.\/src\/(\w+)\.js'\)\.\w+\(\), (\d+)\)/g;

export const testFile = (name: string, value: string) =>
  `const { test } = require('node:test');\nconst assert = require('node:assert');\ntest('${name} returns ${value}', () => assert.strictEqual(require('../src/${name}.js').${name}(), ${value}));\n`;

function all(request: ChatRequest): string {
  return request.messages.map((m) => m.content).join("\n");
}

/** The Tester: a failing test for the first criterion shown that has no test file yet; "covered" when none is left. */
export function readingTester(request: ChatRequest): string {
  const prompt = all(request);
  const open = [...prompt.matchAll(CRITERION)].find(([, name]) => !prompt.includes(`--- test/${name}.test.js`));
  if (/needs a human/.test(prompt)) return JSON.stringify({ status: "needs_clarification", criterion: "", note: "Which value do you mean?", edits: [] });
  if (!open) return JSON.stringify({ status: "covered", criterion: "", note: "", edits: [] });
  const [, name, value] = open;
  return JSON.stringify({ status: "test", criterion: `${name}() returns ${value}`, note: "", edits: [{ path: `test/${name}.test.js`, content: testFile(name!, value!) }] });
}

/** The Developer: code for every test file it is shown; skips every refactor. */
export function readingDeveloper(request: ChatRequest): string {
  const system = request.messages[0]?.content ?? "";
  if (/refactor step/.test(system)) return JSON.stringify({ status: "skip", note: "", edits: [] });
  const edits = [...all(request).matchAll(TEST_CALL)].map(([, name, value]) => ({ path: `src/${name}.js`, content: `exports.${name} = () => ${value};\n` }));
  return JSON.stringify({ status: "code", note: "", edits: [...new Map(edits.map((e) => [e.path, e])).values()] });
}

/** Enough replies for any test: the same function, again and again. */
export const forever = <T>(reply: T): T[] => Array.from({ length: 500 }, () => reply);
