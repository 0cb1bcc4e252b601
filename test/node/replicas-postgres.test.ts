import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../../proxy/src/adapters/redis/testing/redis-server.ts";
import { spawnService, startStubNode } from "../../proxy/src/testing/stack.ts";
import { type PostgresServer, startPostgres } from "../../storage/testing/postgres-server.ts";

/**
 * Two Node proxy processes on one Postgres (DATABASE_URL) and one Redis (REDIS_URL), behaving as one proxy: a key
 * made through one works on the other, one revoked through one is refused at once by the other, a batch item's
 * audio downloads through either, and when one is killed with SIGKILL under load, every request answered 200
 * by either has its usage row in the ledger, once (reconciled by request id), and nothing is charged twice.
 */
const ADMIN = "replica-admin-token-0123456789";
const REQUESTS = 240;

let postgres: PostgresServer;
let redis: RedisServer;
let stub: Awaited<ReturnType<typeof startStubNode>>;
let client: pg.Client;
const replicas: { url: string; child: ChildProcess }[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  [postgres, redis, stub] = await Promise.all([startPostgres(), startRedisServer(), startStubNode(200)]);
  client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  // Both start together: the migration runs once, under its advisory lock.
  const started = await Promise.all(
    [0, 1].map((i) => {
      const dir = mkdtempSync(join(tmpdir(), `pg-replica-${i}-`));
      dirs.push(dir);
      return spawnService(
        "proxy/src/entry.node.ts",
        {
          PORT: "0",
          DATA_DIR: dir,
          ADMIN_TOKEN: ADMIN,
          DATABASE_URL: postgres.url,
          REDIS_URL: redis.url,
          GPU_NODES: stub.url,
          IP_RATE_PER_SECOND: "100000",
          IP_BURST: "100000",
        },
        /proxy listening on (http:\/\/[^\s]+)/,
      );
    }),
  );
  replicas.push(...started);
}, 120_000);

