// The OpenAI-compatible backend against a hostile server on loopback: one that streams an event
// too large to be a token, and one that never stops. Neither may fill the extension host's memory.
import * as assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { OpenAiBackend } from "../../src/adapters/llm/openAiBackend";
import type { ModelLoadSpec } from "../../src/core/models/ports";

type Mode = "oversized-event" | "endless";

const MiB = 2 ** 20;

/** A chunk of a chat completion stream carrying `content`. */
const event = (content: string) => `data: ${JSON.stringify({ choices: [{ delta: { content }, finish_reason: null }] })}\n\n`;

/** Writes `chunk` until the client goes away, waiting for the socket to drain as a real server does. */
async function streamForever(response: http.ServerResponse, chunk: string): Promise<void> {
  while (!response.destroyed) {
    if (!response.write(chunk)) await drainedOrClosed(response);
  }
}

function drainedOrClosed(response: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off("drain", done).off("close", done);
      resolve();
    };
    response.on("drain", done).on("close", done);
  });
}

async function startHostileServer() {
  let mode: Mode = "endless";
  let dropped: Promise<void> = Promise.resolve();
  const server = http.createServer((request, response) => {
    if (request.method === "GET") {
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: [{ id: "hostile" }] }));
      return;
    }
    request.resume();
    // Resolves when the client closes the connection before the server finished its answer.
    dropped = new Promise((resolve) => response.once("close", () => { if (!response.writableFinished) resolve(); }));
    response.writeHead(200, { "content-type": "text/event-stream" });
    // 2 MiB in one event, sent in pieces, and never a blank line to end it.
    if (mode === "oversized-event") void streamForever(response, `data: {"choices":[{"delta":{"content":"${"x".repeat(64 * 1024)}`);
    else void streamForever(response, event("y".repeat(256 * 1024)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return {
    url,
    set mode(value: Mode) { mode = value; },
    /** Resolves once the client has dropped the current request's connection. */
    dropped: () => dropped,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe("OpenAI-compatible backend against a server that sends too much", function () {
  this.timeout(20_000);
  let server: Awaited<ReturnType<typeof startHostileServer>>;
  const backend = new OpenAiBackend({});
  const spec = (): ModelLoadSpec => ({ id: "hostile", path: server.url, contextSize: 1024, threads: 1, gpuLayers: 0, poolSize: 1, embedding: false });
  const ask = (onToken?: (piece: string) => void) => backend.chat("hostile", { messages: [{ role: "user", content: "Hello" }], maxTokens: 512 }, onToken ? { onToken } : {});
  const named = (limit: string) => new RegExp(`model server at ${server.url.replace(/\./g, "\\.")} sent ${limit}`);

  before(async () => {
    server = await startHostileServer();
    await backend.load(spec());
  });

  after(() => server.close());

  it("aborts a request whose streamed event exceeds 1 MiB, naming the server and the limit", async () => {
    server.mode = "oversized-event";
    await assert.rejects(ask(), named("one event over 1 MiB"));
    await server.dropped();
  });

  it("aborts an endless stream once the response exceeds its cap, naming the server and the limit", async () => {
    server.mode = "endless";
    const tokens: number[] = [];
    await assert.rejects(ask((piece) => tokens.push(piece.length)), named("over 16 MiB in one response"));
    const received = tokens.reduce((sum, n) => sum + n, 0);
    assert.ok(received <= 16 * MiB, `${received} bytes of text were accepted`);
    assert.ok(received > 8 * MiB, "a long answer under the cap streams normally");
    await server.dropped();
  });
});
