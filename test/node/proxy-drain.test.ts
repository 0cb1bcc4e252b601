import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { spawnService, startStubNode } from "../../proxy/src/testing/stack.ts";

const ADMIN = "drain-test-admin-token-0123456789";

const until = async (condition: () => boolean, deadlineMs = 30_000) => {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** Issue 14 #10: SIGTERM drains the proxy — no new work, the requests in flight answered and billed, then exit 0. */
describe("the proxy's SIGTERM drain (the Node entry, spawned)", () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const s of stops) await s();
  });

  it("a request in flight at SIGTERM is answered 200 and its usage row is durable; a new one is refused; exit 0", async () => {
    const node = await startStubNode(1000);
    stops.push(() => node.close());
    const dataDir = mkdtempSync(join(tmpdir(), "drain-"));
    const proxy = await spawnService(
      "proxy/src/entry.node.ts",
      {
        PORT: "0",
        DATA_DIR: dataDir,
        ADMIN_TOKEN: ADMIN,
        GPU_NODES: node.url,
        IP_RATE_PER_SECOND: "1000",
        IP_BURST: "1000",
      },
      /proxy listening on (http:\/\/[^\s]+)/,
    );
    const exited = new Promise<number | null>((resolve) => proxy.child.once("exit", (code) => resolve(code)));
    stops.push(async () => {
      proxy.child.kill("SIGKILL");
    });
    const admin = async (path: string, body: unknown) =>
      (await (
        await fetch(`${proxy.url}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        })
      ).json()) as Record<string, unknown>;
    const customer = (await admin("/admin/customers", { name: "D", email: "d@example.com", plan_id: "basic" }))
      .customer as { id: string };
    const { key } = (await admin(`/admin/customers/${customer.id}/keys`, {})) as { key: string };

    node.state.delayMs = 1_500;
    const inFlight = fetch(`${proxy.url}/v1/tts`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "hello", voice: 0 }),
    });
    await until(() => node.state.served === 1); // the node is working on it
    proxy.child.kill("SIGTERM");
    await until(() => proxy.output().includes("draining"));

    const late = await fetch(`${proxy.url}/v1/voices`, { headers: { authorization: `Bearer ${key}` } }).then(
      (r) => r.status,
      () => "refused",
    );
    expect([503, "refused"]).toContain(late);

    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect((await answered.arrayBuffer()).byteLength).toBeGreaterThan(44);
    const requestId = answered.headers.get("x-request-id");
    expect(await exited).toBe(0);

    const db = new Database(join(dataDir, "proxy.db"), { readonly: true });
    try {
      const rows = db.prepare("select request_id from usage_events where customer_id = ?").all(customer.id);
      expect(rows).toEqual([{ request_id: requestId }]);
    } finally {
      db.close();
    }
    expect(node.state.served).toBe(1);
  });
});
