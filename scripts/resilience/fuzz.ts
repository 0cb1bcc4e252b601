/**
 * A seeded fuzzer over every route the proxy documents (its own /openapi.json, so a new route is fuzzed without a
 * change here): structure, types, sizes, encodings and headers. Any 5xx, or a connection error on a body under the
 * proxy's caps, is a finding. Deterministic for a seed; `count` requests in `concurrency` lanes.
 */
export interface FuzzTarget {
  url: string;
  /** a customer key, a batch-plan key (jobs), and the admin token: the fuzzer mixes them with bad ones */
  keys: { basic: string; batch?: string; admin: string };
}

export interface FuzzResult {
  sent: number;
  byStatus: Record<string, number>;
  serverErrors: number;
  connectionErrors: number;
  findings: string[];
}

/** mulberry32: small, seedable, good enough to pick cases. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  return { next, int, pick };
}
type Rng = ReturnType<typeof rng>;

const STRINGS = [
  "",
  " ",
  "hello",
  "欢迎使用IndexTTS2语音合成服务",
  "\u200b\u200b\u200b",
  "\u0000\u0001\u0002",
  "😀".repeat(50),
  "x".repeat(5000),
  "a\ud800b",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "../../etc/passwd",
  "%00%ff",
  "alice",
  "happy",
  "wav",
  "mp3",
  "tts-1",
];

function value(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 6 : 9)) {
    case 0:
      return r.pick(STRINGS);
    case 1:
      return r.pick([0, -1, 1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 4, 0.25, 100]);
    case 2:
      return r.pick([true, false, null]);
    case 3:
      return "y".repeat(r.pick([1, 100, 4096, 4097, 70_000]));
    case 4:
      return r.pick(STRINGS) + r.int(1000);
    case 5:
      return r.int(5);
    case 6:
      return Array.from({ length: r.int(4) }, () => value(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: r.int(5) }, () => [r.pick(FIELDS), value(r, depth + 1)]));
  }
}

const FIELDS = [
  "text",
  "input",
  "voice",
  "model",
  "emotion",
  "emotion_vector",
  "emotion_alpha",
  "speed",
  "seed",
  "response_format",
  "instructions",
  "items",
  "segment_max_chars",
  "callback_url",
  "metadata",
  "prefer_off_peak",
  "name",
  "email",
  "plan_id",
  "period",
  "id",
  "type",
  "data",
  "__proto__",
  "constructor",
];

/** A body for a route: mostly near-valid (so the fuzzer gets past validation into the handlers), sometimes wild. */
function body(r: Rng, path: string): { text: string | Uint8Array; type: string } {
  const json = (v: unknown) => ({ text: JSON.stringify(v), type: "application/json" });
  const near: Record<string, () => unknown> = {
    "/v1/tts": () => ({ text: r.pick(STRINGS.slice(0, 8)), voice: r.pick([0, "alice", 7, -1, "x"]), speed: value(r) }),
    "/v1/audio/speech": () => ({ model: "tts-1", input: r.pick(STRINGS.slice(0, 8)), voice: r.pick(["alice", 0, ""]) }),
    "/v1/jobs": () =>
      r.next() < 0.5
        ? { items: Array.from({ length: r.int(4) }, () => ({ text: r.pick(STRINGS.slice(0, 8)), voice: value(r) })) }
        : { text: r.pick(STRINGS), segment_max_chars: value(r) },
  };
  switch (r.int(8)) {
    case 0:
      return { text: "{not json", type: "application/json" };
    case 1:
      return {
        text: new Uint8Array([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
        type: "application/json",
      };
    case 2:
      return { text: "text=hello", type: r.pick(["application/x-www-form-urlencoded", "text/plain", ""]) };
    case 3:
      return json(value(r));
    case 4:
      return json(r.pick([[], null, 0, "x", [{}]]));
    case 5:
      return { text: `{"text":"${"z".repeat(r.pick([70_000, 3 * 1024 * 1024]))}"}`, type: "application/json" };
    default: {
      const template = near[path.replace(/\{[^}]+\}.*$/, "").replace(/\/$/, "")] ?? (() => value(r));
      return json(template());
    }
  }
}

function pathFor(r: Rng, template: string): string {
  return template.replace(/\{[^}]+\}/g, () =>
    encodeURIComponent(r.pick(["job_0", "1", "-1", "999999", "cus_demo", "%2e%2e", "x".repeat(300), "😀", "0"])),
  );
}

