import * as assert from "node:assert/strict";
import fc from "fast-check";
import { PRIORITIES } from "../../src/core/projects/project";
import { ResourceDirector, type DirectorView, type RunningWork, type WaitingWork } from "../../src/core/resources/director";
import { SPEC_POLICY } from "../../src/core/resources/policy";
import { medianStepMs, simulate } from "../sim/simulator";
import { baseConfig, percentile, projects, shareError } from "../sim/scenarios";

const MINUTE = 60_000;
const project = (projectId: string, priority: (typeof PRIORITIES)[number]) => ({ projectId, name: projectId, priority });
const waiting = (projectId: string, n: number, model?: string): WaitingWork[] => Array.from({ length: n }, (_, i) => ({ projectId, ticketId: `${projectId}-${i}`, resumed: false, createdAt: i, model }));
const view = (over: Partial<DirectorView>): DirectorView => ({ now: 0, slots: 1, otherTasks: 0, projects: [], running: [], waiting: [], loadedModels: new Set(), ...over });

describe("Resource Director: turning shares into pairs", () => {
  it("gives a free slot to the project owed a whole slot, and pauses nobody while a slot is free", () => {
    const director = new ResourceDirector(() => SPEC_POLICY);
    const decision = director.decide(view({ slots: 2, projects: [project("blog", "low"), project("pay", "critical")], waiting: [...waiting("blog", 3), ...waiting("pay", 1)] }));
    assert.deepEqual(decision.start.map((w) => w.projectId), ["pay", "blog"]);
    assert.deepEqual(decision.pause, []);
  });

  it("pauses the lowest tier's pair, with its reason, when a critical ticket becomes ready and every slot is busy", () => {
    const director = new ResourceDirector(() => SPEC_POLICY);
    const running: RunningWork[] = [{ pairId: "pair-1", projectId: "blog", ticketId: "blog-0", since: 0 }, { pairId: "pair-2", projectId: "shop", ticketId: "shop-0", since: 0 }];
    const projects = [project("blog", "low"), project("shop", "medium"), project("pay", "critical")];
    director.decide(view({ slots: 2, projects, running, waiting: [...waiting("blog", 2), ...waiting("shop", 2)] }));
    const decision = director.decide(view({ now: MINUTE, slots: 2, projects, running, waiting: [...waiting("blog", 2), ...waiting("shop", 2), ...waiting("pay", 1)] }));
    assert.deepEqual(decision.pause.map((p) => p.pairId), ["pair-1"]);
    assert.match(decision.pause[0]!.reason, /^pay \(critical\) is owed a slot .*; blog \(low\) has used more than its share/);
  });

  it("does not pause again for a slot already being freed", () => {
    const director = new ResourceDirector(() => SPEC_POLICY);
    const projects = [project("blog", "low"), project("pay", "critical")];
    const running: RunningWork[] = [{ pairId: "pair-1", projectId: "blog", ticketId: "blog-0", since: 0, pausing: true }, { pairId: "pair-2", projectId: "blog", ticketId: "blog-1", since: 0 }];
    const decision = director.decide(view({ now: MINUTE, slots: 2, projects, running, waiting: waiting("pay", 1) }));
    assert.deepEqual(decision.pause, []);
  });

  it("stops the lowest tiers first when the maximum of concurrent tasks falls below the running pairs", () => {
    const director = new ResourceDirector(() => ({ ...SPEC_POLICY, maxConcurrentTasks: 2 }));
    const running: RunningWork[] = ["pay", "blog", "shop"].map((id, i) => ({ pairId: `pair-${i}`, projectId: id, ticketId: `${id}-0`, since: 0 }));
    const decision = director.decide(view({ slots: 3, otherTasks: 0, projects: [project("pay", "critical"), project("blog", "low"), project("shop", "medium")], running }));
    assert.deepEqual(decision.pause.map((p) => p.projectId), ["blog"]);
  });

  it("prefers the ticket whose model is already loaded among a project's new tickets", () => {
    const director = new ResourceDirector(() => SPEC_POLICY);
    const queue = [...waiting("shop", 1, "big"), { ...waiting("shop", 1, "small")[0]!, ticketId: "shop-late", createdAt: 5 }];
    const decision = director.decide(view({ projects: [project("shop", "medium")], waiting: queue, loadedModels: new Set(["small"]) }));
    assert.equal(decision.start[0]!.ticketId, "shop-late");
  });

  it("starts no pair on a model memory cannot hold beside the one in use, and switches models for a project's turn, pausing every pair on the other", () => {
    const director = new ResourceDirector(() => SPEC_POLICY);
    const projects = [project("shop", "medium"), project("blog", "medium")];
    const memory = { capacity: 10, sizes: new Map([["big-a", 6], ["big-b", 6], ["remote", 0]]) };
    const running: RunningWork[] = [{ pairId: "pair-1", projectId: "shop", ticketId: "shop-0", model: "big-a", since: 0 }];
    const queue = [...waiting("shop", 1, "big-a").map((w) => ({ ...w, ticketId: "shop-1" })), ...waiting("blog", 2, "big-b")];
    const at = (now: number, over: Partial<DirectorView> = {}) => director.decide(view({ now, slots: 3, projects, running, waiting: queue, loadedModels: new Set(["big-a"]), memory, ...over }));
    const first = at(0);
    assert.deepEqual(first.start.map((w) => w.ticketId), ["shop-1"], "the free slots go to the loaded model only, though blog is owed them");
    assert.deepEqual(first.pause, []);
    const withRemote = at(0, { projects: [...projects, project("docs", "low")], waiting: [...queue, ...waiting("docs", 1, "remote")] });
    assert.ok(withRemote.start.some((w) => w.ticketId === "docs-0"), "a model that takes no memory is not held back");
    const turn = at(SPEC_POLICY.reviewMs);
    assert.deepEqual(turn.pause.map((p) => p.pairId), ["pair-1"], "blog has had no pair for a review cycle: shop's model leaves");
    assert.match(turn.pause[0]!.reason, /^blog \(medium\) is owed time on a model that memory cannot hold/);
    assert.deepEqual(turn.start.map((w) => w.ticketId), [], "the free slots wait for blog's model rather than keep shop's");
    const drained = at(SPEC_POLICY.reviewMs + MINUTE, { running: [] });
    assert.deepEqual(drained.start.map((w) => w.model), ["big-b", "big-b"], "blog's model comes in; shop's cannot stay beside it");
  });

  it("takes slot-time from two projects for two models only when memory holds both beside the rest", () => {
    const director = new ResourceDirector(() => SPEC_POLICY);
    const projects = [project("big", "medium"), project("left", "medium"), project("right", "medium")];
    const memory = { capacity: 10, sizes: new Map([["a", 6], ["b", 4], ["c", 4]]) };
    const running: RunningWork[] = ["pair-1", "pair-2"].map((pairId, i) => ({ pairId, projectId: "big", ticketId: `big-${i}`, model: "a", since: 0 }));
    const queue = [...waiting("big", 2, "a").map((w, i) => ({ ...w, ticketId: `big-${i + 2}` })), ...waiting("left", 2, "b"), ...waiting("right", 2, "c")];
    const at = (now: number) => director.decide(view({ now, slots: 2, projects, running, waiting: queue, loadedModels: new Set(["a"]), memory }));
    at(0);
    const later = at(10 * MINUTE);
    assert.ok(later.pause.length <= 1, `both of big's pairs paused, for models that do not fit together: ${later.pause.map((p) => p.reason).join("; ")}`);
  });

  it("gives a project owed whole slots all of them before others' turns, and undoes none of it at the next decision", () => {
    const director = new ResourceDirector(() => SPEC_POLICY);
    const projects = [project("shop", "medium"), project("pay", "critical"), project("blog", "low")];
    const running: RunningWork[] = [{ pairId: "pair-0", projectId: "shop", ticketId: "shop-x", since: 0 }];
    const queue = [...waiting("shop", 5), ...waiting("pay", 3), ...waiting("blog", 4)];
    const first = director.decide(view({ slots: 5, projects, running, waiting: queue }));
    assert.deepEqual(first.start.map((w) => w.projectId), ["pay", "pay", "pay", "shop"], "pay's share is worth 3 slots, shop's 1.6, blog's 0.4");
    const started: RunningWork[] = first.start.map((w, i) => ({ pairId: `pair-${i + 1}`, projectId: w.projectId, ticketId: w.ticketId, since: 0 }));
    const next = director.decide(view({ now: 1000, slots: 5, projects, running: [...running, ...started], waiting: queue.filter((w) => !first.start.includes(w)) }));
    assert.deepEqual(next.pause, []);
  });

  it("decides the same for the same inputs (any order of projects and tickets)", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ tier: fc.constantFrom(...PRIORITIES), ready: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 6 }), (specs, slots) => {
        const projects = specs.map((s, i) => project(`p${i}`, s.tier));
        const queue = specs.flatMap((s, i) => waiting(`p${i}`, s.ready));
        const one = new ResourceDirector(() => SPEC_POLICY).decide(view({ slots, projects, waiting: queue }));
        const two = new ResourceDirector(() => SPEC_POLICY).decide(view({ slots, projects: [...projects].reverse(), waiting: [...queue].reverse() }));
        assert.deepEqual(two.start.map((w) => w.ticketId), one.start.map((w) => w.ticketId));
        assert.equal(one.start.length, Math.min(slots, queue.length), "work-conserving: every free slot with ready work is filled");
      }),
    );
  });

  describe("simulated (short form of `npm run bench`)", function () {
    this.timeout(60_000);
    it("keeps each project's share within 3 points of the policy, the machine busy, and nobody waiting a review cycle", () => {
      for (const seed of [1, 2, 3]) {
        const config = baseConfig({ seed, slots: 4, hours: 24, projects: projects(4, 2) });
        const result = simulate(config);
        assert.ok(shareError(result) < 3, `seed ${seed}: mean error ${shareError(result)} points`);
        assert.ok(result.utilisation >= 0.95, `seed ${seed}: utilisation ${result.utilisation}`);
        const bound = SPEC_POLICY.reviewMs + 4 * medianStepMs(config);
        for (const [id, gap] of result.longestGap) assert.ok(gap <= bound, `seed ${seed}: ${id} waited ${gap / MINUTE} minutes`);
      }
    });

    it("gives a critical project's ticket that becomes ready a slot within one step (p95)", () => {
      const shape = projects(20, 5).map((p) => (p.priority === "critical" ? { ...p, backlog: 0, arrivalsPerHour: 1 } : p));
      // Memory for every model: with less, a model must be switched in, which waits for every pair on the model it replaces.
      const result = simulate(baseConfig({ seed: 4, slots: 16, hours: 48, residentModels: 5, projects: shape }));
      assert.ok(result.criticalWaits.length > 50);
      assert.ok(percentile(result.criticalWaits, 95) <= 1, `p95 ${percentile(result.criticalWaits, 95)} steps`);
    });

    it("never has more models in use than memory holds, loads them about as seldom as the review cycle allows, and keeps shares and slots", () => {
      for (const [slots, memory, count, models] of [[2, 1, 6, 3], [8, 4, 20, 10]] as const) {
        const config = baseConfig({ slots, hours: 12, residentModels: memory, projects: projects(count, models) });
        const director = simulate(config);
        const roundRobin = simulate({ ...config, scheduler: "roundRobin" });
        const name = `${count} projects on ${models} models, memory for ${memory}`;
        assert.equal(director.overMemory, 0, `${name}: loads beyond memory`);
        assert.ok(roundRobin.overMemory > 0, "the round-robin does overload memory: the count can fail");
        // Each model memory does not hold has a project that must get a pair within about a review cycle.
        const floor = (models - memory) * (60 / (SPEC_POLICY.reviewMs / MINUTE)) * config.hours;
        assert.ok(director.loads < roundRobin.loads && director.loads <= 1.4 * floor, `${name}: ${director.loads} loads (round-robin ${roundRobin.loads}, floor ${floor})`);
        assert.ok(shareError(director) < 5, `${name}: mean share error ${shareError(director)} points`);
        assert.ok(director.utilisation >= 0.9, `${name}: utilisation ${director.utilisation}`);
        for (const [id, gap] of director.longestGap) assert.ok(gap <= 2 * SPEC_POLICY.reviewMs, `${name}: ${id} waited ${gap / MINUTE} minutes`);
      }
    });

    it("is deterministic for a seed", () => {
      const config = baseConfig({ seed: 9, slots: 2, hours: 6, projects: projects(3, 1) });
      assert.deepEqual(simulate(config).pauses, simulate(config).pauses);
    });
  });
});
