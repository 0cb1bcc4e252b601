import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt, nonNegativeInteger, oneOf, textId } from "./util.ts";

export const NODE_STATES = ["active", "draining", "removed"] as const;
export type NodeState = (typeof NODE_STATES)[number];

/** The default pool, shared by every customer without a dedicated one. */
export const SHARED_POOL = "shared";

/**
 * GPU nodes the proxy routes to. `draining` takes no new requests but finishes its own; `removed` is a tombstone kept
 * so `usage_events.node_id` still resolves.
 */
export const nodes = sqliteTable(
  "nodes",
  {
    id: textId(),
    url: text("url").notNull().unique(),
    pool: text("pool").notNull().default(SHARED_POOL),
    /** Relative share of traffic within the pool. */
    weight: integer("weight").notNull().default(1),
    state: text("state", { enum: NODE_STATES }).notNull().default("active"),
    createdAt: createdAt(),
  },
  (t) => [oneOf("nodes_state_check", t.state, NODE_STATES), nonNegativeInteger("nodes_weight_check", t.weight)],
);
