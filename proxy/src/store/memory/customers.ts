import type { CustomerStatus } from "../../../../migrations/schema/index.ts";
import { newId } from "../crypto.ts";
import type { Customer, CustomerPatch, CustomerStore, NewCustomer, Result } from "../ports.ts";
import { copy, type MemoryState } from "./state.ts";

export class InMemoryCustomerStore implements CustomerStore {
  constructor(private readonly state: MemoryState) {}

  async createCustomer(input: NewCustomer): Promise<Result<Customer, "plan_not_found" | "id_taken" | "invalid">> {
    if (input.name.length === 0 || input.email.length === 0) {
      return { ok: false, error: "invalid", message: "name and email are required" };
    }
    if (!this.state.plans.has(input.planId)) {
      return { ok: false, error: "plan_not_found", message: `no plan ${input.planId}` };
    }
    const id = input.id ?? newId("cus");
    if (this.state.customers.has(id)) return { ok: false, error: "id_taken", message: `customer ${id} exists` };
    if (input.stripeCustomerId != null && this.#stripeIdTaken(input.stripeCustomerId, id)) {
      return { ok: false, error: "invalid", message: "stripeCustomerId belongs to another customer" };
    }
    const customer: Customer = {
      id,
      name: input.name,
      email: input.email,
      planId: input.planId,
      status: "active",
      suspendedReason: null,
      dedicatedPool: input.dedicatedPool ?? null,
      stripeCustomerId: input.stripeCustomerId ?? null,
      createdAt: this.state.clock.now(),
    };
    this.state.customers.set(id, customer);
    return { ok: true, value: copy(customer) };
  }

  async getCustomer(id: string): Promise<Customer | null> {
    const customer = this.state.customers.get(id);
    return customer ? copy(customer) : null;
  }

  async update(
    id: string,
    patch: CustomerPatch,
  ): Promise<Result<Customer, "not_found" | "plan_not_found" | "invalid">> {
    const customer = this.state.customers.get(id);
    if (!customer) return { ok: false, error: "not_found", message: `no customer ${id}` };
    if (patch.planId !== undefined && !this.state.plans.has(patch.planId)) {
      return { ok: false, error: "plan_not_found", message: `no plan ${patch.planId}` };
    }
    if (patch.name === "" || patch.email === "") return { ok: false, error: "invalid", message: "empty name or email" };
    if (patch.stripeCustomerId != null && this.#stripeIdTaken(patch.stripeCustomerId, id)) {
      return { ok: false, error: "invalid", message: "stripeCustomerId belongs to another customer" };
    }
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    Object.assign(customer, defined);
    return { ok: true, value: copy(customer) };
  }

  async setStatus(id: string, status: CustomerStatus, reason: string | null = null): Promise<Customer | null> {
    const customer = this.state.customers.get(id);
    if (!customer) return null;
    customer.status = status;
    customer.suspendedReason = status === "suspended" ? reason : null;
    return copy(customer);
  }

  suspend(id: string, reason: string): Promise<Customer | null> {
    return this.setStatus(id, "suspended", reason);
  }

  restore(id: string): Promise<Customer | null> {
    return this.setStatus(id, "active");
  }

  async list(options: { status?: CustomerStatus; limit?: number; afterId?: string } = {}): Promise<Customer[]> {
    const { status, limit = 100, afterId } = options;
    return [...this.state.customers.values()]
      .filter((c) => (status === undefined || c.status === status) && (afterId === undefined || c.id > afterId))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit)
      .map(copy);
  }

  #stripeIdTaken(stripeCustomerId: string, ownId: string): boolean {
    for (const c of this.state.customers.values()) {
      if (c.stripeCustomerId === stripeCustomerId && c.id !== ownId) return true;
    }
    return false;
  }
}
