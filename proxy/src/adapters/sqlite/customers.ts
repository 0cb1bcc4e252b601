import { and, asc, eq, gt, ne } from "drizzle-orm";
import { type CustomerStatus, customers, plans } from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import { newId } from "../../store/crypto.ts";
import type { Clock, Customer, CustomerPatch, CustomerStore, NewCustomer, Result } from "../../store/ports.ts";

export class SqliteCustomerStore implements CustomerStore {
  constructor(
    private readonly db: SqliteDb,
    private readonly clock: Clock,
  ) {}

  async createCustomer(input: NewCustomer): Promise<Result<Customer, "plan_not_found" | "id_taken" | "invalid">> {
    if (input.name.length === 0 || input.email.length === 0) {
      return { ok: false, error: "invalid", message: "name and email are required" };
    }
    const id = input.id ?? newId("cus");
    // Check-then-insert inside one IMMEDIATE transaction, so expected conflicts come back as results, not exceptions.
    return this.db.transaction(
      (tx): Result<Customer, "plan_not_found" | "id_taken" | "invalid"> => {
        if (!tx.select({ id: plans.id }).from(plans).where(eq(plans.id, input.planId)).get()) {
          return { ok: false, error: "plan_not_found", message: `no plan ${input.planId}` };
        }
        if (tx.select({ id: customers.id }).from(customers).where(eq(customers.id, id)).get()) {
          return { ok: false, error: "id_taken", message: `customer ${id} exists` };
        }
        if (input.stripeCustomerId != null && this.#stripeIdTaken(tx, input.stripeCustomerId, id)) {
          return { ok: false, error: "invalid", message: "stripeCustomerId belongs to another customer" };
        }
        const row = tx
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
          .get();
        return { ok: true, value: row };
      },
      { behavior: "immediate" },
    );
  }

  async getCustomer(id: string): Promise<Customer | null> {
    return this.db.select().from(customers).where(eq(customers.id, id)).get() ?? null;
  }

  async update(
    id: string,
    patch: CustomerPatch,
  ): Promise<Result<Customer, "not_found" | "plan_not_found" | "invalid">> {
    if (patch.name === "" || patch.email === "") return { ok: false, error: "invalid", message: "empty name or email" };
    return this.db.transaction(
      (tx): Result<Customer, "not_found" | "plan_not_found" | "invalid"> => {
        if (!tx.select({ id: customers.id }).from(customers).where(eq(customers.id, id)).get()) {
          return { ok: false, error: "not_found", message: `no customer ${id}` };
        }
        if (
          patch.planId !== undefined &&
          !tx.select({ id: plans.id }).from(plans).where(eq(plans.id, patch.planId)).get()
        ) {
          return { ok: false, error: "plan_not_found", message: `no plan ${patch.planId}` };
        }
        if (patch.stripeCustomerId != null && this.#stripeIdTaken(tx, patch.stripeCustomerId, id)) {
          return { ok: false, error: "invalid", message: "stripeCustomerId belongs to another customer" };
        }
        const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as CustomerPatch;
        const row =
          Object.keys(defined).length === 0
            ? tx.select().from(customers).where(eq(customers.id, id)).get()
            : tx.update(customers).set(defined).where(eq(customers.id, id)).returning().get();
        if (!row) return { ok: false, error: "not_found", message: `no customer ${id}` };
        return { ok: true, value: row };
      },
      { behavior: "immediate" },
    );
  }

  async setStatus(id: string, status: CustomerStatus, reason: string | null = null): Promise<Customer | null> {
    const suspendedReason = status === "suspended" ? reason : null;
    return (
      this.db.update(customers).set({ status, suspendedReason }).where(eq(customers.id, id)).returning().get() ?? null
    );
  }

  suspend(id: string, reason: string): Promise<Customer | null> {
    return this.setStatus(id, "suspended", reason);
  }

  restore(id: string): Promise<Customer | null> {
    return this.setStatus(id, "active");
  }

  async list(options: { status?: CustomerStatus; limit?: number; afterId?: string } = {}): Promise<Customer[]> {
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
      .limit(limit)
      .all();
  }

  #stripeIdTaken(tx: Pick<SqliteDb, "select">, stripeCustomerId: string, ownId: string): boolean {
    const other = tx
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.stripeCustomerId, stripeCustomerId), ne(customers.id, ownId)))
      .get();
    return other !== undefined;
  }
}
