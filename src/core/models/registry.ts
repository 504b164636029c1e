// The model registry: which models exist and which serves each agent role. Validated by zod; the
// same schema is published as a JSON schema for editing registry files (scripts/build.mjs).
import * as z from "zod";

export const ROLES = ["pm", "architect", "developer", "tester", "resourceDirector", "embedding"] as const;
export type Role = (typeof ROLES)[number];

/** How roles are named to the user. */
export const ROLE_NAMES: Record<Role, string> = {
  pm: "PM", architect: "Architect", developer: "Developer", tester: "Tester",
  resourceDirector: "Resource Director", embedding: "Embedding",
};

const common = {
  id: z.string().regex(/^[A-Za-z0-9._-]+$/, "letters, digits, dot, dash or underscore").describe("Name used by roles"),
  contextSize: z.number().int().min(256).max(1_048_576).default(4096).describe("Context window in tokens"),
  profile: z.enum(["small", "heavy"]).default("small")
    .describe("small: loaded once and kept, serves calls concurrently; heavy: loaded on demand, one call at a time, evicted when idle"),
  idleTtlSeconds: z.number().int().min(1).max(86_400).default(120).describe("Heavy models: unload after this many idle seconds"),
  poolSize: z.number().int().min(1).max(16).default(2).describe("Small models: calls served at once"),
  embedding: z.boolean().default(false).describe("An embedding model (for memory search), not a chat model"),
};

export const localModelSchema = z.object({
  ...common,
  backend: z.literal("local"),
  path: z.string().min(1).describe("Path of a GGUF file; relative paths are resolved from the registry file"),
  threads: z.number().int().min(1).max(256).optional().describe("CPU threads (default: redgreen.models.threads)"),
  gpuLayers: z.union([z.number().int().min(0), z.literal("auto")]).default(0).describe("Layers to offload to a GPU"),
});

export const openAiModelSchema = z.object({
  ...common,
  backend: z.literal("openai"),
  url: z.url().describe("Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1"),
  model: z.string().min(1).describe("The model name the server expects"),
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional()
    .describe("Name of an environment variable holding the server's API key (keys never go in settings)"),
});

export const modelEntrySchema = z.discriminatedUnion("backend", [localModelSchema, openAiModelSchema]);
export type ModelEntry = z.output<typeof modelEntrySchema>;

export const roleRouteSchema = z.object({
  model: z.string().min(1).describe("Model id serving this role"),
  fallback: z.string().min(1).optional().describe("Stronger model id used when a reply is invalid or unsatisfactory"),
  maxTokens: z.number().int().min(16).max(32_768).optional()
    .describe("Most tokens one reply of this role may generate, whatever the agent asks for: keeps a small or slow model's replies short"),
});

export const registrySchema = z
  .object({
    $schema: z.string().optional(),
    models: z.array(modelEntrySchema).default([]),
    roles: z.partialRecord(z.enum(ROLES), roleRouteSchema).default({}),
  })
  .superRefine((registry, ctx) => {
    const ids = new Set<string>();
    for (const [i, model] of registry.models.entries()) {
      if (ids.has(model.id)) ctx.addIssue({ code: "custom", path: ["models", i, "id"], message: `duplicate model id "${model.id}"` });
      ids.add(model.id);
    }
    // A role may name a model that has no file yet (the default registry does): that is reported
    // when the role is used, with what to do about it.
  });
export type Registry = z.output<typeof registrySchema>;
export type RegistryInput = z.input<typeof registrySchema>;

/**
 * Layers registries: later ones (user settings, then the workspace's) add models and override
 * models with the same id and role routes. The workspace's layers are screened first
 * (workspaceModels.ts): a repository may not override the user's models.
 */
export function mergeRegistries(...layers: RegistryInput[]): RegistryInput {
  const models = new Map<string, NonNullable<RegistryInput["models"]>[number]>();
  const roles: NonNullable<RegistryInput["roles"]> = {};
  for (const layer of layers) {
    for (const model of layer.models ?? []) models.set(model.id, model);
    Object.assign(roles, layer.roles ?? {});
  }
  return { models: [...models.values()], roles };
}

export class RegistryError extends Error {}

/** Validates a registry from a named source; the error says where and what is wrong. */
export function parseRegistry(raw: unknown, source: string): Registry {
  const parsed = registrySchema.safeParse(raw);
  if (!parsed.success) throw new RegistryError(`The model registry in ${source} is invalid:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
