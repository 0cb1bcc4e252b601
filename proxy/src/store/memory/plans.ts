import { newId } from "../crypto.ts";
import type {
  AddPriceVersionError,
  NewPlan,
  NewPriceVersion,
  Plan,
  PlanStore,
  PriceVersion,
  Result,
} from "../ports.ts";
import { parsePlan, parsePriceVersion } from "../validation.ts";
import { copy, type MemoryState } from "./state.ts";

export class InMemoryPlanStore implements PlanStore {
  constructor(private readonly state: MemoryState) {}

  async upsertPlan(input: NewPlan): Promise<Result<Plan, "invalid">> {
    const parsed = parsePlan(input);
    if (!parsed.ok) return parsed;
    const existing = this.state.plans.get(parsed.value.id);
    const plan: Plan = { ...parsed.value, createdAt: existing?.createdAt ?? this.state.clock.now() };
    this.state.plans.set(plan.id, plan);
    return { ok: true, value: copy(plan) };
  }

  async getPlan(id: string): Promise<Plan | null> {
    const plan = this.state.plans.get(id);
    return plan ? copy(plan) : null;
  }

  async listPlans(): Promise<Plan[]> {
    return [...this.state.plans.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map(copy);
  }

  async addPriceVersion(planId: string, input: NewPriceVersion): Promise<Result<PriceVersion, AddPriceVersionError>> {
    if (!this.state.plans.has(planId)) return { ok: false, error: "plan_not_found", message: `no plan ${planId}` };
    const now = this.state.clock.now();
    const parsed = parsePriceVersion(input, now);
    if (!parsed.ok) return parsed;
    if (parsed.value.effectiveFrom < now) {
      return { ok: false, error: "effective_from_in_past", message: "a price version cannot take effect in the past" };
    }
    const latest = this.#versionsOf(planId).at(-1);
    if (latest && parsed.value.effectiveFrom <= latest.effectiveFrom) {
      return {
        ok: false,
        error: "not_after_latest",
        message: `version ${latest.version} already takes effect at ${latest.effectiveFrom}`,
      };
    }
    const version: PriceVersion = {
      ...parsed.value,
      id: newId("pv"),
      planId,
      version: (latest?.version ?? 0) + 1,
      createdAt: now,
    };
    this.state.priceVersions.set(version.id, version);
    return { ok: true, value: copy(version) };
  }

  async versionAt(planId: string, at: number): Promise<PriceVersion | null> {
    let inForce: PriceVersion | undefined;
    for (const v of this.#versionsOf(planId)) if (v.effectiveFrom <= at) inForce = v;
    return inForce ? copy(inForce) : null;
  }

  async getVersion(id: string): Promise<PriceVersion | null> {
    const version = this.state.priceVersions.get(id);
    return version ? copy(version) : null;
  }

  async listVersions(planId: string): Promise<PriceVersion[]> {
    return this.#versionsOf(planId).map(copy);
  }

  /** Ascending by version, which is also ascending by effectiveFrom (addPriceVersion enforces it). */
  #versionsOf(planId: string): PriceVersion[] {
    return [...this.state.priceVersions.values()]
      .filter((v) => v.planId === planId)
      .sort((a, b) => a.version - b.version);
  }
}
