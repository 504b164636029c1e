// The typed channel between the extension host and the model host process (vscode-jsonrpc over
// the child's stdio). Both ends validate what they receive with these schemas.
import * as z from "zod";
import { NotificationType, RequestType } from "vscode-jsonrpc";
import { chatRequestSchema } from "../../core/models/types";

export const loadParamsSchema = z.object({
  id: z.string().min(1),
  path: z.string().min(1),
  contextSize: z.number().int().positive(),
  threads: z.number().int().positive(),
  gpuLayers: z.union([z.number().int().nonnegative(), z.literal("auto")]).default(0),
  /** Sequences in the context, each able to serve one call at a time (the pool). */
  sequences: z.number().int().positive().max(64).default(1),
  embedding: z.boolean().default(false),
});

export const unloadParamsSchema = z.object({ id: z.string() });

export const loadResultSchema = z.object({
  id: z.string(),
  loadMs: z.number(),
  trainContextSize: z.number(),
  embeddingSize: z.number().optional(),
});

export const chatParamsSchema = chatRequestSchema.extend({
  modelId: z.string().min(1),
  /** Correlates streamed tokens with this call; without it nothing is streamed. */
  streamId: z.string().min(1).optional(),
});

export const tokenNotificationSchema = z.object({ streamId: z.string(), text: z.string() });

export const embedParamsSchema = z.object({ modelId: z.string(), texts: z.array(z.string()).min(1) });
export const embedResultSchema = z.object({ vectors: z.array(z.array(z.number())) });

export const countParamsSchema = z.object({ modelId: z.string(), text: z.string() });
export const countResultSchema = z.object({ tokens: z.number().int().nonnegative() });

export const infoResultSchema = z.object({
  pid: z.number(),
  gpu: z.union([z.string(), z.literal(false)]),
  threads: z.number(),
  memory: z.object({ rss: z.number(), heapUsed: z.number() }),
  models: z.array(z.object({ id: z.string(), path: z.string(), sequences: z.number(), busy: z.number() })),
});
export type HostInfo = z.infer<typeof infoResultSchema>;

export const serveParamsSchema = z.object({ port: z.number().int().min(0).max(65_535), token: z.string().min(16) });
export const serveResultSchema = z.object({ port: z.number().int() });

export const HostRequests = {
  serve: new RequestType<unknown, unknown, void>("server/start"),
  stopServing: new RequestType<unknown, unknown, void>("server/stop"),
  load: new RequestType<unknown, unknown, void>("model/load"),
  unload: new RequestType<unknown, unknown, void>("model/unload"),
  chat: new RequestType<unknown, unknown, void>("model/chat"),
  embed: new RequestType<unknown, unknown, void>("model/embed"),
  countTokens: new RequestType<unknown, unknown, void>("model/countTokens"),
  info: new RequestType<unknown, unknown, void>("host/info"),
};

export const HostNotifications = {
  token: new NotificationType<unknown>("model/token"),
};

