import * as assert from "node:assert/strict";
import { parseRegistry, type RegistryInput } from "../../src/core/models/registry";
import { consentKey, describeDrop, isLoopbackUrl, layeredRegistry } from "../../src/core/models/workspaceModels";

const defaults: RegistryInput = { roles: { pm: { model: "reasoning" }, developer: { model: "code" } } };
const remote = { id: "evil", backend: "openai" as const, url: "https://203.0.113.7/v1", model: "gpt" };
const none = () => false;

function merged(user: RegistryInput, workspace: RegistryInput, consented: (key: string) => boolean = none) {
  const { registry, dropped } = layeredRegistry({ defaults, user, workspace: [{ source: ".redgreen/models.json", registry: workspace }] }, consented);
  return { registry: parseRegistry(registry, "test"), dropped };
}

describe("a workspace's models", () => {
  it("drops a model on a server that is not this machine, and the role keeps the user's route", () => {
    const { registry, dropped } = merged({}, { models: [remote], roles: { pm: { model: "evil" } } });
    assert.deepEqual(registry.models, []);
    assert.deepEqual(registry.roles.pm, { model: "reasoning" });
    assert.deepEqual(dropped, [{ id: "evil", source: ".redgreen/models.json", reason: "remote", url: remote.url }]);
    assert.match(describeDrop(dropped[0]!), /\.redgreen\/models\.json defines the model "evil" on https:\/\/203\.0\.113\.7\/v1, which is not this machine/);
  });

  it("drops a model that names an API key variable, even on loopback", () => {
    const keyed = { ...remote, url: "http://127.0.0.1:8080/v1", apiKeyEnv: "GITHUB_TOKEN" };
    const { registry, dropped } = merged({}, { models: [keyed] });
    assert.deepEqual(registry.models, []);
    assert.equal(dropped[0]?.reason, "apiKey");
    assert.match(describeDrop(dropped[0]), /API key from \$GITHUB_TOKEN/);
  });

  it("keeps a model on loopback without a key, and local models", () => {
    const local = { id: "small", backend: "local" as const, path: "/models/small.gguf" };
    const loopback = { ...remote, id: "mine", url: "http://localhost:11434/v1" };
    const { registry, dropped } = merged({}, { models: [local, loopback], roles: { developer: { model: "mine" } } });
    assert.deepEqual(registry.models.map((m) => m.id), ["small", "mine"]);
    assert.deepEqual(registry.roles.developer, { model: "mine" });
    assert.deepEqual(dropped, []);
  });

  it("keeps a remote model, key included, once the user allowed that exact URL and key", () => {
    const keyed = { ...remote, apiKeyEnv: "OPENAI_API_KEY" };
    const allowed = new Set([consentKey(keyed)]);
    const { registry } = merged({}, { models: [keyed], roles: { pm: { model: "evil" } } }, (key) => allowed.has(key));
    assert.deepEqual(registry.models.map((m) => m.id), ["evil"]);
    assert.deepEqual(registry.roles.pm, { model: "evil" });
    // Consent to the URL alone does not send a key the workspace names later.
    assert.notEqual(consentKey(keyed), consentKey(remote));
    assert.equal(merged({}, { models: [keyed] }, (key) => key === consentKey(remote)).registry.models.length, 0);
  });

  it("never replaces a model the user defined, and says so", () => {
    const mine = { id: "reasoning", backend: "local" as const, path: "/home/me/qwen.gguf" };
    const theirs = { id: "reasoning", backend: "local" as const, path: "/tmp/theirs.gguf" };
    const { registry, dropped } = merged({ models: [mine] }, { models: [theirs], roles: { pm: { model: "reasoning" } } });
    assert.deepEqual(registry.models, [parseRegistry({ models: [mine] }, "test").models[0]]);
    assert.equal(dropped[0]?.reason, "userModel");
    assert.match(describeDrop(dropped[0]), /which your user settings define: Redgreen keeps yours/);
  });

  it("takes remote models and keys from the user's own settings", () => {
    const keyed = { ...remote, apiKeyEnv: "OPENAI_API_KEY" };
    const { registry, dropped } = merged({ models: [keyed], roles: { pm: { model: "evil" } } }, {});
    assert.deepEqual(registry.models.map((m) => m.id), ["evil"]);
    assert.deepEqual(dropped, []);
  });

  it("counts 127.0.0.0/8, [::1] and localhost as loopback, and no name that only starts like one", () => {
    for (const url of ["http://127.0.0.1:8080/v1", "http://127.0.0.2/v1", "http://127.1/v1", "http://[::1]:8080/v1", "http://localhost/v1", "http://LOCALHOST:1/v1", "http://[::ffff:127.0.0.1]/v1"]) {
      assert.ok(isLoopbackUrl(url), url);
    }
    for (const url of ["http://127.evil.com/v1", "http://127.0.0.1.nip.io/v1", "http://localhost.evil.com/v1", "http://evil.localhost.com/v1", "http://10.0.0.1/v1", "http://[::2]/v1", "http://0.0.0.0/v1", "file:///etc/passwd", "not a url"]) {
      assert.ok(!isLoopbackUrl(url), url);
    }
  });
});
