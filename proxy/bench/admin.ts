/** The admin calls the proxy benches make: a client that fails loudly, and a customer whose limits never bind. */

export type AdminCall = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

/** JSON admin requests to `base` with the admin token; a non-2xx answer throws with its body. */
export function adminClient(base: string, token: string): AdminCall {
  return async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${base}${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/**
 * A customer on the basic plan "bench" whose limits never bind, so key lookup and both limiters still run on every
 * request without refusing any. Waits past the price version's start, so requests arrive strictly after it.
 */
export async function benchCustomer(
  admin: AdminCall,
  { unitPriceMicrosPer1k = 2_000, limit = 1e6, maxInFlight = 10_000 } = {},
): Promise<{ id: string; key: string }> {
  await admin("PUT", "/admin/plans/bench", {
    kind: "basic",
    name: "Bench",
    currency: "USD",
    time_zone: "UTC",
    requests_per_second: limit,
    burst: limit,
    max_in_flight: maxInFlight,
  });
  await admin("POST", "/admin/plans/bench/prices", { unit_price_micros_per_1k_tokens: unitPriceMicrosPer1k });
  const { customer } = (await admin("POST", "/admin/customers", {
    name: "Bench",
    email: "bench@example.com",
    plan_id: "bench",
  })) as { customer: { id: string } };
  const { key } = (await admin("POST", `/admin/customers/${customer.id}/keys`)) as { key: string };
  await new Promise((r) => setTimeout(r, 10));
  return { id: customer.id, key };
}
