import * as assert from "node:assert/strict";
import { DisposableStore, toDisposable } from "../../src/core/lifecycle";

describe("DisposableStore", () => {
  it("disposes in reverse order of addition, once", () => {
    const order: string[] = [];
    const store = new DisposableStore();
    store.add(toDisposable(() => order.push("first")));
    store.add(toDisposable(() => order.push("second")));
    store.dispose();
    store.dispose();
    assert.deepEqual(order, ["second", "first"]);
  });

  it("disposes everything even when one throws, then rethrows", () => {
    const order: string[] = [];
    const store = new DisposableStore();
    store.add(toDisposable(() => order.push("first")));
    store.add({ dispose: () => { throw new Error("boom"); } });
    store.add(toDisposable(() => order.push("third")));
    assert.throws(() => store.dispose(), /boom/);
    assert.deepEqual(order, ["third", "first"]);
  });

  it("disposes at once what is added after it was disposed", () => {
    let disposed = false;
    const store = new DisposableStore();
    store.dispose();
    store.add(toDisposable(() => (disposed = true)));
    assert.equal(disposed, true);
  });
});
