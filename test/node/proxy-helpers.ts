import type { startProxy } from "../../proxy/src/testing/stack.ts";

/** Shared by the proxy's HTTP test files. */

export type TestProxy = Awaited<ReturnType<typeof startProxy>>;

export const ARTICLE = { text: "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。", emotion: "happy", voice: 0 };
/** a per-IP limit no test that is not about it reaches */
export const GENEROUS_IP = { ipPolicy: { ratePerSecond: 1e6, burst: 1e6 } };

export interface Answer {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  json: { error: { code: string; message: string; request_id: string } } | null;
}

export async function post(
  proxy: TestProxy,
  path: string,
  key: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${proxy.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const json = res.headers.get("content-type")?.includes("json") ? JSON.parse(new TextDecoder().decode(bytes)) : null;
  return { status: res.status, headers: res.headers, bytes, json };
}

export const tts = (proxy: TestProxy, key: string, body: unknown = ARTICLE, headers: Record<string, string> = {}) =>
  post(proxy, "/v1/tts", key, body, headers);

/** What the ledger holds for a customer (every currency summed; tests use one). */
export async function billed(proxy: TestProxy, customerId: string) {
  const totals = await proxy.stores.ledger.totals({ customerId, fromMs: 0, toMs: Date.now() + 60_000 });
  return totals.reduce(
    (sum, t) => ({
      events: sum.events + t.events,
      tokens: sum.tokens + t.tokens,
      amountMicros: sum.amountMicros + t.amountMicros,
    }),
    { events: 0, tokens: 0, amountMicros: 0 },
  );
}

/** Creates or updates a plan through the admin API; limits default to ones no test reaches. */
export async function putPlan(
  proxy: TestProxy,
  id: string,
  plan: Partial<{
    kind: "basic" | "batch" | "enterprise";
    time_zone: string;
    requests_per_second: number;
    burst: number;
    max_in_flight: number;
  }> = {},
) {
  const r = await proxy.admin("PUT", `/admin/plans/${id}`, {
    kind: "basic",
    name: id,
    currency: "USD",
    time_zone: "UTC",
    requests_per_second: 1000,
    burst: 1000,
    max_in_flight: 64,
    ...plan,
  });
  if (r.status !== 200) throw new Error(`plan ${id}: ${JSON.stringify(r.json)}`);
}

/** Adds a price version through the admin API; returns it. */
export async function addPrice(proxy: TestProxy, planId: string, price: Record<string, unknown>) {
  const r = await proxy.admin("POST", `/admin/plans/${planId}/prices`, price);
  if (r.status !== 201) throw new Error(`price for ${planId}: ${JSON.stringify(r.json)}`);
  return r.json.version as { id: string; effectiveFrom: number };
}
