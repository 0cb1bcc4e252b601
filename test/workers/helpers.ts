/** Test support for the Worker: requests to it, the admin API, customers with keys, and D1 reads. */
import { createExecutionContext, SELF, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { EdgeProxy } from "../../proxy/src/adapters/workers/edge-proxy.ts";

export const ADMIN_TOKEN = "test-admin-token-0123456789";
export const ARTICLE = { text: "欢迎使用IndexTTS2语音合成服务,支持情感调节和多音色选择。", emotion: "happy", voice: 0 };

/** Something that answers requests like the deployed Worker: SELF (the entry), or another isolate's proxy. */
export type Target = (request: Request) => Promise<Response>;

export const self: Target = (request) => SELF.fetch(request);

/** A second isolate: its own local breakers and node table, the same Durable Objects, D1 and Queue. */
export function isolate(proxy: EdgeProxy): Target {
  return async (request) => {
    const ctx = createExecutionContext();
    const response = await proxy.fetch(request, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  };
}

export function request(path: string, init: RequestInit = {}): Request {
  return new Request(`http://proxy.test${path}`, init);
}

export async function admin(method: string, path: string, body?: unknown, target: Target = self) {
  const res = await target(
    request(path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    }),
  );
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function newCustomer(planId = "basic", extra: Record<string, unknown> = {}) {
  const created = await admin("POST", "/admin/customers", {
    name: "Test",
    email: "t@example.com",
    plan_id: planId,
    ...extra,
  });
  if (created.status !== 201) throw new Error(`customer: ${created.status} ${JSON.stringify(created.json)}`);
  const customer = created.json.customer as { id: string };
  const key = await admin("POST", `/admin/customers/${customer.id}/keys`);
  return { id: customer.id, key: key.json.key as string, keyId: key.json.id as string };
}

export async function upsertPlan(id: string, limits: { rps: number; burst: number; inFlight: number }) {
  const plan = await admin("PUT", `/admin/plans/${id}`, {
    kind: "basic",
    name: id,
    currency: "USD",
    time_zone: "UTC",
    requests_per_second: limits.rps,
    burst: limits.burst,
    max_in_flight: limits.inFlight,
  });
  if (plan.status !== 200) throw new Error(`plan: ${plan.status} ${JSON.stringify(plan.json)}`);
  const versions = await admin("GET", `/admin/plans/${id}/prices`);
  if ((versions.json.versions as unknown[]).length === 0) {
    await admin("POST", `/admin/plans/${id}/prices`, { unit_price_micros_per_1k_tokens: 20_000 });
  }
}

export function tts(key: string, body: unknown = ARTICLE, headers: Record<string, string> = {}): Request {
  return request("/v1/tts", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Usage rows of these request ids in D1 (what the queue consumer wrote). */
export async function usageRowsFor(ids: readonly string[]): Promise<{ request_id: string; tokens: number }[]> {
  const { results } = await env.DB.prepare(
    "select request_id, tokens from usage_events where request_id in (select value from json_each(?1))",
  )
    .bind(JSON.stringify(ids))
    .all<{ request_id: string; tokens: number }>();
  return results;
}

/** Polls until `check` returns true (the queue consumer runs after its batch timeout), or fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
