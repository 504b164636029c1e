// The model host's OpenAI-compatible endpoint, without models: what it does before any model runs
// (binding its port, checking the bearer token, closing).
import * as assert from "node:assert/strict";
import { createServer, type AddressInfo, type Server } from "node:net";
import type { LlamaService } from "../../src/adapters/llm/host/llamaService";
import { startOpenAiServer } from "../../src/adapters/llm/host/openAiServer";

/** No models, and a chat that never ends (a client streaming an answer when the server closes). */
let chatStarted: () => void = () => undefined;
const noModels = {
  info: () => Promise.resolve({ models: [] }),
  chat: () => {
    chatStarted();
    return new Promise(() => undefined);
  },
} as unknown as LlamaService;
const TOKEN = "a-token-long-enough-to-pass";

function occupy(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => resolve(server));
  });
}

describe("the model host's OpenAI-compatible endpoint", () => {
  it("says which address it could not bind and why, when the port is in use", async () => {
    const other = await occupy();
    const { port } = other.address() as AddressInfo;
    try {
      await assert.rejects(
        startOpenAiServer(noModels, { port, token: TOKEN }),
        new RegExp(`^Error: Cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use by another program \\(EADDRINUSE\\)`),
      );
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("answers only its token, and cuts a streaming client off when closed (a replaced token stops working at once)", async () => {
    const server = await startOpenAiServer(noModels, { port: 0, token: TOKEN });
    const base = `http://127.0.0.1:${server.port}/v1`;
    const auth = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
    assert.equal((await fetch(`${base}/models`, { headers: auth(TOKEN) })).status, 200);
    assert.equal((await fetch(`${base}/models`, { headers: auth("another-token-of-some-length") })).status, 401);
    const body = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], stream: true });
    const started = new Promise<void>((resolve) => (chatStarted = resolve));
    const streaming = fetch(`${base}/chat/completions`, { method: "POST", headers: auth(TOKEN), body }).then((response) => response.text());
    await started;
    const closed = await Promise.race([server.close().then(() => "closed"), new Promise((resolve) => setTimeout(() => resolve("still open"), 2000))]);
    assert.equal(closed, "closed", "close() waited for the streaming client");
    await assert.rejects(streaming);
  });
});
