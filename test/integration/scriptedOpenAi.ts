// A scripted OpenAI-compatible server on loopback, for tests of orchestration in the real
// editor: the extension reaches it through its real OpenAI backend, over real HTTP. Each reply
// is chosen by `answer` from the request; replies stream as server-sent events, word by word.
// When `answer` throws, the server answers 500 with its message.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ScriptedRequest {
  messages: { role: string; content: string }[];
  /** The JSON schema of a structured request, if it is one. */
  schema?: { properties?: Record<string, unknown> };
}

export async function startScriptedOpenAi(answer: (request: ScriptedRequest) => string, options: { paceMs?: number } = {}): Promise<{ url: string; requests: ScriptedRequest[]; close(): Promise<void> }> {
  const requests: ScriptedRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/v1/models") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: [{ id: "scripted" }] }));
        return;
      }
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
        res.writeHead(404).end();
        return;
      }
      const parsed = JSON.parse(body) as { messages: ScriptedRequest["messages"]; response_format?: { json_schema?: { schema?: ScriptedRequest["schema"] } } };
      const request = { messages: parsed.messages, schema: parsed.response_format?.json_schema?.schema };
      requests.push(request);
      let text: string;
      try {
        text = answer(request);
      } catch (error) {
        // A failing server: what a crashed or overloaded model server answers.
        res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: (error as Error).message } }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      const pieces = text.split(/(?<= )/);
      const finish = () => {
        res.write(`data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: "stop" }], usage: { prompt_tokens: 10, completion_tokens: pieces.length } })}\n\n`);
        res.end("data: [DONE]\n\n");
      };
      const write = (piece: string) => res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: piece }, finish_reason: null }] })}\n\n`);
      if (!options.paceMs) {
        pieces.forEach(write);
        finish();
        return;
      }
      // Paced like a model generating; stops when the client goes away (a cancelled request).
      const timer = setInterval(() => {
        const piece = pieces.shift();
        if (piece === undefined) {
          clearInterval(timer);
          finish();
        } else write(piece);
      }, options.paceMs);
      res.on("close", () => clearInterval(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
