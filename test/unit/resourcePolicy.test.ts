import * as assert from "node:assert/strict";
import fc from "fast-check";
import { PRIORITIES, type Priority } from "../../src/core/projects/project";
import type { SettingsReader } from "../../src/core/orchestrator/settingsReader";
import { allocate, machineSlots, modelMemory, modelsToUnload, SPEC_POLICY, slotsOf, type Allocation, type ProjectDemand } from "../../src/core/resources/policy";
import { settingDefault, type SettingKey } from "../../src/core/settings";

const EPSILON = 1e-9;
const total = (allocations: Allocation[]) => allocations.reduce((sum, a) => sum + a.share, 0);
const shareOf = (allocations: Allocation[], id: string) => allocations.find((a) => a.projectId === id)?.share ?? 0;
const round = (allocations: Allocation[]) => Object.fromEntries(allocations.map((a) => [a.projectId, Math.round(a.share * 1000) / 1000]));
const busy = (projectId: string, priority: Priority, demand = SPEC_POLICY.hardCap): ProjectDemand => ({ projectId, priority, demand });

// Demand is a whole number of slots times the cap over the slots: never a denormal.
const demandArbitrary = fc.record({ projectId: fc.uuid(), priority: fc.constantFrom(...PRIORITIES), demand: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 0.9, noNaN: true })) });
const demandsArbitrary = fc.uniqueArray(demandArbitrary, { selector: (d) => d.projectId, minLength: 0, maxLength: 30 });
const quota = fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 1, noNaN: true }));
const policyArbitrary = fc.record({
  // A quota may be 0 (the settings allow it): such a tier gets only what nobody else asked for.
  quotas: fc.record({ critical: quota, high: quota, medium: quota, low: quota }),
  hardCap: fc.double({ min: 0.1, max: 1, noNaN: true }),
}).map(({ quotas, hardCap }) => {
  // Tiers keep their order: a higher tier's quota is never below a lower one's.
  const [critical, high, medium, low] = [quotas.critical, quotas.high, quotas.medium, quotas.low].sort((a, b) => b - a) as [number, number, number, number];
  return { ...SPEC_POLICY, quotas: { critical, high, medium, low }, hardCap };
});

describe("Resource Director: the allocation policy", () => {
  describe("the README's worked examples (SPEC-001's numbers)", () => {
    it("one busy project gets its quota, then the rest up to the hard cap", () => {
      const [only] = allocate([busy("shop", "medium")], SPEC_POLICY);
      assert.deepEqual({ base: only!.base, topUp: Math.round(only!.topUp * 1000) / 1000, share: only!.share }, { base: 0.4, topUp: 0.5, share: 0.9 });
    });

    it("two busy projects: over the cap the quotas scale down; under it the top-up goes to the higher tier", () => {
      assert.deepEqual(round(allocate([busy("pay", "critical"), busy("blog", "low")], SPEC_POLICY)), { pay: 0.81, blog: 0.09 });
      assert.deepEqual(round(allocate([busy("shop", "medium"), busy("blog", "low")], SPEC_POLICY)), { shop: 0.8, blog: 0.1 });
    });

    it("four busy projects, one per tier, share the hard cap in proportion to their quotas", () => {
      const allocations = allocate([busy("d", "low"), busy("c", "medium"), busy("b", "high"), busy("a", "critical")], SPEC_POLICY);
      assert.deepEqual(round(allocations), { a: 0.386, b: 0.3, c: 0.171, d: 0.043 });
      assert.deepEqual(allocations.map((a) => Math.round(slotsOf(a.share, 4, SPEC_POLICY) * 100) / 100), [1.71, 1.33, 0.76, 0.19]);
    });

    it("a project that can use little keeps only that; the rest tops up the others", () => {
      assert.deepEqual(round(allocate([busy("pay", "critical", 0.225), busy("blog", "low")], SPEC_POLICY)), { pay: 0.225, blog: 0.675 });
    });
  });

  describe("properties", () => {
    it("never allocates more than the hard cap, nor more than a project can use", () => {
      fc.assert(
        fc.property(demandsArbitrary, policyArbitrary, (demands, policy) => {
          const allocations = allocate(demands, policy);
          assert.ok(total(allocations) <= policy.hardCap + EPSILON);
          for (const a of allocations) assert.ok(a.share <= demands.find((d) => d.projectId === a.projectId)!.demand + EPSILON);
        }),
      );
    });

    it("puts a project above its quota only with capacity nobody else asked for", () => {
      fc.assert(
        fc.property(demandsArbitrary, policyArbitrary, (demands, policy) => {
          const allocations = allocate(demands, policy);
          if (!allocations.some((a) => a.share > a.quota + EPSILON)) return;
          // Someone above quota: then every other project has all it asked for, up to its quota.
          for (const a of allocations) assert.ok(a.share >= Math.min(a.quota, demands.find((d) => d.projectId === a.projectId)!.demand) - EPSILON);
        }),
      );
    });

    it("with equal demand, a higher tier never gets less than a lower one", () => {
      fc.assert(
        fc.property(demandsArbitrary, policyArbitrary, fc.double({ min: 0.001, max: 0.9, noNaN: true }), (demands, policy, demand) => {
          const same = demands.map((d) => ({ ...d, demand }));
          const allocations = allocate(same, policy);
          for (const higher of allocations)
            for (const lower of allocations)
              if (PRIORITIES.indexOf(higher.priority) < PRIORITIES.indexOf(lower.priority)) assert.ok(higher.share >= lower.share - EPSILON, `${higher.priority} ${higher.share} < ${lower.priority} ${lower.share}`);
        }),
      );
    });

    it("is work-conserving up to the cap: capacity is left only when every project has all it can use", () => {
      fc.assert(
        fc.property(demandsArbitrary, policyArbitrary, (demands, policy) => {
          const allocations = allocate(demands, policy);
          if (total(allocations) >= policy.hardCap - EPSILON) return;
          for (const a of allocations) assert.ok(Math.abs(a.share - demands.find((d) => d.projectId === a.projectId)!.demand) < EPSILON);
        }),
      );
    });

    it("gives every busy project of a tier with a quota something, no share that is not a number, and the same answer for the same demands in any order", () => {
      fc.assert(
        fc.property(demandsArbitrary, policyArbitrary, (demands, policy) => {
          const allocations = allocate(demands, policy);
          assert.deepEqual(allocate([...demands].reverse(), policy), allocations);
          for (const a of allocations) assert.ok(Number.isFinite(a.share) && a.share >= 0, `share ${a.share}`);
          for (const d of demands) if (d.demand > 0 && policy.quotas[d.priority] > 0) assert.ok(shareOf(allocations, d.projectId) > 0);
        }),
      );
    });
  });
});

