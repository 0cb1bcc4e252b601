import { sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { plans } from "./plans.ts";
import { createdAt, oneOf, textId } from "./util.ts";

export const CUSTOMER_STATUSES = ["active", "suspended"] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

/** A paying customer. Customers are suspended, never deleted: usage rows and invoices keep pointing at them. */
export const customers = sqliteTable(
  "customers",
  {
    id: textId(),
    name: text("name").notNull(),
    email: text("email").notNull(),
    planId: text("plan_id")
      .notNull()
      .references(() => plans.id),
    /** `suspended` answers 403 on every key of the customer; keys stay valid for when the customer is restored. */
    status: text("status", { enum: CUSTOMER_STATUSES }).notNull().default("active"),
    suspendedReason: text("suspended_reason"),
    /** Enterprise customers are routed only to nodes of this pool (`nodes.pool`); null = the shared pool. */
    dedicatedPool: text("dedicated_pool"),
    /** Filled by billing when the customer is created in Stripe. */
    stripeCustomerId: text("stripe_customer_id"),
    createdAt: createdAt(),
  },
  (t) => [
    oneOf("customers_status_check", t.status, CUSTOMER_STATUSES),
    uniqueIndex("customers_stripe_customer_id_unique").on(t.stripeCustomerId),
  ],
);
