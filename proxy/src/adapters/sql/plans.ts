import { and, asc, desc, eq, lte } from "drizzle-orm";
import { first, isUniqueViolation, type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
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

/** Two admins adding a version at the same moment: one wins each round, the other re-reads. */
const MAX_VERSION_RACES = 8;

export class SqlPlanStore implements PlanStore {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {}

  async upsertPlan(input: NewPlan): Promise<Result<Plan, "invalid">> {
    const { plans } = tablesOf(this.db);
    const parsed = parsePlan(input);
    if (!parsed.ok) return parsed;
    const { id, ...fields } = parsed.value;
    const row = await this.db
      .insert(plans)
      .values({ id, ...fields, createdAt: this.clock.now() })
      .onConflictDoUpdate({ target: plans.id, set: fields })
      .returning()
      .then(first);
    if (!row) throw new Error("the database returned no row for an upsert");
    return { ok: true, value: row };
  }

  async getPlan(id: string): Promise<Plan | null> {
    const { plans } = tablesOf(this.db);
    return (await this.db.select().from(plans).where(eq(plans.id, id)).then(first)) ?? null;
  }

  async listPlans(): Promise<Plan[]> {
    const { plans } = tablesOf(this.db);
    return this.db.select().from(plans).orderBy(asc(plans.id));
  }

  /**
   * Optimistic: read the latest version, insert the next one. UNIQUE (plan_id, version) makes it safe without a
   * transaction: a concurrent writer takes the same number, one insert fails, and the loser re-reads and re-checks.
   */
  async addPriceVersion(planId: string, input: NewPriceVersion): Promise<Result<PriceVersion, AddPriceVersionError>> {
    const { plans, priceVersions } = tablesOf(this.db);
    const now = this.clock.now();
    const parsed = parsePriceVersion(input, now);
    if (!parsed.ok) return parsed;
    for (let attempt = 0; attempt < MAX_VERSION_RACES; attempt++) {
      const plan = await this.db.select({ id: plans.id }).from(plans).where(eq(plans.id, planId));
      const latest = await this.db
        .select({ version: priceVersions.version, effectiveFrom: priceVersions.effectiveFrom })
        .from(priceVersions)
        .where(eq(priceVersions.planId, planId))
        .orderBy(desc(priceVersions.version))
        .limit(1);
      if (plan.length === 0) return { ok: false, error: "plan_not_found", message: `no plan ${planId}` };
      if (parsed.value.effectiveFrom < now) {
        return {
          ok: false,
          error: "effective_from_in_past",
          message: "a price version cannot take effect in the past",
        };
      }
      const last = latest[0];
      if (last && parsed.value.effectiveFrom <= last.effectiveFrom) {
        return {
          ok: false,
          error: "not_after_latest",
          message: `version ${last.version} already takes effect at ${last.effectiveFrom}`,
        };
      }
      try {
        const row = await this.db
          .insert(priceVersions)
          .values({ ...parsed.value, id: newId("pv"), planId, version: (last?.version ?? 0) + 1, createdAt: now })
          .returning()
          .then(first);
        if (row) return { ok: true, value: row };
      } catch (error) {
        if (!isUniqueViolation(error, "price_versions.plan_id,price_versions.version")) throw error;
      }
    }
    throw new Error(`price versions of ${planId}: lost ${MAX_VERSION_RACES} races in a row`);
  }

  async versionAt(planId: string, at: number): Promise<PriceVersion | null> {
    const { priceVersions } = tablesOf(this.db);
    const row = await this.db
      .select()
      .from(priceVersions)
      .where(and(eq(priceVersions.planId, planId), lte(priceVersions.effectiveFrom, at)))
      .orderBy(desc(priceVersions.effectiveFrom), desc(priceVersions.version))
      .limit(1)
      .then(first);
    return row ?? null;
  }

  async getVersion(id: string): Promise<PriceVersion | null> {
    const { priceVersions } = tablesOf(this.db);
    return (await this.db.select().from(priceVersions).where(eq(priceVersions.id, id)).then(first)) ?? null;
  }

  async listVersions(planId: string): Promise<PriceVersion[]> {
    const { priceVersions } = tablesOf(this.db);
    return this.db
      .select()
      .from(priceVersions)
      .where(eq(priceVersions.planId, planId))
      .orderBy(asc(priceVersions.version));
  }
}
