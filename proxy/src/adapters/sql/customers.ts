import { and, asc, eq, gt } from "drizzle-orm";
import type { CustomerStatus } from "../../../../migrations/schema/index.ts";
import { brokenConstraint, first, isUniqueViolation, type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import { newId } from "../../store/crypto.ts";
import type { Clock, Customer, CustomerPatch, CustomerStore, NewCustomer, Result } from "../../store/ports.ts";

type CreateError = "plan_not_found" | "id_taken" | "invalid";
type UpdateError = "not_found" | "plan_not_found" | "invalid";

/**
 * Customers, on every SQL engine. One statement per write: the schema's constraints decide (the plan's foreign key, the id's primary
 * key, the unique Stripe id), so two concurrent writers get the same answers a transaction would give them.
 */
export class SqlCustomerStore implements CustomerStore {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {}

  async createCustomer(input: NewCustomer): Promise<Result<Customer, CreateError>> {
    const { customers } = tablesOf(this.db);
    if (input.name.length === 0 || input.email.length === 0) {
      return { ok: false, error: "invalid", message: "name and email are required" };
    }
    const id = input.id ?? newId("cus");
    try {
      const row = await this.db
        .insert(customers)
        .values({
          id,
          name: input.name,
          email: input.email,
          planId: input.planId,
          dedicatedPool: input.dedicatedPool ?? null,
          stripeCustomerId: input.stripeCustomerId ?? null,
          createdAt: this.clock.now(),
        })
        .returning()
        .then(first);
      if (!row) throw new Error("the database returned no row for an insert");
      return { ok: true, value: row };
    } catch (error) {
      if (brokenConstraint(error)?.kind === "foreign_key") {
        return { ok: false, error: "plan_not_found", message: `no plan ${input.planId}` };
      }
      if (isUniqueViolation(error, "customers.id")) return { ok: false, error: "id_taken", message: `${id} exists` };
      if (isUniqueViolation(error, "customers.stripe_customer_id")) {
        return { ok: false, error: "invalid", message: "stripeCustomerId belongs to another customer" };
      }
      throw error;
    }
  }

  async getCustomer(id: string): Promise<Customer | null> {
    const { customers } = tablesOf(this.db);
    return (await this.db.select().from(customers).where(eq(customers.id, id)).then(first)) ?? null;
  }

  async update(id: string, patch: CustomerPatch): Promise<Result<Customer, UpdateError>> {
    const { customers } = tablesOf(this.db);
    if (patch.name === "" || patch.email === "") return { ok: false, error: "invalid", message: "empty name or email" };
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as CustomerPatch;
    try {
      const row =
        Object.keys(defined).length === 0
          ? await this.db.select().from(customers).where(eq(customers.id, id)).then(first)
          : await this.db.update(customers).set(defined).where(eq(customers.id, id)).returning().then(first);
      if (!row) return { ok: false, error: "not_found", message: `no customer ${id}` };
      return { ok: true, value: row };
    } catch (error) {
      if (brokenConstraint(error)?.kind === "foreign_key") {
        return { ok: false, error: "plan_not_found", message: `no plan ${patch.planId}` };
      }
      if (isUniqueViolation(error, "customers.stripe_customer_id")) {
        return { ok: false, error: "invalid", message: "stripeCustomerId belongs to another customer" };
      }
      throw error;
    }
  }

  async setStatus(id: string, status: CustomerStatus, reason: string | null = null): Promise<Customer | null> {
    const { customers } = tablesOf(this.db);
    const suspendedReason = status === "suspended" ? reason : null;
    const row = await this.db
      .update(customers)
      .set({ status, suspendedReason })
      .where(eq(customers.id, id))
      .returning()
      .then(first);
    return row ?? null;
  }

  suspend(id: string, reason: string): Promise<Customer | null> {
    return this.setStatus(id, "suspended", reason);
  }

  restore(id: string): Promise<Customer | null> {
    return this.setStatus(id, "active");
  }

  async list(options: { status?: CustomerStatus; limit?: number; afterId?: string } = {}): Promise<Customer[]> {
    const { customers } = tablesOf(this.db);
    const { status, limit = 100, afterId } = options;
    return this.db
      .select()
      .from(customers)
      .where(
        and(
          status === undefined ? undefined : eq(customers.status, status),
          afterId === undefined ? undefined : gt(customers.id, afterId),
        ),
      )
      .orderBy(asc(customers.id))
      .limit(limit);
  }
}
