// Entry of the model host process (dist/modelHost.js). node-llama-cpp runs here, never in the
// extension host, so a native crash or out-of-memory ends this process only. stdout carries the
// JSON-RPC channel; everything else is written to stderr.
import * as z from "zod";
import {
  createMessageConnection,
  ErrorCodes,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type CancellationToken,
} from "vscode-jsonrpc/node";
import {
  chatParamsSchema,
  countParamsSchema,
  embedParamsSchema,
  HostNotifications,
  HostRequests,
  loadParamsSchema,
  serveParamsSchema,
  unloadParamsSchema,
} from "../hostProtocol";
import { startOpenAiServer, type OpenAiServer } from "./openAiServer";
import { LlamaService } from "./llamaService";

const log = (message: string) => process.stderr.write(`${message}\n`);
console.log = (...args: unknown[]) => log(args.map(String).join(" "));

const connection = createMessageConnection(new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
const service = new LlamaService({ gpu: process.env.REDGREEN_MODEL_HOST_GPU === "auto" ? "auto" : false, log });

/** Validates params, and turns every failure into an error the caller can show as is. */
function handler<S extends z.ZodType, R>(schema: S, run: (params: z.output<S>, token: CancellationToken) => Promise<R> | R) {
  return async (raw: unknown, token: CancellationToken): Promise<R> => {
    const params = schema.safeParse(raw);
    if (!params.success) throw new ResponseError(ErrorCodes.InvalidParams, z.prettifyError(params.error));
    try {
      return await run(params.data, token);
    } catch (error) {
      throw new ResponseError(ErrorCodes.InternalError, error instanceof Error ? error.message : String(error));
    }
  };
}

connection.onRequest(HostRequests.load, handler(loadParamsSchema, (p) => service.load(p)));
connection.onRequest(HostRequests.unload, handler(unloadParamsSchema, (p) => service.unload(p.id)));
connection.onRequest(
  HostRequests.chat,
  handler(chatParamsSchema, (p, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    const { streamId } = p;
    return service.chat(p, abort.signal, (text) => {
      if (streamId) void connection.sendNotification(HostNotifications.token, { streamId, text });
    });
  }),
);
connection.onRequest(HostRequests.embed, handler(embedParamsSchema, async (p) => ({ vectors: await service.embed(p.modelId, p.texts) })));
connection.onRequest(HostRequests.countTokens, handler(countParamsSchema, (p) => ({ tokens: service.countTokens(p.modelId, p.text) })));
connection.onRequest(HostRequests.info, () => service.info());

let server: OpenAiServer | undefined;
connection.onRequest(
  HostRequests.serve,
  handler(serveParamsSchema, async (p) => {
    await server?.close();
    server = await startOpenAiServer(service, p);
    log(`OpenAI-compatible endpoint on http://127.0.0.1:${server.port}/v1`);
    return { port: server.port };
  }),
);
connection.onRequest(HostRequests.stopServing, async () => {
  await server?.close();
  server = undefined;
});

// The extension closed our stdin: it is gone or wants us gone.
connection.onClose(() => process.exit(0));
process.stdin.on("end", () => process.exit(0));
connection.listen();
log(`Redgreen model host ${process.pid} ready`);
