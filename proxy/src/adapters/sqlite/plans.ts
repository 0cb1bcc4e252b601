import { and, asc, desc, eq, lte, sql } from "drizzle-orm";
import { plans, priceVersions } from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import { newId } from "../../store/crypto.ts";
import type {
  AddPriceVersionError,
  Clock,
  NewPlan,
  NewPriceVersion,
  Plan,
  PlanStore,
  PriceVersion,
  Result,
} from "../../store/ports.ts";
import { parsePlan, parsePriceVersion } from "../../store/validation.ts";

export class SqlitePlanStore implements PlanStore {
  readonly #inForce;

  constructor(
    private readonly db: SqliteDb,
    private readonly clock: Clock,
  ) {
    // Prepared once: rating looks up the version in force for every request. One seek on (plan_id, effective_from).
    this.#inForce = db
      .select()
      .from(priceVersions)
      .where(
        and(
          eq(priceVersions.planId, sql.placeholder("planId")),
          lte(priceVersions.effectiveFrom, sql.placeholder("at")),
        ),
      )
      .orderBy(desc(priceVersions.effectiveFrom), desc(priceVersions.version))
      .limit(1)
      .prepare();
  }

  async upsertPlan(input: NewPlan): Promise<Result<Plan, "invalid">> {
    const parsed = parsePlan(input);
    if (!parsed.ok) return parsed;
    const { id, ...fields } = parsed.value;
    const row = this.db
      .insert(plans)
      .values({ id, ...fields, createdAt: this.clock.now() })
      .onConflictDoUpdate({ target: plans.id, set: fields })
      .returning()
      .get();
    return { ok: true, value: row };
  }

  async getPlan(id: string): Promise<Plan | null> {
    return this.db.select().from(plans).where(eq(plans.id, id)).get() ?? null;
  }

  async listPlans(): Promise<Plan[]> {
    return this.db.select().from(plans).orderBy(asc(plans.id)).all();
  }

  async addPriceVersion(planId: string, input: NewPriceVersion): Promise<Result<PriceVersion, AddPriceVersionError>> {
    const now = this.clock.now();
    const parsed = parsePriceVersion(input, now);
    if (!parsed.ok) return parsed;
    // IMMEDIATE: two admins adding a version at once get 1 and 2, not a unique-constraint error.
    return this.db.transaction(
      (tx): Result<PriceVersion, AddPriceVersionError> => {
        if (!tx.select({ id: plans.id }).from(plans).where(eq(plans.id, planId)).get()) {
          return { ok: false, error: "plan_not_found", message: `no plan ${planId}` };
        }
        if (parsed.value.effectiveFrom < now) {
          return {
            ok: false,
            error: "effective_from_in_past",
            message: "a price version cannot take effect in the past",
          };
        }
        const latest = tx
          .select({ version: priceVersions.version, effectiveFrom: priceVersions.effectiveFrom })
          .from(priceVersions)
          .where(eq(priceVersions.planId, planId))
          .orderBy(desc(priceVersions.version))
          .limit(1)
          .get();
        if (latest && parsed.value.effectiveFrom <= latest.effectiveFrom) {
          return {
            ok: false,
            error: "not_after_latest",
            message: `version ${latest.version} already takes effect at ${latest.effectiveFrom}`,
          };
        }
        const row = tx
          .insert(priceVersions)
          .values({ ...parsed.value, id: newId("pv"), planId, version: (latest?.version ?? 0) + 1, createdAt: now })
          .returning()
          .get();
        return { ok: true, value: row };
      },
      { behavior: "immediate" },
    );
  }

  async versionAt(planId: string, at: number): Promise<PriceVersion | null> {
    return this.#inForce.get({ planId, at }) ?? null;
  }

  async getVersion(id: string): Promise<PriceVersion | null> {
    return this.db.select().from(priceVersions).where(eq(priceVersions.id, id)).get() ?? null;
  }

  async listVersions(planId: string): Promise<PriceVersion[]> {
    return this.db
      .select()
      .from(priceVersions)
      .where(eq(priceVersions.planId, planId))
      .orderBy(asc(priceVersions.version))
      .all();
  }
}
