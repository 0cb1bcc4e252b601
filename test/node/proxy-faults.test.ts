import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { spawnService, startProxy } from "../../proxy/src/testing/stack.ts";

const ADMIN = "fault-test-admin-token-0123456789";
const BODY = JSON.stringify({ text: "Fault tolerance test sentence.", voice: 0 });

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });

async function admin(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return (await res.json()) as Record<string, unknown>;
}

describe("proxy faults (real processes on 127.0.0.1)", () => {
  it("a proxy killed with SIGKILL under load has lost no usage row it answered for", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "proxy-kill-"));
    const stub = await spawnService("proxy/src/testing/stub-node-main.ts", { STUB_AUDIO_MS: "1000" });
    const env = {
      PORT: "0",
      DATA_DIR: dataDir,
      ADMIN_TOKEN: ADMIN,
      GPU_NODES: stub.url,
      IP_RATE_PER_SECOND: "100000",
      IP_BURST: "100000",
    };
    let proxy = await spawnService("proxy/src/entry.node.ts", env, /proxy listening on (http:\/\/[^\s]+)/);
    try {
      await admin(proxy.url, "PUT", "/admin/plans/load", {
        kind: "basic",
        name: "Load",
        currency: "USD",
        time_zone: "UTC",
        requests_per_second: 100000,
        burst: 100000,
        max_in_flight: 1000,
      });
      await admin(proxy.url, "POST", "/admin/plans/load/prices", { unit_price_micros_per_1k_tokens: 20000 });
      const customer = (await admin(proxy.url, "POST", "/admin/customers", {
        name: "Load",
        email: "load@example.com",
        plan_id: "load",
      })) as { customer: { id: string } };
      const key = (await admin(proxy.url, "POST", `/admin/customers/${customer.customer.id}/keys`)) as { key: string };

      const answered: string[] = [];
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const res = await fetch(`${proxy.url}/v1/tts`, {
            method: "POST",
            headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
            body: BODY,
          }).catch(() => null);
          if (!res) return;
          await res.arrayBuffer().catch(() => null);
          if (res.status === 200) answered.push(res.headers.get("x-request-id") ?? "");
        }
      };
      const workers = Array.from({ length: 16 }, worker);
      while (answered.length < 300) await new Promise((r) => setTimeout(r, 5));
      await killed(proxy.child);
      stop = true;
      await Promise.all(workers);

      const db = new Database(join(dataDir, "proxy.db"), { readonly: true });
      const ids = new Set(
        (db.prepare("select request_id from usage_events").all() as { request_id: string }[]).map((r) => r.request_id),
      );
      const rows = (db.prepare("select count(*) as n from usage_events").get() as { n: number }).n;
      db.close();
      expect(answered.length).toBeGreaterThanOrEqual(300);
      expect(answered.filter((id) => !ids.has(id))).toEqual([]);
      expect(rows).toBe(ids.size);

      // it comes back on the same data and serves again
      proxy = await spawnService("proxy/src/entry.node.ts", env, /proxy listening on (http:\/\/[^\s]+)/);
      const res = await fetch(`${proxy.url}/v1/tts`, {
        method: "POST",
        headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
        body: BODY,
      });
      expect(res.status).toBe(200);
    } finally {
      await killed(proxy.child);
      await killed(stub.child);
    }
  });

  it("a GPU node killed under load: only requests in flight on it fail, then traffic moves to the survivor", async () => {
    const doomed = await spawnService("proxy/src/testing/stub-node-main.ts", { STUB_DELAY_MS: "20" });
    const survivor = await spawnService("proxy/src/testing/stub-node-main.ts", { STUB_DELAY_MS: "20" });
    const proxy = await startProxy([doomed.url, survivor.url], {
      config: { ipPolicy: { ratePerSecond: 1e6, burst: 1e6 } },
    });
    const concurrency = 8;
    try {
      await proxy.admin("PUT", "/admin/plans/enterprise", {
        kind: "enterprise",
        name: "Enterprise",
        currency: "USD",
        time_zone: "UTC",
        requests_per_second: 100000,
        burst: 100000,
        max_in_flight: 1000,
      });
      const c = await proxy.newCustomer("enterprise");
      const results: { status: number; at: number }[] = [];
      let killedAt = Number.POSITIVE_INFINITY;
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const res = await fetch(`${proxy.url}/v1/tts`, {
            method: "POST",
            headers: { authorization: `Bearer ${c.key}`, "content-type": "application/json" },
            body: BODY,
          });
          await res.arrayBuffer();
          results.push({ status: res.status, at: Date.now() });
        }
      };
      const workers = Array.from({ length: concurrency }, worker);
      while (results.length < 100) await new Promise((r) => setTimeout(r, 2));
      killedAt = Date.now();
      await killed(doomed.child);
      const countAtKill = results.length;
      while (results.length < countAtKill + 200) await new Promise((r) => setTimeout(r, 2));
      stop = true;
      await Promise.all(workers);

      const before = results.slice(0, countAtKill);
      const after = results.slice(countAtKill);
      expect(before.every((r) => r.status === 200)).toBe(true);
      const failed = after.filter((r) => r.status !== 200);
      // at most the requests that were in flight on the killed node (each worker has one in flight)
      expect(failed.length).toBeLessThanOrEqual(concurrency);
      expect(after.slice(-150).every((r) => r.status === 200)).toBe(true);
      expect(killedAt).toBeLessThan(Number.POSITIVE_INFINITY);
      const totals = await proxy.stores.ledger.totals({ customerId: c.id, fromMs: 0, toMs: Date.now() + 1000 });
      expect(totals[0]?.events).toBe(results.filter((r) => r.status === 200).length);
    } finally {
      await proxy.close();
      await killed(doomed.child);
      await killed(survivor.child);
    }
  });
});
