import { sql } from "drizzle-orm";
import { check, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt, oneOf, textId } from "./util.ts";

export const PLAN_KINDS = ["basic", "batch", "enterprise"] as const;
export type PlanKind = (typeof PLAN_KINDS)[number];

/**
 * A plan: what a customer subscribes to. Prices live in `price_versions` so a price change never rewrites history;
 * the limits here are enforced by the proxy per API key.
 */
export const plans = sqliteTable(
  "plans",
  {
    id: textId(),
    kind: text("kind", { enum: PLAN_KINDS }).notNull(),
    name: text("name").notNull(),
    /** ISO 4217 code; every price version and usage amount of the plan is in micro-units of it. */
    currency: text("currency").notNull(),
    /** IANA zone in which peak windows and daily usage are read ("Asia/Shanghai"). */
    timeZone: text("time_zone").notNull(),
    requestsPerSecond: integer("requests_per_second").notNull(),
    burst: integer("burst").notNull(),
    maxInFlight: integer("max_in_flight").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    oneOf("plans_kind_check", t.kind, PLAN_KINDS),
    check("plans_currency_check", sql`length(${t.currency}) = 3`),
    check("plans_limits_check", sql`${t.requestsPerSecond} > 0 and ${t.burst} > 0 and ${t.maxInFlight} > 0`),
  ],
);
