// The Resource Director at scales this machine cannot run: a discrete-event simulation drives the
// real policy and Director (and a plain round-robin on the same workload, for comparison), for
// fixed seeds. Prints the issue's figures with their goals, times the decisions themselves, and
// writes the share-over-time chart (SVG, rendered to PNG by scripts/render-svg.mjs).
import { promises as fs } from "node:fs";
import path from "node:path";
import { PRIORITIES } from "../../src/core/projects/project";
import { ResourceDirector, type DirectorView, type RunningWork, type WaitingWork } from "../../src/core/resources/director";
import { SPEC_POLICY } from "../../src/core/resources/policy";
import { baseConfig, percentile, projects, shareError } from "../sim/scenarios";
import { simulate, type SimConfig, type SimResult } from "../sim/simulator";

const SEEDS = [1, 2, 3];
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fixed = (value: number, digits = 2) => value.toFixed(digits);

function runSeeds(config: Omit<SimConfig, "seed">): { results: SimResult[]; ms: number[] } {
  const ms: number[] = [];
  const results = SEEDS.map((seed) => {
    const started = performance.now();
    const result = simulate({ ...config, seed });
    ms.push(performance.now() - started);
    return result;
  });
  return { results, ms };
}

function shares(): SimResult {
  const week = baseConfig({ slots: 16, hours: 168, residentModels: 3, projects: projects(20, 5) });
  const { results, ms } = runSeeds(week);
  const errors = results.map(shareError);
  console.log(`share of NOS per project against the policy's target, 20 projects on 16 slots for a simulated week: mean absolute error ${errors.map((e) => fixed(e)).join(" / ")} points (seeds ${SEEDS.join(", ")}; goal < 3)`);
  console.log(`utilisation while ready work exists: ${results.map((r) => fixed(r.utilisation * 100, 1)).join(" / ")} % of the allocatable slots (goal ≥ 95 %)`);
  console.log(`simulating that week: median ${fixed(median(ms) / 1000)} s (${results[0]!.decisions} decisions)`);
  for (const [name, config] of [
    ["3 projects (critical, medium, low) on 2 slots, a day", baseConfig({ slots: 2, projects: projects(3, 1).map((p, i) => ({ ...p, id: ["pay", "shop", "blog"][i]!, priority: (["critical", "medium", "low"] as const)[i]! })) })],
    ["4 projects (one per tier) on 4 slots, a day", baseConfig({ slots: 4, projects: projects(4, 2) })],
  ] as const) {
    const small = runSeeds(config).results;
    console.log(`  ${name}: error ${small.map((r) => fixed(shareError(r))).join(" / ")} points; pauses per hour ${small.map((r) => fixed(r.pauses.length / config.hours, 1)).join(" / ")}`);
  }
  return results[0]!;
}

function loads(): void {
  for (const [name, config, models, memory] of [
    ["6 projects on 3 models, 2 slots, memory for 1 model", baseConfig({ slots: 2, hours: 48, residentModels: 1, projects: projects(6, 3) }), 3, 1],
    ["20 projects on 10 models, 8 slots, memory for 4 models", baseConfig({ slots: 8, hours: 48, residentModels: 4, projects: projects(20, 10) }), 10, 4],
  ] as const) {
    const director = runSeeds(config).results;
    const roundRobin = runSeeds({ ...config, scheduler: "roundRobin" }).results;
    const perHour = (results: SimResult[]) => results.map((r) => r.loads / config.hours);
    // Every model memory does not hold has a project that must get a pair once per review cycle.
    const floor = (models - memory) * (60 / (config.policy.reviewMs / 60_000));
    console.log(`heavy-model loads per simulated hour, ${name}: Director ${perHour(director).map((v) => fixed(v)).join(" / ")} (beyond memory ${director.map((r) => r.overMemory).join(" / ")}), round-robin ${perHour(roundRobin).map((v) => fixed(v)).join(" / ")} (beyond memory ${roundRobin.map((r) => r.overMemory).join(" / ")}); ratio ${fixed(median(perHour(director)) / median(perHour(roundRobin)))} (goal ≤ 0.5); the review cycle's floor ${fixed(floor, 0)} per hour`);
    console.log(`  with it: share error ${director.map((r) => fixed(shareError(r))).join(" / ")} points, utilisation ${director.map((r) => fixed(r.utilisation * 100, 1)).join(" / ")} %, longest wait for a pair ${director.map((r) => fixed(Math.max(...r.longestGap.values()) / 60_000, 0)).join(" / ")} min`);
  }
}

function criticalWaits(): void {
  const shape = projects(20, 5).map((p) => (p.priority === "critical" ? { ...p, backlog: 0, arrivalsPerHour: 1 } : p));
  for (const memory of [5, 3]) {
    const waits = runSeeds(baseConfig({ slots: 16, hours: 168, residentModels: memory, projects: shape })).results.flatMap((r) => r.criticalWaits);
    console.log(`from "a critical project's ticket ready" (the project had no other work) to "running", memory for ${memory} of 5 models: p50 ${percentile(waits, 50)}, p95 ${percentile(waits, 95)}, max ${Math.max(...waits)} step boundaries of the pair that took it (${waits.length} tickets; goal p95 ≤ 1)`);
  }
}

