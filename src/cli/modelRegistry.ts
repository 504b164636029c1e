// The model registry as the CLI sees it, in the editor's layers (features/models/registrySource.ts):
// Redgreen's defaults (models/registry.json, bundled), the user's registry `<data>/models.json`
// (JSONC; it stands where the editor's user setting does), then the project's
// `.redgreen/models.json` when its folder is trusted, screened by the core's rule
// (core/models/workspaceModels.ts). There is no consent question in a terminal: a project's model
// that would send data off this machine is left out and said so.
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describeError } from "../core/logger";
import { parseRegistry, type Registry, type RegistryInput } from "../core/models/registry";
import { layeredRegistry, type DroppedModel, type WorkspaceLayer } from "../core/models/workspaceModels";
import defaultRegistry from "../../models/registry.json";
import { parseJsonc } from "../adapters/dataFolder/jsonc";

export const PROJECT_REGISTRY = path.join(".redgreen", "models.json");

export interface LayerInfo {
  source: string;
  file: string | null;
  /** absent: there is no such file; skipped: not read (an untrusted folder); invalid: read, refused. */
  status: "loaded" | "absent" | "skipped" | "invalid";
  problem?: string;
  registry: RegistryInput;
}

export interface LoadedRegistry {
  registry: Registry;
  layers: LayerInfo[];
  dropped: DroppedModel[];
}

/** Validates one layer and makes its local paths absolute (relative to `base`, `~` to home). */
function absolutePaths(registry: Registry, base: string): RegistryInput {
  return {
    roles: registry.roles,
    models: registry.models.map((model) =>
      model.backend === "local" ? { ...model, path: path.resolve(base, model.path.replace(/^~(?=$|[/\\])/, os.homedir())) } : model,
    ),
  };
}

/** One registry file: loaded, absent, or invalid with the reason (the other layers still count). */
export function readLayer(file: string, source: string): LayerInfo {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { source, file, status: "absent", registry: {} };
  }
  try {
    return { source, file, status: "loaded", registry: absolutePaths(parseRegistry(parseJsonc(text), source), path.dirname(file)) };
  } catch (error) {
    return { source, file, status: "invalid", problem: describeError(error), registry: {} };
  }
}

/** The merged registry for `projectRoot` (or none), the layers it came from and what was left out. */
export function loadRegistry(userFile: string, project: { root: string; trusted: boolean } | undefined): LoadedRegistry {
  const defaults: LayerInfo = { source: "Redgreen's default registry", file: null, status: "loaded", registry: parseRegistry(defaultRegistry, "Redgreen's default registry") };
  const user = readLayer(userFile, `your registry ${userFile}`);
  const layers = [defaults, user];
  const workspace: WorkspaceLayer[] = [];
  if (project) {
    const file = path.join(project.root, PROJECT_REGISTRY);
    const layer: LayerInfo = project.trusted ? readLayer(file, file) : { source: file, file, status: "skipped", problem: "the project folder is not trusted", registry: {} };
    layers.push(layer);
    workspace.push({ source: layer.source, registry: layer.registry });
  }
  const { registry, dropped } = layeredRegistry({ defaults: defaults.registry, user: user.registry, workspace }, () => false);
  return { registry: parseRegistry(registry, "the merged registry"), layers, dropped };
}
