import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { measureWav } from "../../audio/wav.ts";
import { startSlotNode } from "../../proxy/src/jobs/testing/slot-node.ts";
import { spawnService } from "../../proxy/src/testing/stack.ts";

const ADMIN = "jobs-kill-admin-token-0123456789";
const JOBS = 4;
const ITEMS_PER_JOB = 500;
const TOTAL = JOBS * ITEMS_PER_JOB;
/** 500 ms of audio = 25 tokens; the default batch price: 20,000 µ per 1k tokens, 35 % off → 325 µ. */
const AUDIO_MS = 500;
const ITEM_PRICE = 325;

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });

type JobList = { jobs: { id: string; status: string; counts: { done: number } }[] };

describe("jobs across a kill -9 of the proxy (real child process, real SQLite, slot node over HTTP)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "jobs-kill-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it(`${TOTAL} queued items complete with zero loss and zero double charge across kill -9 and a restart`, async () => {
    const node = await startSlotNode({ slots: 16, reservedInteractive: 2, serviceMs: 15, audioMs: AUDIO_MS });
    const env = {
      PORT: "0",
      DATA_DIR: dataDir,
      ADMIN_TOKEN: ADMIN,
      GPU_NODES: node.url,
      IP_RATE_PER_SECOND: "1000",
      IP_BURST: "1000",
      JOBS_BATCH_SLOTS_PER_NODE: "12",
      JOBS_HEADROOM_SLOTS: "2",
    };
    const start = () => spawnService("proxy/src/entry.node.ts", env, /proxy listening on (http:\/\/[^\s]+)/);
    let proxy = await start();
    try {
      // The demo set-up's batch-plan customer: its key works with the jobs API.
      const key = readFileSync(join(dataDir, "demo-batch-key.txt"), "utf8").trim();
      const call = (path: string, init: RequestInit = {}) =>
        fetch(`${proxy.url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        });
      const ids: string[] = [];
      for (let j = 0; j < JOBS; j++) {
        const items = Array.from({ length: ITEMS_PER_JOB }, (_, i) => ({ text: `第${j}章，第${i}段。` }));
        const res = await call("/v1/jobs", { method: "POST", body: JSON.stringify({ items }) });
        expect(res.status).toBe(202);
        ids.push(((await res.json()) as { id: string }).id);
      }
      const doneNow = async () => {
        const res = await call("/v1/jobs?limit=100").catch(() => null);
        if (res?.status !== 200) return null;
        return ((await res.json()) as JobList).jobs.reduce((sum, j) => sum + j.counts.done, 0);
      };
      let before = 0;
      while (before < TOTAL * 0.3) {
        before = (await doneNow()) ?? before;
        await new Promise((r) => setTimeout(r, 50));
      }
      const servedAtKill = node.stats.served.batch;
      await killed(proxy.child);
      expect(servedAtKill).toBeLessThan(TOTAL);
      // Durable before done: at the moment of the kill, every item marked done already had its usage row.
      const atKill = new Database(join(dataDir, "proxy.db"), { readonly: true });
      try {
        const row = atKill
          .prepare(
            `select sum(state = 'done') as done,
                    sum(state = 'done' and (job_id || '.' || n) not in (select request_id from usage_events)) as unmetered
             from job_items`,
          )
          .get() as { done: number; unmetered: number };
        expect(row.done).toBeGreaterThanOrEqual(before);
        expect(row.unmetered).toBe(0);
      } finally {
        atKill.close();
      }

      proxy = await start();
      expect(proxy.output()).toMatch(/jobs: \d+ items of an earlier run are queued again|proxy listening/);
      const until = Date.now() + 180_000;
      let list: JobList | null = null;
      for (;;) {
        const res = await call("/v1/jobs?limit=100");
        if (res.status === 200) {
          list = (await res.json()) as JobList;
          if (list.jobs.every((j) => j.status === "succeeded")) break;
        }
        if (Date.now() > until) throw new Error(`not finished: ${JSON.stringify(list)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(list?.jobs.map((j) => j.counts.done)).toEqual(Array(JOBS).fill(ITEMS_PER_JOB));

      // The whole of one job, as one WAV.
      const whole = await call(`/v1/jobs/${ids[0]}/audio`);
      expect(whole.status).toBe(200);
      expect(measureWav(new Uint8Array(await whole.arrayBuffer()))).toMatchObject({
        ok: true,
        wav: { durationMs: ITEMS_PER_JOB * AUDIO_MS },
      });

      const db = new Database(join(dataDir, "proxy.db"), { readonly: true });
      try {
        const usage = db
          .prepare(
            `select count(*) as n, count(distinct request_id) as distinct_ids, sum(amount_micros) as amount,
                    sum(priority = 'batch') as batch, sum(multiplier_bp = 10000) as plain
             from usage_events where request_id like 'job_%'`,
          )
          .get() as { n: number; distinct_ids: number; amount: number; batch: number; plain: number };
        // Zero loss, zero double charge: one usage row per item, each at the batch price.
        expect(usage).toEqual({
          n: TOTAL,
          distinct_ids: TOTAL,
          amount: TOTAL * ITEM_PRICE,
          batch: TOTAL,
          plain: TOTAL,
        });
        const items = db
          .prepare(
            `select count(*) as n, sum(state = 'done') as done, sum(amount_micros) as amount,
                    sum((job_id || '.' || n) in (select request_id from usage_events)) as metered
             from job_items`,
          )
          .get() as { n: number; done: number; amount: number; metered: number };
        expect(items).toEqual({ n: TOTAL, done: TOTAL, amount: TOTAL * ITEM_PRICE, metered: TOTAL });
      } finally {
        db.close();
      }
      const files = ids.flatMap((id) => readdirSync(join(dataDir, "job-results", id)));
      expect(files.filter((f) => f.endsWith(".wav")).length).toBe(TOTAL);
      expect(files.length).toBe(TOTAL);
      // Writes cut short by the kill were cleared at the restart; nothing is left half-written.
      expect(readdirSync(join(dataDir, "job-results", "~tmp"))).toEqual([]);
      // Some items were synthesised again after the restart (those in flight at the kill); none was charged twice.
      expect(node.stats.served.batch).toBe(TOTAL + node.stats.repeats);
      console.log(
        `jobs kill test: ${before} items done before the kill, ${node.stats.repeats} synthesised twice, ${chargedSummary(TOTAL)}`,
      );
    } finally {
      await killed(proxy.child);
      await node.close();
    }
  }, 240_000);
});

const chargedSummary = (n: number) => `${n} usage rows, ${n * ITEM_PRICE} µ charged`;
