// What the core asks of a language model, independent of where it runs.
import * as z from "zod";

export const chatMessageSchema = z.object({
  role: z.enum(["system", "user", "assistant"]),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

/** What a reply may generate when the request says nothing. */
export const DEFAULT_MAX_TOKENS = 512;

export const chatRequestSchema = z.object({
  messages: z.array(chatMessageSchema).min(1),
  maxTokens: z.number().int().positive().max(32_768).default(DEFAULT_MAX_TOKENS),
  temperature: z.number().min(0).max(2).default(0.2),
  seed: z.number().int().nonnegative().optional(),
  /** A JSON schema the reply must follow; generation is constrained by a grammar built from it. */
  jsonSchema: z.record(z.string(), z.unknown()).optional(),
});
export type ChatRequest = z.input<typeof chatRequestSchema>;

export const chatResultSchema = z.object({
  text: z.string(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  /** Milliseconds from the request reaching the model to its first token (undefined if none). */
  firstTokenMs: z.number().nonnegative().optional(),
  totalMs: z.number().nonnegative(),
  stopReason: z.enum(["eos", "maxTokens", "cancelled"]),
});
export type ChatResult = z.infer<typeof chatResultSchema>;
