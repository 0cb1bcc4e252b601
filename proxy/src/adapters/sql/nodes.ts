import { and, asc, eq, ne } from "drizzle-orm";
import type { NodeState } from "../../../../migrations/schema/index.ts";
import { first, isUniqueViolation, type SqlDb, tablesOf } from "../../../../storage/sql-db.ts";
import { newId } from "../../store/crypto.ts";
import type { Clock, GpuNode, NewNode, NodeStore, Result } from "../../store/ports.ts";
import { parseNode } from "../../store/validation.ts";

type AddResult = Result<GpuNode, "url_taken" | "id_taken" | "invalid">;

/** GPU nodes, on every SQL engine. The unique URL and the primary key settle races between two admins adding the same node. */
export class SqlNodeStore implements NodeStore {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
  ) {}

  async add(input: NewNode): Promise<AddResult> {
    const { nodes } = tablesOf(this.db);
    const parsed = parseNode(input);
    if (!parsed.ok) return parsed;
    const { url, pool, weight } = parsed.value;
    const sameUrl = await this.db.select().from(nodes).where(eq(nodes.url, url)).then(first);
    if (sameUrl && sameUrl.state !== "removed")
      return { ok: false, error: "url_taken", message: `${url} is registered` };
    if (sameUrl) {
      // Only a tombstone is revived: if someone revived it meanwhile, this changes nothing and the URL is taken.
      const revived = await this.db
        .update(nodes)
        .set({ pool, weight, state: "active" })
        .where(and(eq(nodes.id, sameUrl.id), eq(nodes.state, "removed")))
        .returning()
        .then(first);
      return revived
        ? { ok: true, value: revived }
        : { ok: false, error: "url_taken", message: `${url} is registered` };
    }
    const id = parsed.value.id ?? newId("node");
    try {
      const row = await this.db
        .insert(nodes)
        .values({ id, url, pool, weight, state: "active", createdAt: this.clock.now() })
        .returning()
        .then(first);
      if (!row) throw new Error("the database returned no row for an insert");
      return { ok: true, value: row };
    } catch (error) {
      if (isUniqueViolation(error, "nodes.url"))
        return { ok: false, error: "url_taken", message: `${url} is registered` };
      if (isUniqueViolation(error, "nodes.id")) return { ok: false, error: "id_taken", message: `node ${id} exists` };
      throw error;
    }
  }

  async list(filter: { pool?: string; state?: NodeState } = {}): Promise<GpuNode[]> {
    const { nodes } = tablesOf(this.db);
    return this.db
      .select()
      .from(nodes)
      .where(
        and(
          filter.state === undefined ? ne(nodes.state, "removed") : eq(nodes.state, filter.state),
          filter.pool === undefined ? undefined : eq(nodes.pool, filter.pool),
        ),
      )
      .orderBy(asc(nodes.pool), asc(nodes.id));
  }

  async get(id: string): Promise<GpuNode | null> {
    const { nodes } = tablesOf(this.db);
    return (await this.db.select().from(nodes).where(eq(nodes.id, id)).then(first)) ?? null;
  }

  async setState(id: string, state: NodeState): Promise<GpuNode | null> {
    const { nodes } = tablesOf(this.db);
    return (await this.db.update(nodes).set({ state }).where(eq(nodes.id, id)).returning().then(first)) ?? null;
  }

  async remove(id: string): Promise<boolean> {
    return (await this.setState(id, "removed")) !== null;
  }
}