function headers(r: Rng, keys: FuzzTarget["keys"], type: string, path: string): Record<string, string> {
  const h: Record<string, string> = {};
  if (type) h["content-type"] = type;
  // Mostly the credential the route wants, so cases reach the handlers; otherwise any of the others, or a bad one.
  const proper = path.startsWith("/admin") ? keys.admin : path.startsWith("/v1/jobs") ? keys.batch : keys.basic;
  const auth = r.next() < 0.6 ? -1 : r.int(7);
  if (auth === -1 && proper) h.authorization = `Bearer ${proper}`;
  else if (auth === 0) h.authorization = `Bearer ${keys.basic}`;
  else if (auth === 1 && keys.batch) h.authorization = `Bearer ${keys.batch}`;
  else if (auth === 2) h["x-api-key"] = keys.basic;
  else if (auth === 3) h.authorization = `Bearer ${keys.admin}`;
  else if (auth === 4) h.authorization = r.pick(["Bearer ", "Basic Zm9vOmJhcg==", "Bearer tts_live_nope", "bearer\tx"]);
  if (r.next() < 0.3) h["x-forwarded-for"] = r.pick(["1.2.3.4", "garbage", "::1, 10.0.0.1", "2001:db8::1"]);
  if (r.next() < 0.2) h["idempotency-key"] = r.pick(["k1", "k2", "é", "x".repeat(300), ""]);
  if (r.next() < 0.1) h["stripe-signature"] = r.pick(["t=1,v1=00", "garbage", ""]);
  if (r.next() < 0.1) h.accept = r.pick(["audio/wav", "*/*", "text/html"]);
  return h;
}

export async function fuzz(
  target: FuzzTarget,
  options: { seed: number; count: number; concurrency?: number },
): Promise<FuzzResult> {
  const doc = (await (await fetch(`${target.url}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((m) => ["get", "post", "put", "delete", "patch"].includes(m))
      .map((method) => ({ method: method.toUpperCase(), path })),
  );
  const result: FuzzResult = { sent: 0, byStatus: {}, serverErrors: 0, connectionErrors: 0, findings: [] };
  const r = rng(options.seed);
  // Cases are drawn up front from the one seeded stream, so the run is the same whatever the lanes' timing.
  const cases = Array.from({ length: options.count }, () => {
    const route = r.pick(routes);
    const method = r.next() < 0.05 ? r.pick(["GET", "POST", "DELETE", "PUT"]) : route.method;
    const b = method === "GET" || method === "DELETE" ? null : body(r, route.path);
    return {
      method,
      path: pathFor(r, route.path),
      body: b,
      headers: headers(r, target.keys, b?.type ?? "", route.path),
    };
  });
  let next = 0;
  const lane = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      if (!c) break;
      result.sent++;
      try {
        const res = await fetch(`${target.url}${c.path}`, {
          method: c.method,
          headers: c.headers,
          ...(c.body ? { body: c.body.text as BodyInit } : {}),
          signal: AbortSignal.timeout(120_000),
        });
        await res.arrayBuffer();
        result.byStatus[res.status] = (result.byStatus[res.status] ?? 0) + 1;
        // 503 with Retry-After is load shedding and 501 BILLING_NOT_CONFIGURED a deployment without Stripe (both
        // documented answers with stable codes), not failures; any other 5xx is a finding.
        const expected = (res.status === 503 && res.headers.get("retry-after")) || res.status === 501;
        if (res.status >= 500 && !expected) {
          result.serverErrors++;
          if (result.findings.length < 10) result.findings.push(`${res.status} ${c.method} ${c.path}`);
        }
      } catch (e) {
        result.connectionErrors++;
        if (result.findings.length < 10) result.findings.push(`connection error ${c.method} ${c.path}: ${String(e)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, lane));
  return result;
}
