import type { NodeState } from "../../../../migrations/schema/index.ts";
import { newId } from "../crypto.ts";
import type { GpuNode, NewNode, NodeStore, Result } from "../ports.ts";
import { parseNode } from "../validation.ts";
import { copy, type MemoryState } from "./state.ts";

export class InMemoryNodeStore implements NodeStore {
  constructor(private readonly state: MemoryState) {}

  async add(input: NewNode): Promise<Result<GpuNode, "url_taken" | "id_taken" | "invalid">> {
    const parsed = parseNode(input);
    if (!parsed.ok) return parsed;
    const { url, pool, weight } = parsed.value;
    const sameUrl = [...this.state.nodes.values()].find((n) => n.url === url);
    if (sameUrl && sameUrl.state !== "removed")
      return { ok: false, error: "url_taken", message: `${url} is registered` };
    if (sameUrl) {
      Object.assign(sameUrl, { pool, weight, state: "active" });
      return { ok: true, value: copy(sameUrl) };
    }
    const id = parsed.value.id ?? newId("node");
    if (this.state.nodes.has(id)) return { ok: false, error: "id_taken", message: `node ${id} exists` };
    const node: GpuNode = { id, url, pool, weight, state: "active", createdAt: this.state.clock.now() };
    this.state.nodes.set(id, node);
    return { ok: true, value: copy(node) };
  }

  async list(filter: { pool?: string; state?: NodeState } = {}): Promise<GpuNode[]> {
    return [...this.state.nodes.values()]
      .filter((n) => (filter.state === undefined ? n.state !== "removed" : n.state === filter.state))
      .filter((n) => filter.pool === undefined || n.pool === filter.pool)
      .sort((a, b) => a.pool.localeCompare(b.pool) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(copy);
  }

  async get(id: string): Promise<GpuNode | null> {
    const node = this.state.nodes.get(id);
    return node ? copy(node) : null;
  }

  async setState(id: string, state: NodeState): Promise<GpuNode | null> {
    const node = this.state.nodes.get(id);
    if (!node) return null;
    node.state = state;
    return copy(node);
  }

  async remove(id: string): Promise<boolean> {
    return (await this.setState(id, "removed")) !== null;
  }
}
