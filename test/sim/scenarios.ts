import { PRIORITIES, type Priority } from "../../src/core/projects/project";
import { SPEC_POLICY } from "../../src/core/resources/policy";
import type { SimConfig, SimProject, SimResult } from "./simulator";

// The workloads the Resource Director's bench and tests simulate. Step times come from measured
// speeds of a 7B model on a laptop CPU (prompt evaluation ~60 tokens/s, generation ~8 tokens/s)
// and a 10-second test run: about 110 s per step.

export const STEP: SimConfig["step"] = { promptTokens: 3000, outputTokens: 400, evalPerSecond: 60, generatePerSecond: 8, testMs: 10_000, spread: 0.5 };

export function baseConfig(overrides: Partial<SimConfig>): SimConfig {
  return { seed: 1, hours: 24, slots: 4, projects: [], policy: SPEC_POLICY, scheduler: "director", residentModels: 2, loadMs: 20_000, step: STEP, windowMs: 3_600_000, ...overrides };
}

/** `count` projects, tiers in turn (critical, high, medium, low, critical, …), each on one of `models` models. */
export function projects(count: number, models: number, shape: Partial<SimProject> = {}): SimProject[] {
  return Array.from({ length: count }, (_, i) => ({ id: `p${String(i + 1).padStart(2, "0")}-${PRIORITIES[i % 4]}`, priority: PRIORITIES[i % 4] as Priority, model: `model-${i % models}`, backlog: Infinity, stepsPerTicket: 6, ...shape }));
}

/** Mean absolute error, in percentage points of NOS, between used and target shares in the windows where demand was steady (the first one is warm-up). */
export function shareError(result: SimResult): number {
  const errors = result.windows.slice(1).filter((w) => w.steady).flatMap((w) => [...w.target].map(([id, target]) => Math.abs((w.used.get(id) ?? 0) - target) * 100));
  return errors.reduce((a, b) => a + b, 0) / Math.max(1, errors.length);
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
