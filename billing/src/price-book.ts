import { peakClassifier } from "../../domain/peak.ts";
import type { Plan, PriceVersion } from "../../domain/records.ts";
import type { BillingPlans } from "./store/ports.ts";

/** Everything rating an event of one price version needs, resolved once per version. */
export interface RatingContext {
  plan: Plan;
  version: PriceVersion;
  /** The version is in force for `from ≤ t < until` (until the next version of its plan). */
  from: number;
  until: number;
  peak: (atMs: number) => boolean;
}

/**
 * Every plan and price version, loaded once per billing run (a few rows) so that rating a million events does no
 * storage reads. Versions are effective-dated and append-only, so a book loaded now answers for any past time.
 */
export class PriceBook {
  readonly #plans = new Map<string, Plan>();
  readonly #versions = new Map<string, PriceVersion>();
  /** Per plan, ascending by `effectiveFrom`. */
  readonly #byPlan = new Map<string, PriceVersion[]>();
  readonly #classifiers = new Map<string, (atMs: number) => boolean>();
  readonly #contexts = new Map<string, RatingContext | null>();

  constructor(plans: readonly Plan[], versions: readonly PriceVersion[]) {
    for (const p of plans) this.#plans.set(p.id, p);
    for (const v of versions) {
      this.#versions.set(v.id, v);
      const list = this.#byPlan.get(v.planId) ?? [];
      list.push(v);
      this.#byPlan.set(v.planId, list);
    }
    for (const list of this.#byPlan.values()) list.sort((a, b) => a.effectiveFrom - b.effectiveFrom);
  }

  static async load(plans: Pick<BillingPlans, "listPlans" | "listVersions">): Promise<PriceBook> {
    const all = await plans.listPlans();
    const versions = (await Promise.all(all.map((p) => plans.listVersions(p.id)))).flat();
    return new PriceBook(all, versions);
  }

  plan(id: string): Plan | undefined {
    return this.#plans.get(id);
  }

  plans(): Plan[] {
    return [...this.#plans.values()];
  }

  version(id: string): PriceVersion | undefined {
    return this.#versions.get(id);
  }

  versions(planId: string): readonly PriceVersion[] {
    return this.#byPlan.get(planId) ?? [];
  }

  /** The version in force at `at`: the greatest `effectiveFrom` ≤ `at` (binary search). */
  versionAt(planId: string, at: number): PriceVersion | undefined {
    const list = this.#byPlan.get(planId);
    if (!list) return undefined;
    let lo = 0;
    let hi = list.length - 1;
    let found: PriceVersion | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = list[mid] as PriceVersion;
      if (v.effectiveFrom <= at) {
        found = v;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The version that governs a whole period (enterprise fee and allowance): in force at its start, else its first. */
  versionForPeriod(planId: string, fromMs: number, toMs: number): PriceVersion | undefined {
    return this.versionAt(planId, fromMs) ?? this.versions(planId).find((v) => v.effectiveFrom < toMs);
  }

  /** The rating context of a version (its plan's zone), or null for an unknown version. Cached. */
  rating(versionId: string): RatingContext | null {
    let ctx = this.#contexts.get(versionId);
    if (ctx === undefined) {
      const version = this.#versions.get(versionId);
      const plan = version ? this.#plans.get(version.planId) : undefined;
      if (!version || !plan) ctx = null;
      else {
        const list = this.versions(plan.id);
        const next = list[list.indexOf(version) + 1];
        ctx = {
          plan,
          version,
          from: version.effectiveFrom,
          until: next ? next.effectiveFrom : Number.POSITIVE_INFINITY,
          peak: this.peak(version, plan.timeZone),
        };
      }
      this.#contexts.set(versionId, ctx);
    }
    return ctx;
  }

  /** A cached fast peak classifier for a version read in a zone. */
  peak(version: PriceVersion, timeZone: string): (atMs: number) => boolean {
    const key = `${version.id}\u0000${timeZone}`;
    let c = this.#classifiers.get(key);
    if (!c) {
      c = peakClassifier(timeZone, version.peakWindows);
      this.#classifiers.set(key, c);
    }
    return c;
  }
}
