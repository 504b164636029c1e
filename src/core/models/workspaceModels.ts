// What a workspace may put in the model registry. A cloned repository's .vscode/settings.json and
// .redgreen/models.json are its author's words, not the user's: they may add models that stay on
// this machine and route roles, but a model that sends the spec and the chat elsewhere, or names an
// environment variable whose value goes out as a bearer token, needs the user's own settings or the
// user's consent to that URL in this workspace; and a model the user defined stays the user's.
// Pure, so that the editor (features/models/registrySource.ts) and a later CLI share the rule.
import { mergeRegistries, type RegistryInput } from "./registry";

type ModelInput = NonNullable<RegistryInput["models"]>[number];
type Routes = NonNullable<RegistryInput["roles"]>;

/** Why a workspace's model was left out. */
export type DropReason = "remote" | "apiKey" | "userModel";

export interface DroppedModel {
  id: string;
  /** The layer that defined it, as the user reads it (a file or a setting). */
  source: string;
  reason: DropReason;
  url?: string;
  apiKeyEnv?: string;
}

export interface WorkspaceLayer {
  source: string;
  registry: RegistryInput;
}

export interface ScreenedLayers {
  layers: RegistryInput[];
  dropped: DroppedModel[];
}

/** WHATWG URL parsing already turned `127.1`, `0x7f.1` and the like into dotted quads. */
const LOOPBACK_V4 = /^127(\.\d{1,3}){3}$/;
/** `[::ffff:127.0.0.1]` as the URL parser writes it. */
const MAPPED_LOOPBACK_V4 = /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/;

/** Whether a URL's host is this machine's loopback interface; a name is trusted only as "localhost". */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === "localhost" || host === "[::1]" || LOOPBACK_V4.test(host) || MAPPED_LOOPBACK_V4.test(host);
}

/** What the user consents to, as one key: the URL, and the variable whose value goes to it. */
export function consentKey(target: { url: string; apiKeyEnv?: string }): string {
  return target.apiKeyEnv ? `${target.url} with $${target.apiKeyEnv}` : target.url;
}

/**
 * Screens the workspace's layers against the user's: the layers to merge (in the same order) and
 * what was left out. `consented` answers for a consentKey().
 */
export function screenWorkspaceLayers(user: RegistryInput, workspace: WorkspaceLayer[], consented: (key: string) => boolean): ScreenedLayers {
  const userIds = new Set((user.models ?? []).map((model) => model.id));
  const screened = workspace.map((layer) => screenLayer(layer, userIds, consented));
  return { layers: screened.map((s) => s.layer), dropped: screened.flatMap((s) => s.dropped) };
}

/** The registry of all layers, the workspace's screened: Redgreen's defaults, the user's, then the workspace's. */
export function layeredRegistry(
  layers: { defaults: RegistryInput; user: RegistryInput; workspace: WorkspaceLayer[] },
  consented: (key: string) => boolean,
): { registry: RegistryInput; dropped: DroppedModel[] } {
  const screened = screenWorkspaceLayers(layers.user, layers.workspace, consented);
  return { registry: mergeRegistries(layers.defaults, layers.user, ...screened.layers), dropped: screened.dropped };
}

function screenLayer({ source, registry }: WorkspaceLayer, userIds: ReadonlySet<string>, consented: (key: string) => boolean): { layer: RegistryInput; dropped: DroppedModel[] } {
  const models: ModelInput[] = [];
  const dropped: DroppedModel[] = [];
  for (const model of registry.models ?? []) {
    const reason = dropReason(model, userIds, consented);
    if (reason) dropped.push(describe(model, source, reason));
    else models.push(model);
  }
  // A route to a model that was left out would name a model that is not there: the role keeps
  // the route of the layers below (the user's or Redgreen's). A redefined user model is still there.
  const gone = new Set(dropped.filter((d) => d.reason !== "userModel").map((d) => d.id));
  return { layer: { models, roles: routesAvoiding(registry.roles ?? {}, gone) }, dropped };
}

function dropReason(model: ModelInput, userIds: ReadonlySet<string>, consented: (key: string) => boolean): DropReason | undefined {
  if (userIds.has(model.id)) return "userModel";
  if (model.backend !== "openai") return undefined;
  if (!model.apiKeyEnv && isLoopbackUrl(model.url)) return undefined;
  if (consented(consentKey(model))) return undefined;
  return model.apiKeyEnv ? "apiKey" : "remote";
}

function describe(model: ModelInput, source: string, reason: DropReason): DroppedModel {
  if (model.backend !== "openai") return { id: model.id, source, reason };
  return { id: model.id, source, reason, url: model.url, ...(model.apiKeyEnv ? { apiKeyEnv: model.apiKeyEnv } : {}) };
}

function routesAvoiding(routes: Routes, gone: ReadonlySet<string>): Routes {
  const kept: Routes = {};
  for (const [role, route] of Object.entries(routes) as [keyof Routes, Routes[keyof Routes]][]) {
    if (route && !gone.has(route.model) && !(route.fallback && gone.has(route.fallback))) kept[role] = route;
  }
  return kept;
}

/** The one-line explanation for the log and the warning. */
export function describeDrop(drop: DroppedModel): string {
  const model = `${drop.source} defines the model "${drop.id}"`;
  const instead = "Define it in your user settings to use it.";
  switch (drop.reason) {
    case "userModel":
      return `${model}, which your user settings define: Redgreen keeps yours.`;
    case "apiKey":
      return `${model} on ${drop.url} with the API key from $${drop.apiKeyEnv}: Redgreen ignores it unless you allow this workspace to send that key there. ${instead}`;
    case "remote":
      return `${model} on ${drop.url}, which is not this machine: Redgreen ignores it unless you allow this workspace to send the spec and the chat there. ${instead}`;
  }
}