describe("Resource Director: the machine after its reserve", () => {
  const GiB = 2 ** 30;
  const settings = (over: Partial<Record<SettingKey, unknown>> = {}): SettingsReader => ({ get: (key) => (key in over ? over[key] : settingDefault(key)) as never });

  it("gives a pair a core of the cores left after the reserve, under the hard cap, at least one and at most what is asked", () => {
    assert.equal(machineSlots({ cores: 16, memoryBytes: 0 }, settings(), 64), 10, "16 cores less 25 %: 12; 90 % of that: 10.8");
    assert.equal(machineSlots({ cores: 16, memoryBytes: 0 }, settings(), 3), 3);
    assert.equal(machineSlots({ cores: 2, memoryBytes: 0 }, settings(), 4), 1);
    assert.equal(machineSlots({ cores: 2, memoryBytes: 0 }, settings({ "resources.reserve": { cpuPercent: 0, memoryGB: 0 }, "resources.hardCap": 100 }), 4), 2);
  });

  it("leaves heavy models the memory after the reserve and the small models kept loaded", () => {
    const models = [
      { residency: "file /m/7b.gguf", bytes: 4.5 * GiB, heavy: true },
      { residency: "file /m/13b.gguf", bytes: 8 * GiB, heavy: true },
      { residency: "file /m/embed.gguf", bytes: 0.5 * GiB, heavy: false },
      { residency: "file /m/embed.gguf", bytes: 0.5 * GiB, heavy: false },
    ];
    const memory = modelMemory({ cores: 8, memoryBytes: 16 * GiB }, settings(), models);
    assert.equal(memory.capacity, 13.5 * GiB, "16 less the 2 GiB reserve less the small model counted once");
    assert.deepEqual([...memory.sizes], [["file /m/7b.gguf", 4.5 * GiB], ["file /m/13b.gguf", 8 * GiB]]);
    assert.equal(modelMemory({ cores: 8, memoryBytes: GiB }, settings(), models).capacity, 0, "never negative");
  });

  it("unloads the largest resident heavy models until the one to load fits, and all when it never would", () => {
    const memory = { capacity: 10, sizes: new Map([["a", 6], ["b", 3], ["c", 2], ["huge", 12]]) };
    assert.deepEqual(modelsToUnload(memory, "c", ["a", "small-one"]), [], "6 + 2 fit in 10");
    assert.deepEqual(modelsToUnload(memory, "c", ["a", "b"]), ["a"], "6 + 3 + 2 do not; without the 6 they do");
    assert.deepEqual(modelsToUnload(memory, "a", ["a", "b"]), [], "already resident");
    assert.deepEqual(modelsToUnload(memory, "huge", ["a", "b", "c"]), ["a", "b", "c"]);
    assert.deepEqual(modelsToUnload(memory, "remote", ["a", "b", "c"]), [], "a model that takes no memory unloads nothing");
    assert.deepEqual(modelsToUnload({ capacity: 10, sizes: new Map([["c", 6], ["a", 3], ["b", 4]]) }, "b", ["c", "a"], new Set(["c"])), ["a"], "the largest is in use: the smaller idle one goes instead");
  });
});

