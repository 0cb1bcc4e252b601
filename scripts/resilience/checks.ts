/**
 * Access checks against a running proxy: spoofed forwarding headers must not buy extra per-IP budget, and one
 * tenant's key must not reach another's jobs or usage.
 */

export interface SpoofResult {
  sent: number;
  admitted: number;
  /** what the per-IP policy allows in the window (the burst) */
  allowed: number;
  /** admitted beyond the allowance, as a fraction of the requests sent */
  overAdmission: number;
}

/** `count` requests, each claiming another client in X-Forwarded-For / X-Real-IP / CF-Connecting-IP / Forwarded. */
export async function spoofedHeaders(url: string, key: string, count: number, burst: number): Promise<SpoofResult> {
  let admitted = 0;
  for (let i = 0; i < count; i++) {
    const ip = `203.0.${(i >> 8) & 255}.${i & 255}`;
    const res = await fetch(`${url}/v1/voices`, {
      headers: {
        authorization: `Bearer ${key}`,
        "x-forwarded-for": ip,
        "x-real-ip": ip,
        "cf-connecting-ip": ip,
        forwarded: `for=${ip}`,
        "true-client-ip": ip,
      },
    });
    await res.arrayBuffer();
    if (res.status !== 429) admitted++;
  }
  return { sent: count, admitted, allowed: burst, overAdmission: Math.max(0, admitted - burst) / count };
}

export interface TenantResult {
  sent: number;
  /** requests by tenant B for tenant A's resources that were not refused (must be 0) */
  leaks: number;
  findings: string[];
}

/** Tenant A creates a job; tenant B (another customer) tries every way to read or change it. */
export async function tenantIsolation(url: string, keyA: string, keyB: string): Promise<TenantResult> {
  const result: TenantResult = { sent: 0, leaks: 0, findings: [] };
  const call = async (key: string, method: string, path: string, body?: unknown) => {
    result.sent++;
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text };
  };
  const created = await call(keyA, "POST", "/v1/jobs", { items: [{ text: "tenant A's private text" }] });
  const jobId = /"id":"(job_[A-Za-z0-9]+)"/.exec(created.text)?.[1];
  if (!jobId) {
    result.findings.push(`tenant A could not create a job: ${created.status} ${created.text.slice(0, 200)}`);
    result.leaks++;
    return result;
  }
  for (const [method, path] of [
    ["GET", `/v1/jobs/${jobId}`],
    ["GET", `/v1/jobs/${jobId}/items/0/audio`],
    ["GET", `/v1/jobs/${jobId}/audio`],
    ["POST", `/v1/jobs/${jobId}/cancel`],
    ["DELETE", `/v1/jobs/${jobId}`],
  ] as const) {
    const res = await call(keyB, method, path);
    if (res.status < 400 || res.text.includes("private text")) {
      result.leaks++;
      result.findings.push(`tenant B ${method} ${path} → ${res.status}`);
    }
  }
  const list = await call(keyB, "GET", "/v1/jobs");
  if (list.text.includes(jobId)) {
    result.leaks++;
    result.findings.push("tenant B lists tenant A's job");
  }
  const usage = await call(keyB, "GET", "/v1/usage");
  if (usage.text.includes("private")) result.leaks++;
  // A's key replaying its idempotency key as B must not return A's answer
  const idem = await fetch(`${url}/v1/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${keyB}`, "content-type": "application/json", "idempotency-key": "shared-key" },
    body: JSON.stringify({ items: [{ text: "B" }] }),
  });
  result.sent++;
  await idem.arrayBuffer();
  await fetch(`${url}/v1/jobs`, {
    method: "POST",
    headers: { authorization: `Bearer ${keyA}`, "content-type": "application/json", "idempotency-key": "shared-key" },
    body: JSON.stringify({ items: [{ text: "A" }] }),
  }).then(async (res) => {
    result.sent++;
    const text = await res.text();
    if (res.headers.get("idempotent-replayed")) {
      result.leaks++;
      result.findings.push(`tenant A got tenant B's idempotent answer: ${text.slice(0, 100)}`);
    }
  });
  return result;
}
