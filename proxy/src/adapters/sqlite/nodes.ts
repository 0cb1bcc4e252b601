import { and, asc, eq, ne } from "drizzle-orm";
import { type NodeState, nodes } from "../../../../migrations/schema/index.ts";
import type { SqliteDb } from "../../../../storage/sqlite/open.ts";
import { newId } from "../../store/crypto.ts";
import type { Clock, GpuNode, NewNode, NodeStore, Result } from "../../store/ports.ts";
import { parseNode } from "../../store/validation.ts";

type AddResult = Result<GpuNode, "url_taken" | "id_taken" | "invalid">;

export class SqliteNodeStore implements NodeStore {
  constructor(
    private readonly db: SqliteDb,
    private readonly clock: Clock,
  ) {}

  async add(input: NewNode): Promise<AddResult> {
    const parsed = parseNode(input);
    if (!parsed.ok) return parsed;
    const { url, pool, weight } = parsed.value;
    const id = parsed.value.id ?? newId("node");
    return this.db.transaction(
      (tx): AddResult => {
        const sameUrl = tx.select().from(nodes).where(eq(nodes.url, url)).get();
        if (sameUrl && sameUrl.state !== "removed") {
          return { ok: false, error: "url_taken", message: `${url} is registered` };
        }
        if (sameUrl) {
          const revived = tx
            .update(nodes)
            .set({ pool, weight, state: "active" })
            .where(eq(nodes.id, sameUrl.id))
            .returning()
            .get();
          return revived ? { ok: true, value: revived } : { ok: false, error: "invalid", message: "node vanished" };
        }
        if (tx.select({ id: nodes.id }).from(nodes).where(eq(nodes.id, id)).get()) {
          return { ok: false, error: "id_taken", message: `node ${id} exists` };
        }
        const row = tx
          .insert(nodes)
          .values({ id, url, pool, weight, state: "active", createdAt: this.clock.now() })
          .returning()
          .get();
        return { ok: true, value: row };
      },
      { behavior: "immediate" },
    );
  }

  async list(filter: { pool?: string; state?: NodeState } = {}): Promise<GpuNode[]> {
    return this.db
      .select()
      .from(nodes)
      .where(
        and(
          filter.state === undefined ? ne(nodes.state, "removed") : eq(nodes.state, filter.state),
          filter.pool === undefined ? undefined : eq(nodes.pool, filter.pool),
        ),
      )
      .orderBy(asc(nodes.pool), asc(nodes.id))
      .all();
  }

  async get(id: string): Promise<GpuNode | null> {
    return this.db.select().from(nodes).where(eq(nodes.id, id)).get() ?? null;
  }

  async setState(id: string, state: NodeState): Promise<GpuNode | null> {
    return this.db.update(nodes).set({ state }).where(eq(nodes.id, id)).returning().get() ?? null;
  }

  async remove(id: string): Promise<boolean> {
    return (await this.setState(id, "removed")) !== null;
  }
}
