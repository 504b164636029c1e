import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileDiff } from "../../src/cli/unifiedDiff";
import { parseJsonc } from "../../src/adapters/dataFolder/jsonc";

// The CLI's diffs are patches git itself can apply: each random edit, diffed, then applied by
// `git apply` to the old text, gives back the new text exactly.
describe("CLI unified diffs", function () {
  this.timeout(30_000);
  const dir = path.join(os.tmpdir(), `redgreen-cli-diff-${process.pid}`);
  after(() => fs.rm(dir, { recursive: true, force: true }));

  let seed = 7;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % below;
  };
  const text = (count: number) => Array.from({ length: count }, () => `line ${random(6)}\n`).join("");
  const edit = (before: string) => {
    const lines = before.split(/(?<=\n)/).filter(Boolean);
    for (let i = random(5); i >= 0; i--) {
      const at = random(lines.length + 1);
      if (random(2)) lines.splice(at, 1);
      else lines.splice(at, 0, `new ${random(100)}\n`);
    }
    const after = lines.join("");
    return random(4) === 0 ? after.replace(/\n$/, "") : after;
  };

  it("turns the old text into the new one when git applies it", async () => {
    await fs.mkdir(dir, { recursive: true });
    for (let round = 0; round < 40; round++) {
      const before = text(random(30));
      const after = edit(before);
      const file = `f${round}.txt`;
      await fs.writeFile(path.join(dir, file), before);
      const patch = fileDiff(file, before, after);
      if (before === after) {
        assert.equal(patch, "");
        continue;
      }
      execFileSync("git", ["apply", "-"], { cwd: dir, input: patch });
      assert.equal(await fs.readFile(path.join(dir, file), "utf8"), after, patch);
    }
  });

  it("names added files and binary content as git does", () => {
    assert.equal(fileDiff("a.txt", undefined, "x\n"), "diff --git a/a.txt b/a.txt\n--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1 @@\n+x\n");
    assert.equal(fileDiff("a.txt", "x", "y"), "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at end of file\n");
    assert.match(fileDiff("b.bin", "a\0b", "a\0c"), /Binary files a\/b.bin and b\/b.bin differ/);
  });

  it("reads JSON with comments and trailing commas, leaving strings alone", () => {
    assert.deepEqual(parseJsonc(`{ // note\n "a": "x // y, }", /* b */ "b": [1, 2,], }`), { a: "x // y, }", b: [1, 2] });
  });
});