/** Median time of one decision, the Director's credits moving as in a running engine. */
function decisionTime(projectCount: number, ticketsPerProject: number, slots: number, local: boolean): number {
  const director = new ResourceDirector(() => SPEC_POLICY);
  const projectsOf = Array.from({ length: projectCount }, (_, i) => ({ projectId: `p${i}`, name: `p${i}`, priority: PRIORITIES[i % 4]! }));
  const waiting: WaitingWork[] = projectsOf.flatMap((p) => Array.from({ length: ticketsPerProject }, (_, t) => ({ projectId: p.projectId, ticketId: `${p.projectId}-${t}`, resumed: false, createdAt: t, model: `m${t % 3}` })));
  const running: RunningWork[] = Array.from({ length: slots }, (_, i) => ({ pairId: `pair-${i}`, projectId: `p${(i * 7) % projectCount}`, ticketId: `r${i}`, model: "m0", since: 0 }));
  // Local models: memory for two of the three, so model switches are weighed at every decision. Remote ones take none.
  const memory = local ? { capacity: 2, sizes: new Map([["m0", 1], ["m1", 1], ["m2", 1]]) } : undefined;
  const times: number[] = [];
  for (let i = 0; i < 60; i++) {
    const view: DirectorView = { now: i * 60_000, slots, otherTasks: 0, projects: projectsOf, running, waiting, loadedModels: new Set(["m0"]), ...(memory ? { memory } : {}) };
    const started = performance.now();
    director.decide(view);
    times.push(performance.now() - started);
  }
  return median(times.slice(10));
}

function svgChart(result: SimResult, file: string): string {
  const width = 900;
  const height = 420;
  const pad = { left: 56, right: 180, top: 30, bottom: 40 };
  const ids = [...new Set(result.windows.flatMap((w) => [...w.target.keys()]))].sort().slice(0, 8);
  const max = Math.max(...result.windows.flatMap((w) => ids.flatMap((id) => [w.used.get(id) ?? 0, w.target.get(id) ?? 0]))) * 1.1;
  const x = (i: number) => pad.left + (i / Math.max(1, result.windows.length - 1)) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  const colours = ["#d1495b", "#edae49", "#00798c", "#30638e", "#7a5195", "#66a182", "#8d6a9f", "#2e4057"];
  const line = (values: number[], colour: string, dashed: boolean) => `<polyline fill="none" stroke="${colour}" stroke-width="${dashed ? 1.5 : 2}" ${dashed ? 'stroke-dasharray="6 4"' : ""} points="${values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}"/>`;
  const series = ids.map((id, n) => line(result.windows.map((w) => w.used.get(id) ?? 0), colours[n]!, false) + line(result.windows.map((w) => w.target.get(id) ?? 0), colours[n]!, true));
  const legend = ids.map((id, n) => `<rect x="${width - pad.right + 16}" y="${pad.top + n * 22}" width="14" height="4" fill="${colours[n]}"/><text x="${width - pad.right + 36}" y="${pad.top + n * 22 + 6}">${id}</text>`);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${pad.left - 8}" y="${y(f * max) + 4}" text-anchor="end">${Math.round(f * max * 100)} %</text><line x1="${pad.left}" x2="${width - pad.right}" y1="${y(f * max)}" y2="${y(f * max)}" stroke="#ddd"/>`);
  const hours = result.windows.length;
  const xTicks = Array.from({ length: 7 }, (_, k) => Math.round((k * (hours - 1)) / 6)).map((i) => `<text x="${x(i)}" y="${height - pad.bottom + 16}" text-anchor="middle">${i}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>
<text x="${pad.left}" y="18" font-size="14">${file}: share of NOS per project per hour (solid: used; dashed: the policy's target)</text>${ticks.join("")}${xTicks.join("")}${series.join("")}${legend.join("")}
<text x="${(width - pad.right) / 2}" y="${height - 6}" text-anchor="middle">simulated hours</text></svg>`;
}

async function main(): Promise<void> {
  const week = shares();
  loads();
  criticalWaits();
  console.log(`time per allocation decision: 100 projects × 10,000 tickets on 16 slots, memory for 2 of their 3 models ${fixed(decisionTime(100, 100, 16, true), 3)} ms (goal < 1 ms); 1,000 projects against 64 remote model slots ${fixed(decisionTime(1000, 10, 64, false), 3)} ms (goal < 10 ms)`);
  const small = simulate(baseConfig({ slots: 4, hours: 24, projects: projects(4, 2) }));
  const out = path.join(".cache", "bench");
  await fs.mkdir(out, { recursive: true });
  await fs.writeFile(path.join(out, "resource-shares-4-projects.svg"), svgChart(small, "4 projects on 4 slots"));
  await fs.writeFile(path.join(out, "resource-shares-20-projects.svg"), svgChart({ ...week, windows: week.windows.slice(0, 48) }, "20 projects on 16 slots (first 48 h, 8 shown)"));
  console.log(`charts: ${out}/resource-shares-*.svg (.png after scripts/render-svg.mjs)`);
}

void main();
