// `redgreen engine status | stop`: the data folder's engine, which owns the store every command
// reaches through it. Neither starts one: `status` says whether it runs, `stop` ends it cleanly
// (its store closed) and the next command that needs it starts a new one.
import type { Command } from "commander";
import { EngineUnavailableError, type EngineConnection } from "../../adapters/engine/engineClient";
import { EngineMethods, statusResult, type EngineStatus } from "../../protocol/engine";
import { act, JSON_OPTION, needsSubcommand } from "../command";
import { engineStatusOutput, engineStopOutput } from "../schemas";
import type { CliServices } from "../services";
import { table } from "../views";

interface EngineOptions {
  json?: boolean;
}

/** The running engine, or undefined when none answers (none is started). */
export async function runningEngine(services: CliServices): Promise<EngineConnection | undefined> {
  try {
    return await services.engine(false);
  } catch (error) {
    if (error instanceof EngineUnavailableError) return undefined;
    throw error;
  }
}

function describe(status: EngineStatus): string {
  const rows = [
    ["pid", String(status.pid)],
    ["version", status.version],
    ["since", status.startedAt],
    ["store", `${status.store.kind} at ${status.store.location}`],
    ["clients", status.clients.map((c) => `${c.client} pid ${c.pid}`).join(", ") || "none"],
    ["teams", status.teams.map((t) => `${t.projectId} (pid ${t.clientPid})`).join(", ") || "none"],
    ["pairs", status.pairs.map((p) => `${p.id}: ${p.ticketId ? `${p.ticketId}${p.step ? ` ${p.step}${p.model ? ` on ${p.model}` : ""}` : ""}${p.pausing ? " (pausing)" : ""}` : "free"}`).join(", ") || "none yet"],
    ["allocation", status.allocations.map(allocationText).join("; ") || "no project has ready work"],
    ["model host", status.modelHost ? `pid ${status.modelHost.pid}: ${status.modelHost.models.map((m) => m.id).join(", ") || "no model loaded"}${status.modelHost.loading ? ` (${status.modelHost.loading} loading)` : ""}` : "not started (the first model request starts it)"],
    ["exits", status.exitsAt ? `at ${status.exitsAt} unless a client connects` : `${status.idleMinutes} min after its last client leaves`],
  ];
  return table(rows);
}

/** "Pay (critical): quota 90 %, share 81 %, use 78 %, 1 pair". */
export function allocationText(a: EngineStatus["allocations"][number]): string {
  return `${a.name} (${a.priority}): quota ${percent(a.quota)}, share ${percent(a.share)}, use ${percent(a.use)}, ${a.pairs} pair${a.pairs === 1 ? "" : "s"}`;
}

const percent = (fraction: number) => `${Math.round(fraction * 100)} %`;

async function status(services: CliServices, options: EngineOptions): Promise<void> {
  const engine = await runningEngine(services);
  const found = engine ? await engine.request(EngineMethods.status, {}, statusResult) : null;
  if (options.json) return services.out.json(engineStatusOutput, { dataFolder: services.dataDir, running: found !== null, engine: found });
  services.out.result(found ? describe(found) : `No engine runs for ${services.dataDir}: the next command that needs the store starts one.`);
}

async function stop(services: CliServices, options: EngineOptions): Promise<void> {
  const engine = await runningEngine(services);
  if (engine) await engine.stopEngine();
  const pid = engine?.engine.pid ?? null;
  if (options.json) return services.out.json(engineStopOutput, { dataFolder: services.dataDir, stopped: engine !== undefined, pid });
  services.out.result(engine ? `Stopped the engine (pid ${pid}) of ${services.dataDir}.` : `No engine runs for ${services.dataDir}.`);
}

export function registerEngine(program: Command): void {
  const group = needsSubcommand(program.command("engine").description("the data folder's engine: the process that owns the store and serves every command"));
  group.command("status").description("whether the engine runs: its pid, version, store, clients, pairs and when it exits").option(...JSON_OPTION)
    .action(act<EngineOptions>(({ services, options }) => status(services, options)));
  group.command("stop").description("stop the engine cleanly (its store closed); the next command starts a new one").option(...JSON_OPTION)
    .action(act<EngineOptions>(({ services, options }) => stop(services, options)));
}
