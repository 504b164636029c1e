import * as z from "zod";
import { registrySchema } from "./registry";

/** The registry's JSON schema, as published to VS Code (models/registry.schema.json). */
export function registryJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(registrySchema, { io: "input", unrepresentable: "any", target: "draft-7" }) as Record<string, unknown>),
    title: "Redgreen model registry",
  };
}
