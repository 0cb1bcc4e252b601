/**
 * kill -9 of the proxy in the middle of a stream (real processes on 127.0.0.1, SQLite ledger): every piece of audio
 * the client received has a durable usage row, no row is there twice, and the proxy comes back on the same data
 * without charging the interrupted request again.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { spawnService } from "../../proxy/src/testing/stack.ts";

const ADMIN = "stream-kill-admin-token-0123456789";
/** four long sentences: a stream of it is five pieces (the first is cut again at its clause) */
const FOUR = Array.from(
  { length: 4 },
  (_, i) =>
    `Sentence number ${i + 1} is long enough to be a piece of its own, with a clause here, ` +
    `and it goes on for a while longer so that two of them never fit together in one piece of three hundred.`,
).join(" ");

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

describe("a streamed answer when the proxy is killed", () => {
  // whole pieces (a node answering WAV), or the node's segments, three per piece, 300 ms apart
  it.each([
    { units: "pieces", segments: 0 },
    { units: "segments", segments: 3 },
  ])(
    "kill -9 after the first audio ($units): each unit received has its durable row, none twice, none after",
    async ({ segments }) => {
      const dataDir = mkdtempSync(join(tmpdir(), "stream-kill-"));
      // each piece takes the node a while, so the kill lands while later pieces are still being made
      const stub = await spawnService("proxy/src/testing/stub-node-main.ts", {
        STUB_AUDIO_MS: "1000",
        STUB_DELAY_MS: "300",
        STUB_SEGMENTS: String(segments),
      });
      /** the row of the n-th unit the client received: `<id>.<piece>`, or `<id>.<piece>.<segment>` */
      const unitRow = (requestId: string, n: number) =>
        segments === 0 ? `${requestId}.${n}` : `${requestId}.${Math.floor(n / segments)}.${n % segments}`;
      const env = { PORT: "0", DATA_DIR: dataDir, ADMIN_TOKEN: ADMIN, GPU_NODES: stub.url };
      let proxy = await spawnService("proxy/src/entry.node.ts", env, /proxy listening on (http:\/\/[^\s]+)/);
      try {
        await admin(proxy.url, "POST", "/admin/plans/basic/prices", { unit_price_micros_per_1k_tokens: 1000 });
        const customer = (await admin(proxy.url, "POST", "/admin/customers", {
          name: "Kill",
          email: "kill@example.com",
          plan_id: "basic",
        })) as { customer: { id: string } };
        const key = (await admin(proxy.url, "POST", `/admin/customers/${customer.customer.id}/keys`)) as {
          key: string;
        };

        const res = await fetch(`${proxy.url}/v1/audio/speech`, {
          method: "POST",
          headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
          body: JSON.stringify({
            model: "tts-1",
            voice: "alloy",
            input: FOUR,
            response_format: "pcm",
            stream_format: "sse",
          }),
        });
        expect(res.status).toBe(200);
        const requestId = res.headers.get("x-request-id") ?? "";
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        let text = "";
        const deltas: number[] = [];
        while (deltas.length === 0) {
          const { done, value } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
          for (const event of text.split("\n\n").slice(0, -1)) {
            const parsed = JSON.parse(event.slice(6)) as { type: string; audio?: string };
            if (parsed.type === "speech.audio.delta") deltas.push(Buffer.from(parsed.audio ?? "", "base64").byteLength);
          }
          text = text.split("\n\n").at(-1) ?? "";
        }
        await killed(proxy.child);
        // the client sees the stream cut, not a clean end
        let cut = false;
        for (;;) {
          const next = await reader.read().catch(() => null);
          if (!next) {
            cut = true;
            break;
          }
          if (next.done) break;
          text += new TextDecoder().decode(next.value);
        }
        expect(cut || !text.includes("speech.audio.done")).toBe(true);

        const readRows = () => {
          const db = new Database(join(dataDir, "proxy.db"), { readonly: true });
          const rows = db
            .prepare(
              "select request_id, audio_ms, tokens from usage_events where request_id like ? order by request_id",
            )
            .all(`${requestId}.%`) as { request_id: string; audio_ms: number; tokens: number }[];
          db.close();
          return rows;
        };
        const rows = readRows();
        expect(deltas.length).toBeGreaterThan(0);
        // every unit received is covered: unit n's row exists for each n the client got
        for (let n = 0; n < deltas.length; n++) expect(rows.map((r) => r.request_id)).toContain(unitRow(requestId, n));
        expect(new Set(rows.map((r) => r.request_id)).size).toBe(rows.length);
        expect(rows.length).toBeLessThanOrEqual(5 * Math.max(1, segments));
        expect(rows[0]).toMatchObject({ audio_ms: 1000, tokens: 50 });

        // back on the same data: the interrupted request is not charged again, and new ones are served
        proxy = await spawnService("proxy/src/entry.node.ts", env, /proxy listening on (http:\/\/[^\s]+)/);
        const again = await fetch(`${proxy.url}/v1/tts`, {
          method: "POST",
          headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json" },
          body: JSON.stringify({ text: "after the restart" }),
        });
        expect(again.status).toBe(200);
        await again.arrayBuffer();
        expect(readRows()).toEqual(rows);
      } finally {
        await killed(proxy.child);
        await killed(stub.child);
      }
    },
  );
});
