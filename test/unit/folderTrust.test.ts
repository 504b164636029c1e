import * as assert from "node:assert/strict";
import { FolderTrust, isInside, type AnswerStore } from "../../src/core/folderTrust";

/** globalState as a map, shared between "sessions" to show an answer outlives one. */
class MemoryStore implements AnswerStore {
  readonly values = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.values.get(key) as T | undefined;
  }
  update(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
    return Promise.resolve();
  }
}

function trust(answers: MemoryStore, replies: (boolean | undefined)[], workspaceTrusted = true) {
  const asked: string[] = [];
  const folderTrust = new FolderTrust({
    workspaceTrusted: () => workspaceTrusted,
    workspaceFolders: () => ["/work/app"],
    answers,
    ask: (folder) => {
      asked.push(folder);
      return Promise.resolve(replies.shift());
    },
  });
  return { folderTrust, asked };
}

describe("project folder trust", () => {
  it("trusts the workspace's folders and those inside them without asking", async () => {
    const { folderTrust, asked } = trust(new MemoryStore(), []);
    assert.deepEqual(await folderTrust.decide("/work/app"), { trusted: true });
    assert.deepEqual(await folderTrust.decide("/work/app/packages/api"), { trusted: true });
    assert.deepEqual(asked, []);
  });

  it("asks once for a project outside the workspace and remembers the answer in the next session", async () => {
    const answers = new MemoryStore();
    const first = trust(answers, [true]);
    assert.deepEqual(await first.folderTrust.decide("/home/me/shop"), { trusted: true });
    assert.deepEqual(await first.folderTrust.decide("/home/me/shop/"), { trusted: true });
    assert.deepEqual(first.asked, ["/home/me/shop"]);
    const next = trust(answers, []);
    assert.deepEqual(await next.folderTrust.decide("/home/me/shop"), { trusted: true });
    assert.deepEqual(next.folderTrust.known("/home/me/shop/.redgreen/worktrees/shop-1"), { trusted: true }, "a kept answer covers the folders inside");
    assert.deepEqual(next.asked, []);
  });

  it("remembers a no per folder, and asks again after a dismissed question", async () => {
    const answers = new MemoryStore();
    const { folderTrust, asked } = trust(answers, [false, undefined, true]);
    assert.deepEqual(await folderTrust.decide("/srv/cloned"), { trusted: false, why: "refused" });
    assert.deepEqual(await folderTrust.decide("/srv/cloned"), { trusted: false, why: "refused" });
    assert.deepEqual(await folderTrust.decide("/srv/other"), { trusted: false, why: "dismissed" });
    assert.equal(folderTrust.known("/srv/other"), undefined);
    assert.deepEqual(await folderTrust.decide("/srv/other"), { trusted: true });
    assert.deepEqual(asked, ["/srv/cloned", "/srv/other", "/srv/other"]);
  });

  it("asks one question when two commands want the same folder at once", async () => {
    const { folderTrust, asked } = trust(new MemoryStore(), [true]);
    const both = await Promise.all([folderTrust.decide("/home/me/shop"), folderTrust.decide("/home/me/shop")]);
    assert.deepEqual(both, [{ trusted: true }, { trusted: true }]);
    assert.equal(asked.length, 1);
  });

  it("runs nothing from an untrusted workspace, not even in a folder trusted before", async () => {
    const answers = new MemoryStore();
    await trust(answers, []).folderTrust.remember("/home/me/shop", true);
    const { folderTrust, asked } = trust(answers, [], false);
    assert.deepEqual(await folderTrust.decide("/home/me/shop"), { trusted: false, why: "workspace" });
    assert.deepEqual(await folderTrust.decide("/work/app"), { trusted: false, why: "workspace" });
    assert.deepEqual(asked, []);
  });

  it("tells inside from beside", () => {
    assert.ok(isInside("/a/b/c", "/a/b"));
    assert.ok(isInside("/a/b", "/a/b/"));
    assert.ok(!isInside("/a/bc", "/a/b"));
    assert.ok(!isInside("/a", "/a/b"));
    assert.ok(isInside("/a/b/..c", "/a/b"), "a folder named ..c is inside");
  });
});
