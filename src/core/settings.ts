// Every Redgreen setting in one place: its zod schema and default. package.json's
// contributes.configuration must list exactly these keys with these defaults (a unit test checks).
import * as z from "zod";

/** Test files unless the project says otherwise: common layouts of JS/TS, Python, Go, Java. */
export const DEFAULT_TEST_PATHS: string[] = ["test/**", "tests/**", "**/__tests__/**", "**/*.test.*", "**/*.spec.*", "**/test_*.py", "**/*_test.py", "**/*_test.go", "src/test/**"];

const percent = z.number().min(0).max(100);

export const settingSchemas = {
  "webviews.requestTimeoutMs": z.number().int().min(100).max(600_000).default(10_000),
  /** 0 means one thread per core of the machine. */
  "models.threads": z.number().int().min(0).max(256).default(0),
  "models.gpu": z.enum(["auto", "off"]).default("auto"),
  /** Layered over the default registry (models/registry.json), under the workspace's .redgreen/models.json. */
  "models.registry": z.record(z.string(), z.unknown()).default({}),
  /** Serve the loaded models as an OpenAI-compatible API on 127.0.0.1, with a bearer token. */
  "models.serve.enabled": z.boolean().default(false),
  "models.serve.port": z.number().int().min(1024).max(65_535).default(11_435),
  /** Empty: the embedded store. The password never goes here: it lives in SecretStorage. */
  "store.mongodbUri": z
    .string()
    .trim()
    .refine((uri) => uri === "" || /^mongodb(\+srv)?:\/\/[^\s]+$/.test(uri), "must be empty or start with mongodb:// or mongodb+srv://")
    .refine((uri) => !/^mongodb(\+srv)?:\/\/[^/@]*:[^/@]*@/.test(uri), "must not contain a password (use the command Redgreen: Set MongoDB Password)")
    .default(""),
  /** Days chat transcripts and agent logs are kept; 0 keeps them for good. */
  "store.retentionDays": z.number().int().min(0).max(36_500).default(90),
  /** Where New Project puts the spec, relative to the project's folder. */
  "spec.path": z
    .string()
    .trim()
    .regex(/^(?![\\/])(?!.*\.\.)[^:*?"<>|]+\.md$/, "must be a relative path to a .md file inside the project, e.g. docs/SPEC.md")
    .default("SPEC.md"),
  /** Recent messages and agent events kept in working memory per project. */
  "memory.workingSize": z.number().int().min(100).max(100_000).default(10_000),
  /** Globs (relative to the project) of test files: only the Tester writes them, never the Developer. */
  "tdd.testPaths": z.array(z.string().min(1).max(200)).min(1).max(50).default(DEFAULT_TEST_PATHS),
  "tdd.attemptsPerStep": z.number().int().min(1).max(10).default(3),
  "tdd.cyclesPerTicket": z.number().int().min(1).max(50).default(8),
  "tdd.testTimeoutSeconds": z.number().int().min(5).max(3600).default(300),
  /** Minutes between checkpoint commits of a pair's work in progress; 0 turns them off. */
  "tdd.checkpointMinutes": z.number().int().min(0).max(240).default(10),
  /** Run in the worktree when the Tester says a ticket is covered; empty: no coverage target. */
  "tdd.coverageCommand": z.string().max(500).default(""),
  "tdd.coverageTarget": z.number().min(0).max(100).default(80),
  /** Pairs take ready tickets by themselves; off, a project's pairs start only with Start Pair. */
  "pairs.autoStart": z.boolean().default(true),
  /** How many pairs work at once in this process, across every executing project (one ticket each). */
  "pairs.slots": z.number().int().min(1).max(16).default(1),
  /** Refuse to run agents' code where the machine has no sandbox; false runs it with the time and output limits only. */
  "sandbox.require": z.boolean().default(true),
  /** The data folder whose engine the editor uses; empty: $REDGREEN_DATA, else the OS user data folder (as the CLI). */
  "engine.dataFolder": z
    .string()
    .trim()
    .refine((folder) => folder === "" || folder.startsWith("/") || /^[A-Za-z]:[\\/]/.test(folder) || folder.startsWith("\\\\"), "must be empty or an absolute path")
    .default(""),
  /** Minutes the engine of a data folder keeps running with no client connected; 0: it exits with its last client. */
  "engine.idleMinutes": z.number().int().min(0).max(1440).default(10),
  /** The engine's pairs go on after the window whose team they are closes (until their work runs out); off: they stop at the next step. */
  "engine.keepWorking": z.boolean().default(false),
  /** SPEC-001's base quota of each priority tier, in percent of the machine's capacity after the reserve (NOS). */
  "resources.quotas": z
    .object({ critical: percent, high: percent, medium: percent, low: percent })
    .refine((q) => q.critical >= q.high && q.high >= q.medium && q.medium >= q.low, "a higher tier's quota must not be below a lower tier's")
    .default({ critical: 90, high: 70, medium: 40, low: 10 }),
  /** The most of NOS ever allocated, in percent. */
  "resources.hardCap": z.number().min(10).max(100).default(90),
  /** Percent of its share a project must have used before one of its pairs yields its turn to another project. */
  "resources.threshold": z.number().min(50).max(100).default(98),
  /** The most tasks (pairs, planning, completions) running at once on the machine. */
  "resources.maxConcurrentTasks": z.number().int().min(1).max(256).default(16),
  /** Minutes between the Resource Director's reviews when nothing changes; also how long a project with work can go without a pair. */
  "resources.reviewMinutes": z.number().int().min(1).max(1440).default(20),
  /** What is kept for other applications: a share of the cores (percent) and memory (GB). */
  "resources.reserve": z.object({ cpuPercent: percent.max(90), memoryGB: z.number().min(0).max(1024) }).default({ cpuPercent: 25, memoryGB: 2 }),
  /** Let test runs reach the network (inside the sandbox they have only their own loopback otherwise). */
  "sandbox.network": z.boolean().default(false),
} as const;

export type SettingKey = keyof typeof settingSchemas;
export type SettingValue<K extends SettingKey> = z.output<(typeof settingSchemas)[K]>;

export interface ParsedSetting<K extends SettingKey> {
  value: SettingValue<K>;
  /** Set when the user's value was rejected and the default is used instead. */
  problem?: string;
}

/** Validates a raw value read from the editor's settings; a bad one falls back to the default. */
export function parseSetting<K extends SettingKey>(key: K, raw: unknown): ParsedSetting<K> {
  const schema = settingSchemas[key];
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { value: parsed.data as SettingValue<K> };
  const fallback = schema.parse(undefined) as SettingValue<K>;
  const reason = parsed.error.issues.map((issue) => issue.message).join("; ");
  return {
    value: fallback,
    problem: `Setting "redgreen.${key}" has an invalid value ${withoutPasswords(JSON.stringify(raw))}: ${reason}. Using the default, ${JSON.stringify(fallback)}.`,
  };
}

/** Every setting as `settings` reads it (what a client tells the engine's team, which checks each again). */
export function settingsSnapshot(settings: { get<K extends SettingKey>(key: K): SettingValue<K> }): Record<string, unknown> {
  return Object.fromEntries((Object.keys(settingSchemas) as SettingKey[]).map((key) => [key, settings.get(key)]));
}

export function settingDefault<K extends SettingKey>(key: K): SettingValue<K> {
  return settingSchemas[key].parse(undefined) as SettingValue<K>;
}

/** A rejected value is echoed in logs and notifications: never with a URI's password in it. */
function withoutPasswords(text: string): string {
  return text.replace(/(:\/\/[^:/@\s"]*):[^@/\s"]*@/g, "$1:***@");
}
