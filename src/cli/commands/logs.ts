// `logs [project]`: what the agents did and said, oldest first: the agent logs and the transcript
// (the human's chat with the PM and the agents' channel) from the Memory Manager.
import type { Command } from "commander";
import { Option } from "commander";
import type * as z from "zod";
import { CliError } from "../errors";
import { act, JSON_OPTION } from "../command";
import { resolveProject } from "../projectArg";
import { logsOutput } from "../schemas";
import { projectRef } from "../views";

type Entry = z.input<typeof logsOutput>["entries"][number];

interface LogsOptions {
  ticket?: string;
  limit: string;
  channel?: "human" | "agents";
  json?: boolean;
}

export function registerLogs(program: Command): void {
  program
    .command("logs")
    .description("a project's agent logs and conversation, oldest first")
    .argument("[project]", "a project id, name or folder (default: the project around the current folder)")
    .option("--ticket <id>", "only what concerns this ticket")
    .addOption(new Option("--channel <channel>", "only this conversation (and no agent logs)").choices(["human", "agents"]))
    .option("-n, --limit <count>", "the newest this many entries", "100")
    .option(...JSON_OPTION)
    .action(
      act<LogsOptions>(async ({ services, args: [arg], options }) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit must be a whole number above 0, not "${options.limit}"`);
        const memory = await services.memory();
        const project = await resolveProject(memory, arg);
        const range = { ticketId: options.ticket, limit };
        const messages = await memory.transcript.messages(project._id, { ...range, channel: options.channel });
        const logs = options.channel ? [] : await memory.transcript.agentLogs(project._id, range);
        const entries: Entry[] = [
          ...messages.map((m) => ({ at: m.at.toISOString(), kind: "message" as const, from: m.from, level: null, channel: m.channel, ticketId: m.ticketId ?? null, text: m.text })),
          ...logs.map((l) => ({ at: l.at.toISOString(), kind: "log" as const, from: l.role, level: l.level, channel: null, ticketId: l.ticketId ?? null, text: l.message })),
        ].sort((a, b) => a.at.localeCompare(b.at)).slice(-limit);
        if (options.json) return services.out.json(logsOutput, { project: projectRef(project), entries });
        if (entries.length === 0) return services.out.result(`Nothing logged for "${project.name}" yet.`);
        const { paint } = services.out;
        services.out.result(entries.map((e) => `${paint.dim(e.at)} ${paint.cyan(e.kind === "log" ? `[${e.level}] ${e.from}` : `${e.from} → ${e.channel}`)}${e.ticketId ? ` ${e.ticketId}` : ""}: ${e.text}`).join("\n"));
      }),
    );
}
