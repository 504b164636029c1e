// `models list`: the model registry as the agents would use it, layer by layer: Redgreen's
// defaults, the user's `<data>/models.json`, the project's `.redgreen/models.json` (when trusted).
import type { Command } from "commander";
import type * as z from "zod";
import { ROLE_NAMES, ROLES, type Registry } from "../../core/models/registry";
import type { MemoryManager } from "../../core/memory/memoryManager";
import type { Project } from "../../core/store/records";
import { act, JSON_OPTION, needsSubcommand } from "../command";
import { resolveProject } from "../projectArg";
import { modelsListOutput } from "../schemas";
import type { LoadedRegistry } from "../modelRegistry";
import { table } from "../views";

type ModelsList = z.input<typeof modelsListOutput>;

export function registerModels(program: Command): void {
  const models = needsSubcommand(program.command("models").description("the models the agents use"));
  models
    .command("list")
    .description("the registry's models and which role each serves, with the layers they come from")
    .option("-p, --project <project>", "include this project's .redgreen/models.json (default: the project around the current folder)")
    .option(...JSON_OPTION)
    .action(
      act<{ project?: string; json?: boolean }>(async ({ services, options }) => {
        const project = await projectFor(await services.memory(), options.project);
        const list = toList(services.registry(project));
        if (options.json) return services.out.json(modelsListOutput, list);
        services.out.result(listText(list));
      }),
    );
}

/** The named project, or the one around the current folder, or none (the user's layers only). */
async function projectFor(memory: MemoryManager, arg: string | undefined): Promise<Project | undefined> {
  if (arg !== undefined) return resolveProject(memory, arg);
  return resolveProject(memory, undefined).catch(() => undefined);
}

function rolesOf(registry: Registry, id: string) {
  return ROLES.filter((role) => registry.roles[role]?.model === id || registry.roles[role]?.fallback === id);
}

function toList({ registry, layers, dropped }: LoadedRegistry): ModelsList {
  return {
    models: registry.models.map((m) => ({
      id: m.id, backend: m.backend, location: m.backend === "local" ? m.path : m.url, remoteModel: m.backend === "openai" ? m.model : null,
      contextSize: m.contextSize, profile: m.profile, embedding: m.embedding, roles: rolesOf(registry, m.id),
    })),
    roles: ROLES.flatMap((role) => {
      const route = registry.roles[role];
      return route ? [{ role, model: route.model, fallback: route.fallback ?? null, defined: registry.models.some((m) => m.id === route.model) }] : [];
    }),
    layers: layers.map((l) => ({ source: l.source, file: l.file, status: l.status, problem: l.problem ?? null })),
    dropped: dropped.map((d) => ({ id: d.id, source: d.source, reason: d.reason, url: d.url ?? null })),
  };
}

function listText(list: ModelsList): string {
  const lines: string[] = [];
  lines.push(list.models.length === 0 ? "No model is defined yet: add GGUF files or servers to the registry (models.json in the data folder)." : table([["MODEL", "BACKEND", "ROLES", "WHERE"], ...list.models.map((m) => [m.id, m.backend, m.roles.map((r) => ROLE_NAMES[r]).join(", ") || "-", m.location])]));
  lines.push("", table([["ROLE", "MODEL", "FALLBACK"], ...list.roles.map((r) => [ROLE_NAMES[r.role], `${r.model}${r.defined ? "" : " (no such model yet)"}`, r.fallback ?? "-"])]));
  lines.push("", "Layers:", ...list.layers.map((l) => `  ${l.status.padEnd(7)} ${l.source}${l.problem ? `: ${l.problem}` : ""}`));
  for (const d of list.dropped) lines.push(`  left out: "${d.id}" from ${d.source} (${d.reason}${d.url ? `, ${d.url}` : ""})`);
  return lines.join("\n");
}
