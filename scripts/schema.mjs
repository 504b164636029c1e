// Writes models/registry.schema.json from the zod schema (run after `node scripts/build.mjs --tests`).
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { repoRoot } from "./lib.mjs";

const require = createRequire(import.meta.url);
const { registryJsonSchema } = require(path.join(repoRoot, "out", "src", "core", "models", "registrySchema.js"));
writeFileSync(path.join(repoRoot, "models", "registry.schema.json"), JSON.stringify(registryJsonSchema(), null, 2) + "\n");