afterAll(async () => {
  for (const r of replicas) r.child.kill("SIGKILL");
  await client?.end();
  await Promise.all([postgres?.stop(), redis?.stop(), stub?.close()]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function admin(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await res.json()) as Record<string, unknown>;
}

/** The sum of a counter's samples on a replica's /metrics. */
async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
}

describe("replicas on one Postgres", () => {
  it("run a batch job's items once each, whichever replica's worker claims them", async () => {
    const [a, b] = replicas;
    if (!a || !b) throw new Error("replicas did not start");
    const customer = (
      await admin(a.url, "POST", "/admin/customers", { name: "J", email: "j@example.com", plan_id: "batch" })
    ).customer as { id: string };
    const key = (await admin(a.url, "POST", `/admin/customers/${customer.id}/keys`)).key as string;
    const servedBefore = stub.state.served;
    const ITEMS = 24;
    const created = await fetch(`${a.url}/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ items: Array.from({ length: ITEMS }, (_, i) => ({ text: `Item ${i}.` })) }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    // Polled through the other replica until finished: both read the one queue.
    type Job = { status: string; items: { state: string; attempts: number }[] };
    let job: Job;
    for (;;) {
      const res = await fetch(`${b.url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } });
      job = (await res.json()) as Job;
      if (!["queued", "running"].includes(job.status)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(job.status).toBe("succeeded");
    expect(job.items.map((i) => [i.state, i.attempts])).toEqual(Array.from({ length: ITEMS }, () => ["done", 1]));
    // Synthesised once each, and processed once in all between the two replicas' workers.
    expect(stub.state.served - servedBefore).toBe(ITEMS);
    const processed = await Promise.all([a, b].map((r) => counter(r.url, "proxy_job_items_processed_total")));
    expect(processed.reduce((sum, n) => sum + n, 0)).toBe(ITEMS);
    // Each item's audio downloads through either replica, whichever ran it (results live in Postgres, not in the
    // DATA_DIR of the replica that wrote them), and both serve the same bytes.
    for (let n = 0; n < ITEMS; n++) {
      const [fromA, fromB] = await Promise.all(
        [a, b].map(async (r) => {
          // The batch plan's per-key bucket (burst 40) is shared with the polls above, so 48 downloads in a row may
          // meet a 429: a client waits its Retry-After and asks again, as the limit tells it to.
          let res: Response;
          for (;;) {
            res = await fetch(`${r.url}/v1/jobs/${id}/items/${n}/audio`, {
              headers: { authorization: `Bearer ${key}` },
            });
            if (res.status !== 429) break;
            await res.arrayBuffer();
            await new Promise((done) => setTimeout(done, 1000 * Number(res.headers.get("retry-after") ?? 1)));
          }
          expect(res.status, `item ${n} from ${r.url}`).toBe(200);
          return Buffer.from(await res.arrayBuffer());
        }),
      );
      expect(fromA?.length).toBeGreaterThan(44);
      expect(fromA?.equals(fromB as Buffer)).toBe(true);
    }
  });

  it("refuse a key revoked on one replica on the very next request to the other (no cache lag)", async () => {
    const [a, b] = replicas;
    if (!a || !b) throw new Error("replicas did not start");
    const customer = (
      await admin(a.url, "POST", "/admin/customers", { name: "K", email: "k@example.com", plan_id: "basic" })
    ).customer as { id: string };
    const issued = (await admin(a.url, "POST", `/admin/customers/${customer.id}/keys`)) as { id: string; key: string };
    const tts = (url: string) =>
      fetch(`${url}/v1/tts`, {
        method: "POST",
        headers: { authorization: `Bearer ${issued.key}`, "content-type": "application/json" },
        body: JSON.stringify({ text: "Revocation test.", voice: 0 }),
      }).then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      });
    // B has the key in its read cache (answered just now), then A revokes it.
    expect(await tts(b.url)).toBe(200);
    await admin(a.url, "DELETE", `/admin/keys/${issued.id}`);
    expect(await tts(b.url)).toBe(401);
    expect(await tts(a.url)).toBe(401);
  });

  it("lose no usage row and double none when one replica is killed with SIGKILL under load", async () => {
    const [a, b] = replicas;
    if (!a || !b) throw new Error("replicas did not start");
    const customer = (
      await admin(a.url, "POST", "/admin/customers", { name: "R", email: "r@example.com", plan_id: "enterprise" })
    ).customer as { id: string };
    const key = (await admin(a.url, "POST", `/admin/customers/${customer.id}/keys`)).key as string;

    let killed = false;
    let okFromB = 0;
    let okFromAAfterKill = 0;
    // Closed loop: 8 clients per replica within the enterprise plan's in-flight cap (64, shared through Redis).
    const answers: { status: number; requestId: string | null }[] = [];
    let next = 0;
    const worker = async (replica: { url: string }) => {
      while (next < REQUESTS) {
        const i = next++;
        try {
          const res = await fetch(`${replica.url}/v1/tts`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify({ text: `replica test sentence number ${i}.`, voice: 0 }),
          });
          await res.arrayBuffer();
          answers.push({ status: res.status, requestId: res.headers.get("x-request-id") });
          if (res.status === 200 && replica === a && killed) okFromAAfterKill++;
          if (res.status === 200 && replica === b && ++okFromB === 20 && !killed) {
            // Mid-load: B has answered some and holds others in flight.
            killed = true;
            b.child.kill("SIGKILL");
          }
        } catch {
          answers.push({ status: 0, requestId: null }); // the connection died with the replica
          if (replica === b && killed) return;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => worker(w % 2 === 0 ? a : b)));
    const statuses: Record<number, number> = {};
    for (const x of answers) statuses[x.status] = (statuses[x.status] ?? 0) + 1;
    expect(killed, JSON.stringify(statuses)).toBe(true);
    const ok = answers.filter((x) => x.status === 200).map((x) => x.requestId as string);
    const { rows } = await client.query<{ request_id: string }>(
      "select request_id from usage_events where customer_id = $1",
      [customer.id],
    );
    const ledger = rows.map((r) => r.request_id);
    // Every 200 has its row (durable before the response), and no request id twice.
    expect(ledger.filter((id) => ok.includes(id)).length).toBe(ok.length);
    expect(new Set(ledger).size).toBe(ledger.length);
    // Rows beyond the 200s are requests B committed but could not answer before it died: never more rows than
    // requests the node synthesised.
    expect(ledger.length).toBeGreaterThanOrEqual(ok.length);
    expect(ledger.length).toBeLessThanOrEqual(stub.state.served);
    // Both replicas served, and A kept serving after B died.
    expect(okFromB).toBeGreaterThanOrEqual(20);
    // (a count of A's answers after the kill, not a share of all requests: how many B's clients lose in the kill
    // varies with the machine's load; a fresh-clone CI run once saw 119 of 240 answered)
    expect(okFromAAfterKill, JSON.stringify(statuses)).toBeGreaterThan(0);
  });
});
