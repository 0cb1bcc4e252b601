import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProxy, startStubNode } from "../../proxy/src/testing/stack.ts";

type Proxy = Awaited<ReturnType<typeof startProxy>>;
type Stub = Awaited<ReturnType<typeof startStubNode>>;

const TEXT = { text: "欢迎使用IndexTTS2语音合成服务。", voice: 0 };
const generous = { ipPolicy: { ratePerSecond: 10_000, burst: 10_000 } };

async function tts(proxy: Proxy, key: string) {
  const res = await fetch(`${proxy.url}/v1/tts`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(TEXT),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const json = res.headers.get("content-type")?.includes("json")
    ? (JSON.parse(new TextDecoder().decode(bytes)) as { error: { code: string } })
    : null;
  return { status: res.status, headers: res.headers, json };
}

/** The basic plan with limits no test here reaches (its defaults are 5 requests/s, burst 10). */
async function liftBasicLimits(proxy: Proxy) {
  const r = await proxy.admin("PUT", "/admin/plans/basic", {
    kind: "basic",
    name: "Basic",
    currency: "USD",
    time_zone: "UTC",
    requests_per_second: 1000,
    burst: 1000,
    max_in_flight: 64,
  });
  expect(r.status).toBe(200);
}

/** A node registered through the admin API (the only way to give a node a pool other than "shared"). */
async function addNode(proxy: Proxy, url: string, pool?: string): Promise<string> {
  const r = await proxy.admin("POST", "/admin/nodes", { url, ...(pool !== undefined ? { pool } : {}) });
  expect(r.status).toBe(201);
  const node = r.json.node as { id: string; pool: string };
  expect(node.pool).toBe(pool ?? "shared");
  return node.id;
}

/** An enterprise customer whose requests go to `pool` only, created through the admin API, and its key. */
async function enterpriseCustomer(proxy: Proxy, pool: string) {
  const created = await proxy.admin("POST", "/admin/customers", {
    name: "Acme Corp",
    email: "ops@acme.example",
    plan_id: "enterprise",
    dedicated_pool: pool,
  });
  expect(created.status).toBe(201);
  const customer = created.json.customer as { id: string; dedicatedPool: string | null };
  expect(customer.dedicatedPool).toBe(pool);
  const key = await proxy.admin("POST", `/admin/customers/${customer.id}/keys`);
  expect(key.status).toBe(201);
  return { id: customer.id, key: key.json.key as string };
}

async function billedRequests(proxy: Proxy, customerId: string): Promise<number> {
  const totals = await proxy.stores.ledger.totals({ customerId, fromMs: 0, toMs: Date.now() + 60_000 });
  return totals.reduce((n, t) => n + t.events, 0);
}

describe("enterprise dedicated pool", () => {
  let shared: Stub;
  let acme: Stub;
  let acmeClosed = false;
  let proxy: Proxy;
  let enterprise: { id: string; key: string };
  let basic: { id: string; key: string };

  beforeAll(async () => {
    shared = await startStubNode();
    acme = await startStubNode();
    proxy = await startProxy([shared.url], { config: generous }); // node0, pool "shared"
    await liftBasicLimits(proxy);
    await addNode(proxy, acme.url, "acme");
    enterprise = await enterpriseCustomer(proxy, "acme");
    basic = await proxy.newCustomer("basic");
  });
  afterAll(async () => {
    await proxy.close();
    await shared.close();
    if (!acmeClosed) await acme.close();
  });

  it("sends every request of the enterprise customer to its dedicated node", async () => {
    const before = { shared: shared.state.served, acme: acme.state.served };
    for (let i = 0; i < 20; i++) expect((await tts(proxy, enterprise.key)).status).toBe(200);
    expect(acme.state.served - before.acme).toBe(20);
    expect(shared.state.served - before.shared).toBe(0);
    expect(await billedRequests(proxy, enterprise.id)).toBe(20);
  });

  it("never sends a basic customer's request to the dedicated node", async () => {
    const before = { shared: shared.state.served, acme: acme.state.served };
    for (let i = 0; i < 20; i++) expect((await tts(proxy, basic.key)).status).toBe(200);
    expect(shared.state.served - before.shared).toBe(20);
    expect(acme.state.served - before.acme).toBe(0);
  });

  it("with its dedicated node down, the enterprise customer gets 503 NO_CAPACITY with Retry-After, not the shared pool", async () => {
    // Deliberately no fallback to the shared pool: a dedicated pool is capacity the customer pays for and isolation
    // both ways. Spilling an enterprise load onto "shared" would take capacity from every basic/batch customer
    // exactly when a dedicated node fails, and would hide the outage from the operator. The enterprise client gets a
    // retryable 503 (with Retry-After) and nothing is charged; restoring the pool's capacity is the operator's job.
    await acme.close();
    acmeClosed = true;
    const sharedBefore = shared.state.served;
    const billedBefore = await billedRequests(proxy, enterprise.id);
    for (let i = 0; i < 5; i++) {
      const r = await tts(proxy, enterprise.key);
      expect([r.status, r.json?.error.code]).toEqual([503, "NO_CAPACITY"]);
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    expect(shared.state.served).toBe(sharedBefore);
    expect(await billedRequests(proxy, enterprise.id)).toBe(billedBefore);
    // the shared pool is unaffected
    expect((await tts(proxy, basic.key)).status).toBe(200);
  });
});

describe("draining a node", () => {
  let a: Stub;
  let b: Stub;
  let c: Stub;
  let proxy: Proxy;

  beforeAll(async () => {
    a = await startStubNode();
    b = await startStubNode();
    c = await startStubNode();
    proxy = await startProxy([a.url], { config: generous });
    await liftBasicLimits(proxy);
  });
  afterAll(async () => {
    await proxy.close();
    await a.close();
    await b.close();
    await c.close();
  });

  it("POST /admin/nodes/{id}/drain: no new request is routed to the node", async () => {
    const bId = await addNode(proxy, b.url); // a second "shared" node
    const customer = await proxy.newCustomer("basic");
    for (let i = 0; i < 30; i++) expect((await tts(proxy, customer.key)).status).toBe(200);
    // both nodes take traffic (power of two choices between equally loaded nodes picks either at random)
    expect(a.state.served).toBeGreaterThan(0);
    expect(b.state.served).toBeGreaterThan(0);

    const drained = await proxy.admin("POST", `/admin/nodes/${bId}/drain`);
    expect(drained.status).toBe(200);
    expect((drained.json.node as { state: string }).state).toBe("draining");
    const listed = (await proxy.admin("GET", "/admin/nodes")).json.nodes as {
      id: string;
      state: string;
      live: { draining: boolean } | null;
    }[];
    expect(listed.find((n) => n.id === bId)).toMatchObject({ state: "draining", live: { draining: true } });
    const health = (await (await fetch(`${proxy.url}/healthz`)).json()) as { nodes: number; routable_nodes: number };
    expect(health).toMatchObject({ nodes: 2, routable_nodes: 1 });

    const before = { a: a.state.served, b: b.state.served };
    for (let i = 0; i < 20; i++) expect((await tts(proxy, customer.key)).status).toBe(200);
    expect(b.state.served).toBe(before.b);
    expect(a.state.served - before.a).toBe(20);

    // and back into service
    const activated = await proxy.admin("POST", `/admin/nodes/${bId}/activate`);
    expect((activated.json.node as { state: string }).state).toBe("active");
    const again = b.state.served;
    for (let i = 0; i < 30; i++) expect((await tts(proxy, customer.key)).status).toBe(200);
    expect(b.state.served).toBeGreaterThan(again);
  });

  it("draining a dedicated pool's only node leaves its customer with 503 NO_CAPACITY, not the shared pool", async () => {
    const cId = await addNode(proxy, c.url, "acme");
    const enterprise = await enterpriseCustomer(proxy, "acme");
    expect((await tts(proxy, enterprise.key)).status).toBe(200);
    expect(c.state.served).toBe(1);
    expect((await proxy.admin("POST", `/admin/nodes/${cId}/drain`)).status).toBe(200);
    const sharedBefore = a.state.served + b.state.served;
    const r = await tts(proxy, enterprise.key);
    expect([r.status, r.json?.error.code]).toEqual([503, "NO_CAPACITY"]);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(c.state.served).toBe(1);
    expect(a.state.served + b.state.served).toBe(sharedBefore);
  });

  it("an unknown node cannot be drained", async () => {
    expect((await proxy.admin("POST", "/admin/nodes/node_nope/drain")).status).toBe(404);
  });
});
