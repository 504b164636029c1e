// Serves the host's loaded models as an OpenAI-compatible API on 127.0.0.1 (off unless asked),
// so other local tools can share them. Every request needs the bearer token it was started with.
import { randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import * as z from "zod";
import type { LlamaService } from "./llamaService";

const chatBodySchema = z.object({
  model: z.string(),
  messages: z.array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() })).min(1),
  max_tokens: z.number().int().positive().optional(),
  max_completion_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  seed: z.number().int().nonnegative().optional(),
  stream: z.boolean().optional(),
  response_format: z
    .union([
      z.object({ type: z.literal("text") }),
      z.object({ type: z.literal("json_schema"), json_schema: z.object({ schema: z.record(z.string(), z.unknown()) }) }),
    ])
    .optional(),
});

const embeddingsBodySchema = z.object({ model: z.string(), input: z.union([z.string(), z.array(z.string()).min(1)]) });
const tokenizeBodySchema = z.object({ model: z.string().optional(), content: z.string() });

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly type = "invalid_request_error") {
    super(message);
  }
}

export interface OpenAiServer {
  port: number;
  close(): Promise<void>;
}

export function startOpenAiServer(service: LlamaService, options: { port: number; token: string }): Promise<OpenAiServer> {
  const expected = Buffer.from(`Bearer ${options.token}`);
  const server = createServer((request, response) => {
    void handle(service, request, response, expected).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const type = error instanceof HttpError ? error.type : "server_error";
      if (!response.headersSent) sendJson(response, status, { error: { message: error instanceof Error ? error.message : String(error), type } });
      else response.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(new Error(bindFailure(options.port, error), { cause: error })));
    server.listen(options.port, HOST, () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : options.port,
        close: () => closeNow(server),
      });
    });
  });
}

const HOST = "127.0.0.1";

/** What the user reads when the endpoint cannot start: the address, and the reason in words. */
function bindFailure(port: number, error: NodeJS.ErrnoException): string {
  const reason =
    error.code === "EADDRINUSE" ? "the port is already in use by another program (EADDRINUSE)"
    : error.code === "EACCES" ? "permission denied (EACCES): ports below 1024 need privileges"
    : error.message;
  return `Cannot listen on ${HOST}:${port}: ${reason}`;
}

/**
 * Stops the server and cuts every connection, streaming ones included: the server is closed
 * when its token is replaced, and a client that had the old token must not keep being served.
 */
function closeNow(server: Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}

async function handle(service: LlamaService, request: IncomingMessage, response: ServerResponse, expected: Buffer): Promise<void> {
  const auth = Buffer.from(request.headers.authorization ?? "");
  if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
    throw new HttpError(401, "Missing or wrong bearer token", "authentication_error");
  }
  const route = `${request.method} ${new URL(request.url ?? "/", "http://localhost").pathname}`;
  switch (route) {
    case "GET /v1/models": {
      const { models } = await service.info();
      return sendJson(response, 200, { object: "list", data: models.map((m) => ({ id: m.id, object: "model", owned_by: "redgreen" })) });
    }
    case "POST /v1/chat/completions":
      return chat(service, chatBodySchema.parse(await readJson(request)), request, response);
    case "POST /v1/embeddings": {
      const body = embeddingsBodySchema.parse(await readJson(request));
      const vectors = await service.embed(body.model, typeof body.input === "string" ? [body.input] : body.input);
      return sendJson(response, 200, {
        object: "list",
        model: body.model,
        data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
      });
    }
    case "POST /tokenize": {
      // llama.cpp's server offers this too; clients use it to count tokens exactly.
      const body = tokenizeBodySchema.parse(await readJson(request));
      const model = body.model ?? (await service.info()).models[0]?.id;
      if (!model) throw new HttpError(400, "No model is loaded");
      return sendJson(response, 200, { tokens: new Array<number>(service.countTokens(model, body.content)).fill(0) });
    }
    default:
      throw new HttpError(404, `No route ${route}`);
  }
}

async function chat(service: LlamaService, body: z.output<typeof chatBodySchema>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const abort = new AbortController();
  response.on("close", () => { if (!response.writableFinished) abort.abort(); });
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const jsonSchema = body.response_format?.type === "json_schema" ? body.response_format.json_schema.schema : undefined;
  if (body.stream) {
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  }
  const chunk = (delta: object, finish: string | null, extra: object = {}) =>
    response.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`);
  const result = await service.chat(
    {
      modelId: body.model,
      messages: body.messages,
      maxTokens: body.max_completion_tokens ?? body.max_tokens ?? 512,
      temperature: body.temperature ?? 0.7,
      ...(body.seed !== undefined ? { seed: body.seed } : {}),
      ...(jsonSchema ? { jsonSchema } : {}),
    },
    abort.signal,
    (text) => { if (body.stream) chunk({ content: text }, null); },
  );
  const finish = result.stopReason === "maxTokens" ? "length" : "stop";
  const usage = { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, total_tokens: result.promptTokens + result.completionTokens };
  if (body.stream) {
    chunk({}, finish, { usage });
    response.end("data: [DONE]\n\n");
    return;
  }
  sendJson(response, 200, {
    id, object: "chat.completion", created, model: body.model,
    choices: [{ index: 0, message: { role: "assistant", content: result.text }, finish_reason: finish }],
    usage,
  });
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const part of request as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > 8 * 2 ** 20) throw new HttpError(413, "Request body over 8 MB");
    parts.push(part);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString("utf8"));
  } catch {
    throw new HttpError(400, "The request body is not valid JSON");
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}
