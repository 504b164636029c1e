import * as assert from "node:assert/strict";
import { parseSetting, settingDefault, settingSchemas } from "../../src/core/settings";
import { manifest } from "./manifest";

describe("settings", () => {
  it("accepts a valid value", () => {
    assert.deepEqual(parseSetting("webviews.requestTimeoutMs", 2500), { value: 2500 });
  });

  it("uses the default when the setting is unset", () => {
    assert.deepEqual(parseSetting("webviews.requestTimeoutMs", undefined), { value: 10_000 });
  });

  it("rejects a malformed value with a message naming the setting, the value and the default", () => {
    const parsed = parseSetting("webviews.requestTimeoutMs", "soon");
    assert.equal(parsed.value, 10_000);
    assert.match(parsed.problem ?? "", /redgreen\.webviews\.requestTimeoutMs/);
    assert.match(parsed.problem ?? "", /"soon"/);
    assert.match(parsed.problem ?? "", /default, 10000/);
    assert.match(parseSetting("webviews.requestTimeoutMs", 5).problem ?? "", />=\s*100/);
  });

  it("takes a MongoDB URI with a user but refuses one carrying a password or another scheme", () => {
    assert.deepEqual(parseSetting("store.mongodbUri", " mongodb://alice@h1:27017,h2:27017/rg?replicaSet=rs0 "), { value: "mongodb://alice@h1:27017,h2:27017/rg?replicaSet=rs0" });
    const withPassword = parseSetting("store.mongodbUri", "mongodb://alice:s3cret@127.0.0.1/rg");
    assert.equal(withPassword.value, "");
    assert.match(withPassword.problem ?? "", /must not contain a password \(use the command Redgreen: Set MongoDB Password\)/);
    assert.match(withPassword.problem ?? "", /"mongodb:\/\/alice:\*\*\*@127\.0\.0\.1\/rg"/);
    assert.doesNotMatch(withPassword.problem ?? "", /s3cret/, "the warning does not repeat the password");
    assert.match(parseSetting("store.mongodbUri", "postgres://x").problem ?? "", /mongodb:\/\//);
  });

  it("matches package.json's contributed configuration key for key, default for default", () => {
    const contributed = manifest.contributes.configuration.properties;
    const keys = Object.keys(settingSchemas).map((key) => `redgreen.${key}`);
    assert.deepEqual(Object.keys(contributed).sort(), keys.sort());
    for (const key of Object.keys(settingSchemas) as (keyof typeof settingSchemas)[]) {
      assert.deepEqual(contributed[`redgreen.${key}`]?.default, settingDefault(key), key);
    }
  });
});
