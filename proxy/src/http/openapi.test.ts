import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { PROXY_ERROR_STATUS, type ProxyErrorCode } from "../core/errors.ts";
import { jobBodySchema } from "../jobs/schemas.ts";
import { createInProcessProxy } from "../testing/stack.ts";
import {
  errorEnvelopeSchema,
  type HttpMethod,
  type JsonSchema,
  type OpenApiDocument,
  type OpenApiOperation,
  openApiDocument,
  RESPONSE_SCHEMAS,
} from "./openapi/index.ts";
import {
  customerBodySchema,
  keyBodySchema,
  nodeBodySchema,
  openAiSpeechSchema,
  planBodySchema,
  priceVersionBodySchema,
  ttsBodySchema,
} from "./schemas.ts";

type Proxy = Awaited<ReturnType<typeof createInProcessProxy>>;

const METHODS = ["GET", "POST", "PUT", "DELETE"] as const;

/** The handlers' body schemas, by route (what each handler passes to `readJson`). */
const HANDLER_BODY_SCHEMAS: Record<string, z.ZodType> = {
  "POST /v1/tts": ttsBodySchema,
  "POST /v1/audio/speech": openAiSpeechSchema,
  "POST /admin/customers": customerBodySchema,
  "PUT /admin/plans/{id}": planBodySchema,
  "POST /admin/plans/{id}/prices": priceVersionBodySchema,
  "POST /admin/nodes": nodeBodySchema,
  "POST /v1/jobs": jobBodySchema,
  "POST /v1/keys": keyBodySchema,
};

const JOB_ROUTES = [
  "POST /v1/jobs",
  "GET /v1/jobs",
  "GET /v1/jobs/{id}",
  "GET /v1/jobs/{id}/items/{n}/audio",
  "GET /v1/jobs/{id}/audio",
  "DELETE /v1/jobs/{id}",
];

/**
 * The API routes a Hono app serves, as `METHOD /path/{param}` (middleware, registered as "ALL", left out; so are the
 * consoles' HTML pages, which are not API operations).
 */
function servedRoutes(app: Proxy["app"]): string[] {
  return app.routes
    .filter((r) => (METHODS as readonly string[]).includes(r.method))
    .filter((r) => !/^\/(admin\/)?console(\/|$)|^\/docs\/assets\//.test(r.path))
    .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`);
}

function operations(doc: OpenApiDocument): { key: string; method: HttpMethod; path: string; op: OpenApiOperation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${path}`,
      method: method as HttpMethod,
      path,
      op: op as OpenApiOperation,
    })),
  );
}

function op(doc: OpenApiDocument, key: string): OpenApiOperation {
  const found = operations(doc).find((o) => o.key === key);
  if (!found) throw new Error(`${key} is not documented`);
  return found.op;
}

function deref(doc: OpenApiDocument, schema: JsonSchema | undefined): JsonSchema | undefined {
  const ref = schema?.$ref;
  if (typeof ref !== "string") return schema;
  return doc.components.schemas[ref.replace("#/components/schemas/", "")];
}

describe("GET /openapi.json", () => {
  let proxy: Proxy;
  let doc: OpenApiDocument;
  /** the same proxy without the jobs API */
  let bare: Proxy;

  beforeAll(async () => {
    const config = { ipPolicy: { ratePerSecond: 10_000, burst: 10_000 } };
    proxy = await createInProcessProxy({ config, jobs: true });
    bare = await createInProcessProxy({ config });
    const res = await proxy.request("/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    doc = (await res.json()) as OpenApiDocument;
  });
  afterAll(async () => {
    await proxy.close();
    await bare.close();
  });

  it("is an OpenAPI 3.1 document with info, tags, security schemes and unique operation ids", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.jsonSchemaDialect).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(doc.components.securitySchemes).toEqual({
      apiKeyBearer: expect.objectContaining({ type: "http", scheme: "bearer" }),
      apiKeyHeader: expect.objectContaining({ type: "apiKey", in: "header", name: "x-api-key" }),
      adminToken: expect.objectContaining({ type: "http", scheme: "bearer" }),
    });
    const all = operations(doc);
    expect(new Set(all.map((o) => o.op.operationId)).size).toBe(all.length);
    const tags = new Set(doc.tags.map((t) => t.name));
    for (const { key, op: o } of all) {
      expect(o.summary, key).toBeTruthy();
      expect(
        o.tags.every((t) => tags.has(t)),
        key,
      ).toBe(true);
      expect(
        Object.keys(o.responses).some((s) => s.startsWith("2")),
        key,
      ).toBe(true);
      for (const p of o.parameters ?? []) expect(["path", "query", "header"]).toContain(p.in);
      for (const [status, response] of Object.entries(o.responses)) {
        for (const [name, h] of Object.entries(response.headers ?? {})) {
          const target = doc.components.headers[h.$ref.replace("#/components/headers/", "")];
          expect(target?.description, `${key} ${status} ${name}`).toBeTruthy();
        }
      }
      // every {param} of the path template is a required path parameter
      for (const m of o.parameters ? key.matchAll(/\{([^}]+)\}/g) : []) {
        expect(o.parameters?.find((p) => p.in === "path" && p.name === m[1])?.required, key).toBe(true);
      }
    }
    // the server's document is the one openApiDocument() builds for its config
    expect(doc).toEqual(
      JSON.parse(JSON.stringify(openApiDocument(proxy.deps.config, proxy.deps.jobs?.config ?? false))),
    );
  });

  it("documents exactly the routes registered in the Hono app", () => {
    const registered = servedRoutes(proxy.app);
    // every route under /v1 the app serves is in the document: a route added without its spec fails here
    const documented = new Set(operations(doc).map((o) => o.key));
    const v1 = registered.filter((r) => r.split(" ")[1]?.startsWith("/v1/"));
    expect(v1.length).toBeGreaterThanOrEqual(4 + JOB_ROUTES.length);
    for (const route of v1) expect(documented.has(route), `${route} is served but not documented`).toBe(true);
    expect(registered).toEqual(expect.arrayContaining(JOB_ROUTES));
    // the filter drops middleware (registered with method "ALL"), not routes
    expect(
      proxy.app.routes.filter((r) => !(METHODS as readonly string[]).includes(r.method)).map((r) => r.method),
    ).toEqual(expect.arrayContaining(["ALL"]));
    expect(new Set(registered).size).toBe(registered.length);
    expect(
      operations(doc)
        .map((o) => o.key)
        .sort(),
    ).toEqual([...registered].sort());
    for (const key of [
      "POST /v1/tts",
      "POST /v1/audio/speech",
      "GET /v1/voices",
      "GET /v1/usage",
      "DELETE /admin/nodes/{id}",
      "GET /healthz",
      "GET /metrics",
      "GET /openapi.json",
      "GET /docs",
    ]) {
      expect(registered).toContain(key);
    }
  });

  it("leaves the jobs API out of the document of a proxy that does not serve it", async () => {
    const bareDoc = (await (await bare.request("/openapi.json")).json()) as OpenApiDocument;
    const keys = operations(bareDoc).map((o) => o.key);
    expect(keys.sort()).toEqual(servedRoutes(bare.app).sort());
    for (const route of JOB_ROUTES) expect(keys).not.toContain(route);
    expect(keys.length).toBe(operations(doc).length - JOB_ROUTES.length);
  });

  it("jobs routes: batch-plan gate, the POST's 202 and idempotent 200, quotas, not-ready 409s with Retry-After", () => {
    for (const key of JOB_ROUTES) {
      const o = op(doc, key);
      expect(o.tags, key).toEqual(["Batch jobs"]);
      expect(o.security, key).toEqual([{ apiKeyBearer: [] }, { apiKeyHeader: [] }]);
      expect(o.responses["403"]?.["x-error-codes"], key).toEqual(["CUSTOMER_SUSPENDED", "BATCH_PLAN_REQUIRED"]);
      if (key.includes("{id}")) expect(o.responses["404"]?.["x-error-codes"], key).toContain("NOT_FOUND");
    }
    const post = op(doc, "POST /v1/jobs");
    const jobRef = { "application/json": { schema: { $ref: "#/components/schemas/Job" } } };
    expect(post.responses["202"]?.content).toEqual(jobRef);
    expect(post.responses["200"]?.content).toEqual(jobRef);
    expect(Object.keys(post.responses["202"]?.headers ?? {})).toContain("Location");
    expect(Object.keys(post.responses["200"]?.headers ?? {})).toEqual(
      expect.arrayContaining(["Location", "Idempotent-Replayed"]),
    );
    expect(post.parameters?.find((p) => p.name === "Idempotency-Key")).toMatchObject({ in: "header" });
    expect(post.responses["422"]?.["x-error-codes"]).toEqual(["IDEMPOTENCY_KEY_REUSED"]);
    expect(post.responses["429"]?.["x-error-codes"]).toContain("JOB_QUOTA_EXCEEDED");
    expect(post.responses["400"]?.["x-error-codes"]).toEqual(
      expect.arrayContaining(["EMPTY_TEXT", "TEXT_TOO_LONG", "UNKNOWN_VOICE", "UNKNOWN_EMOTION", "INVALID_REQUEST"]),
    );
    expect(post.description).toContain(String(proxy.deps.jobs?.config.maxBodyBytes));
    const item = op(doc, "GET /v1/jobs/{id}/items/{n}/audio");
    expect(Object.keys(item.responses["200"]?.content ?? {})).toEqual(["audio/wav"]);
    expect(item.responses["409"]?.["x-error-codes"]).toEqual(["ITEM_NOT_READY"]);
    expect(item.responses["409"]?.headers?.["Retry-After"]).toBeDefined();
    expect(item.parameters?.filter((p) => p.in === "path").map((p) => p.name)).toEqual(["id", "n"]);
    const whole = op(doc, "GET /v1/jobs/{id}/audio");
    expect(whole.responses["409"]?.["x-error-codes"]).toEqual(["JOB_NOT_COMPLETE", "JOB_AUDIO_TOO_LARGE"]);
    expect(whole.parameters?.find((p) => p.name === "skip_missing")).toMatchObject({ in: "query", required: false });
    expect(op(doc, "GET /v1/jobs/{id}").parameters?.map((p) => p.name)).toEqual(
      expect.arrayContaining(["id", "from", "limit"]),
    );
  });

  it("request bodies are z.toJSONSchema of the schemas the handlers validate with", () => {
    const withJsonRefBody = operations(doc)
      .filter((o) => typeof o.op.requestBody?.content["application/json"]?.schema.$ref === "string")
      .map((o) => o.key)
      .sort();
    expect(withJsonRefBody).toEqual(Object.keys(HANDLER_BODY_SCHEMAS).sort());
    for (const [key, schema] of Object.entries(HANDLER_BODY_SCHEMAS)) {
      const body = op(doc, key).requestBody;
      expect(body?.required, key).toBe(true);
      const { $schema, ...expected } = z.toJSONSchema(schema, { io: "input" });
      expect($schema).toBe(doc.jsonSchemaDialect);
      expect(deref(doc, body?.content["application/json"]?.schema), key).toEqual(expected);
    }
    // input side: a field with a default is optional for the caller
    expect(deref(doc, op(doc, "POST /v1/tts").requestBody?.content["application/json"]?.schema)?.required).toEqual([
      "text",
    ]);
  });

  it("has the error envelope with every code of PROXY_ERROR_STATUS, and each response's codes have its status", () => {
    const { $schema: _, ...envelope } = z.toJSONSchema(errorEnvelopeSchema);
    expect(doc.components.schemas.Error).toEqual(envelope);
    const envelopeProps = doc.components.schemas.Error?.properties as
      | { error: { properties: { code: JsonSchema } } }
      | undefined;
    const code = envelopeProps?.error.properties.code;
    expect(code?.enum).toEqual(Object.keys(PROXY_ERROR_STATUS));
    for (const { key, op: o } of operations(doc)) {
      expect(o.responses["500"]?.["x-error-codes"], key).toContain("INTERNAL");
      for (const [status, response] of Object.entries(o.responses)) {
        if (status.startsWith("2")) continue;
        const codes = response["x-error-codes"] ?? [];
        expect(codes.length, `${key} ${status}`).toBeGreaterThan(0);
        for (const c of codes) expect(PROXY_ERROR_STATUS[c], `${key} ${status} ${c}`).toBe(Number(status));
        expect(response.headers?.["X-Request-Id"], `${key} ${status}`).toBeDefined();
        const schema = response.content?.["application/json"]?.schema;
        expect(schema?.allOf).toEqual([{ $ref: "#/components/schemas/Error" }]);
      }
    }
  });

  it("customer routes: both API-key schemes, 401/403/413/415/429 with Retry-After and RateLimit headers", () => {
    for (const key of ["POST /v1/tts", "POST /v1/audio/speech", "GET /v1/voices", "GET /v1/usage"]) {
      const o = op(doc, key);
      expect(o.security, key).toEqual([{ apiKeyBearer: [] }, { apiKeyHeader: [] }]);
      expect(o.responses["401"]?.["x-error-codes"]).toEqual(["MISSING_API_KEY", "INVALID_API_KEY"]);
      expect(o.responses["403"]?.["x-error-codes"]).toEqual(["CUSTOMER_SUSPENDED"]);
      const limited = o.responses["429"];
      expect(limited?.["x-error-codes"]).toEqual(["RATE_LIMITED", "TOO_MANY_IN_FLIGHT"]);
      expect(Object.keys(limited?.headers ?? {})).toEqual(
        expect.arrayContaining(["Retry-After", "RateLimit-Policy", "RateLimit"]),
      );
    }
    for (const key of ["POST /v1/tts", "POST /v1/audio/speech"]) {
      const o = op(doc, key);
      for (const status of ["400", "409", "413", "415", "422", "502", "503", "504"]) {
        expect(o.responses[status], `${key} ${status}`).toBeDefined();
      }
      expect(o.responses["503"]?.["x-error-codes"]).toEqual(["LIMITER_UNAVAILABLE", "NO_CAPACITY"]);
      expect(o.responses["503"]?.headers?.["Retry-After"]).toBeDefined();
      expect(o.responses["409"]?.headers?.["Retry-After"]).toBeDefined();
      expect(o.responses["502"]?.headers?.["Retry-After"]).toBeUndefined();
      expect(o.parameters?.find((p) => p.name === "Idempotency-Key")).toMatchObject({ in: "header", required: false });
      const ok = o.responses["200"];
      expect(Object.keys(ok?.content ?? {})).toEqual(
        expect.arrayContaining(["audio/wav", "audio/mpeg", "audio/flac", "audio/pcm", "text/event-stream"]),
      );
      expect(Object.keys(ok?.headers ?? {})).toEqual(
        expect.arrayContaining([
          "X-Request-Id",
          "X-Tokens",
          "X-Amount-Micros",
          "X-Currency",
          "X-Price-Multiplier",
          "X-Peak",
          "X-Audio-Duration-Ms",
        ]),
      );
    }
    expect(op(doc, "POST /v1/audio/speech").responses["400"]?.["x-error-codes"]).toContain("UNSUPPORTED_FORMAT");
  });

  it("admin routes (and /metrics) need the admin token; public routes need nothing", () => {
    for (const { key, op: o } of operations(doc)) {
      if (key.includes(" /admin/") || key === "GET /metrics") {
        expect(o.security, key).toEqual([{ adminToken: [] }]);
        expect(o.responses["401"]?.["x-error-codes"], key).toEqual(["ADMIN_TOKEN_REQUIRED"]);
      } else if (!key.includes(" /v1/")) {
        expect(o.security, key).toEqual([]);
        expect(o.responses["401"], key).toBeUndefined();
      }
    }
  });

  it("real error responses are the documented envelope, with a code the operation documents for that status", async () => {
    const c = await proxy.newCustomer();
    const cases: [key: string, path: string, init: RequestInit][] = [
      ["POST /v1/tts", "/v1/tts", { method: "POST", body: "{}" }],
      ["POST /v1/tts", "/v1/tts", { method: "POST", headers: { authorization: "Bearer tts_live_nope" }, body: "{}" }],
      [
        "POST /v1/tts",
        "/v1/tts",
        { method: "POST", headers: { "x-api-key": c.key, "content-type": "text/plain" }, body: "hi" },
      ],
      [
        "POST /v1/tts",
        "/v1/tts",
        { method: "POST", headers: { "x-api-key": c.key, "content-type": "application/json" }, body: "{oops" },
      ],
      [
        "POST /v1/audio/speech",
        "/v1/audio/speech",
        {
          method: "POST",
          headers: { "x-api-key": c.key, "content-type": "application/json" },
          body: JSON.stringify({ model: "m", input: "hi", voice: "alice", response_format: "vorbis" }),
        },
      ],
      ["GET /v1/usage", "/v1/usage?from=yesterday", { headers: { "x-api-key": c.key } }],
      ["GET /admin/customers", "/admin/customers", {}],
      [
        "GET /admin/customers/{id}",
        "/admin/customers/cus_nope",
        { headers: { authorization: "Bearer test-admin-token-0123456789" } },
      ],
    ];
    const batch = await proxy.newCustomer("batch");
    const asBatch = { "x-api-key": batch.key, "content-type": "application/json" };
    const queued = await proxy.request("/v1/jobs", {
      method: "POST",
      headers: { ...asBatch, "idempotency-key": "doc-job" },
      body: JSON.stringify({ items: [{ text: "one" }, { text: "two" }] }),
    });
    expect(queued.status).toBe(202);
    const jobId = ((await queued.json()) as { id: string }).id;
    const jobPost = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
      method: "POST",
      headers: { ...asBatch, ...headers },
      body: JSON.stringify(body),
    });
    cases.push(
      ["POST /v1/jobs", "/v1/jobs", { ...jobPost({ items: [{ text: "hi" }] }), headers: { "x-api-key": c.key } }],
      ["POST /v1/jobs", "/v1/jobs", jobPost({ items: [] })],
      ["POST /v1/jobs", "/v1/jobs", jobPost({ items: [{ text: "hi", voice: 9 }] })],
      ["POST /v1/jobs", "/v1/jobs", jobPost({ items: [{ text: "other" }] }, { "idempotency-key": "doc-job" })],
      ["GET /v1/jobs", "/v1/jobs?limit=0", { headers: asBatch }],
      ["GET /v1/jobs/{id}", "/v1/jobs/job_nope", { headers: asBatch }],
      ["GET /v1/jobs/{id}", `/v1/jobs/${jobId}?limit=-1`, { headers: asBatch }],
      ["GET /v1/jobs/{id}/items/{n}/audio", `/v1/jobs/${jobId}/items/0/audio`, { headers: asBatch }],
      ["GET /v1/jobs/{id}/items/{n}/audio", `/v1/jobs/${jobId}/items/7/audio`, { headers: asBatch }],
      ["GET /v1/jobs/{id}/audio", `/v1/jobs/${jobId}/audio`, { headers: asBatch }],
      ["GET /v1/jobs/{id}/audio", `/v1/jobs/${jobId}/audio?skip_missing=maybe`, { headers: asBatch }],
      ["DELETE /v1/jobs/{id}", "/v1/jobs/job_nope", { method: "DELETE", headers: asBatch }],
    );
    const seen = new Set<number>();
    for (const [key, path, init] of cases) {
      const res = await proxy.request(path, init);
      const body = errorEnvelopeSchema.parse(await res.json());
      const documented = op(doc, key).responses[String(res.status)]?.["x-error-codes"] ?? [];
      expect(documented, `${key} → ${res.status} ${body.error.code}`).toContain(body.error.code as ProxyErrorCode);
      expect(body.error.request_id).toBe(res.headers.get("x-request-id"));
      if (key.includes("/v1/jobs")) seen.add(res.status);
    }
    // the jobs cases reached 400, 403, 404, 409 and 422
    expect([...seen].sort()).toEqual([400, 403, 404, 409, 422]);
  });

  it("a real /v1/tts answer carries every documented header of its 200 response", async () => {
    const c = await proxy.newCustomer();
    const res = await proxy.request("/v1/tts", {
      method: "POST",
      headers: { "x-api-key": c.key, "content-type": "application/json" },
      body: JSON.stringify({ text: "hello", emotion: "happy" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/wav");
    const documented = Object.keys(op(doc, "POST /v1/tts").responses["200"]?.headers ?? {});
    // only on a replay, and only from a node with random weights (this stub does not say so)
    const conditional = new Set(["Idempotent-Replayed", "X-Model-Random-Weights"]);
    for (const name of documented.filter((h) => !conditional.has(h))) {
      expect(res.headers.get(name), name).not.toBeNull();
    }
    expect(res.headers.get("x-tokens")).toBe("100");
  });

  it("real JSON answers match the documented response schemas", async () => {
    const c = await proxy.newCustomer();
    const get = async (path: string, headers: Record<string, string>) => {
      const res = await proxy.request(path, { headers });
      expect(res.status, path).toBe(200);
      return res.json();
    };
    const asKey = { "x-api-key": c.key };
    RESPONSE_SCHEMAS.Voices.parse(await get("/v1/voices", asKey));
    await proxy.request("/v1/tts", {
      method: "POST",
      headers: { ...asKey, "content-type": "application/json" },
      body: JSON.stringify({ text: "hello" }),
    });
    const usage = RESPONSE_SCHEMAS.CustomerUsage.parse(await get("/v1/usage", asKey));
    expect(usage.totals[0]?.tokens).toBe(100);
    RESPONSE_SCHEMAS.Health.parse(await get("/healthz", {}));

    const customer = await proxy.admin("GET", `/admin/customers/${c.id}`);
    RESPONSE_SCHEMAS.Customer.parse(customer.json.customer);
    z.array(RESPONSE_SCHEMAS.ApiKey).min(1).parse(customer.json.keys);
    z.array(RESPONSE_SCHEMAS.Customer).parse((await proxy.admin("GET", "/admin/customers")).json.customers);
    RESPONSE_SCHEMAS.IssuedKey.parse((await proxy.admin("POST", `/admin/customers/${c.id}/keys`)).json);
    z.array(RESPONSE_SCHEMAS.Plan)
      .min(3)
      .parse((await proxy.admin("GET", "/admin/plans")).json.plans);
    const added = await proxy.admin("POST", "/admin/plans/basic/prices", { unit_price_micros_per_1k_tokens: 30_000 });
    expect(added.status).toBe(201);
    RESPONSE_SCHEMAS.PriceVersion.parse(added.json.version);
    z.array(RESPONSE_SCHEMAS.PriceVersion).parse((await proxy.admin("GET", "/admin/plans/basic/prices")).json.versions);
    const node = await proxy.admin("POST", "/admin/nodes", { url: "http://10.0.0.9:8001", pool: "acme" });
    expect(node.status).toBe(201);
    const nodeId = RESPONSE_SCHEMAS.Node.parse(node.json.node).id;
    z.array(RESPONSE_SCHEMAS.Node).parse((await proxy.admin("GET", "/admin/nodes")).json.nodes);
    expect(
      RESPONSE_SCHEMAS.Node.parse((await proxy.admin("POST", `/admin/nodes/${nodeId}/drain`)).json.node).state,
    ).toBe("draining");
    expect((await proxy.admin("DELETE", `/admin/nodes/${nodeId}`)).json).toEqual({ removed: nodeId });
    z.array(RESPONSE_SCHEMAS.UsageTotals).parse((await proxy.admin("GET", "/admin/usage")).json.totals);
    const all = RESPONSE_SCHEMAS.AdminUsage.parse((await proxy.admin("GET", "/admin/usage?limit=1000")).json);
    expect(all.customers.find((row) => row.customer_id === c.id)?.totals[0]?.tokens).toBe(100);
    const one = RESPONSE_SCHEMAS.AdminUsage.parse((await proxy.admin("GET", `/admin/usage?customer_id=${c.id}`)).json);
    expect(one.customers[0]?.days?.reduce((n, d) => n + d.events, 0)).toBe(1);
    z.array(RESPONSE_SCHEMAS.ApiKey)
      .min(2)
      .parse((await proxy.admin("GET", `/admin/customers/${c.id}/keys`)).json.keys);
  });

  it("real jobs answers match the documented response schemas", async () => {
    const c = await proxy.newCustomer("batch");
    const asKey = { "x-api-key": c.key, "content-type": "application/json" };
    const post = () =>
      proxy.request("/v1/jobs", {
        method: "POST",
        headers: { ...asKey, "idempotency-key": "schema-job" },
        body: JSON.stringify({
          items: [{ text: "one" }, { text: "two", emotion: "happy" }],
          metadata: { book: "b" },
          callback_url: "https://example.com/hook",
        }),
      });
    const created = await post();
    expect(created.status).toBe(202);
    const job = RESPONSE_SCHEMAS.Job.parse(await created.json());
    expect(job.callback_secret).toBeTruthy();
    const replay = await post();
    expect(replay.status).toBe(200);
    expect(RESPONSE_SCHEMAS.Job.parse(await replay.json()).id).toBe(job.id);
    const get = async (path: string, init: RequestInit = {}) => {
      const res = await proxy.request(path, { headers: asKey, ...init });
      expect(res.status, path).toBe(200);
      return res.json();
    };
    const detail = RESPONSE_SCHEMAS.JobDetail.parse(await get(`/v1/jobs/${job.id}`));
    expect(detail.items.map((i) => i.state)).toEqual(["queued", "queued"]);
    expect(RESPONSE_SCHEMAS.JobList.parse(await get("/v1/jobs")).jobs.map((j) => j.id)).toEqual([job.id]);
    const cancelled = RESPONSE_SCHEMAS.JobDeleted.parse(await get(`/v1/jobs/${job.id}`, { method: "DELETE" }));
    expect(cancelled).toMatchObject({ cancelled: true, deleted: false, status: "cancelled" });
    const deleted = RESPONSE_SCHEMAS.JobDeleted.parse(await get(`/v1/jobs/${job.id}`, { method: "DELETE" }));
    expect(deleted).toMatchObject({ id: job.id, cancelled: false, deleted: true });
  });

  it("is public: no key, no admin token, no rate-limit headers", async () => {
    for (const path of ["/openapi.json", "/docs"]) {
      const res = await proxy.request(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("ratelimit-policy")).toBeNull();
      await res.arrayBuffer();
    }
  });
});

describe("GET /docs", () => {
  let proxy: Proxy;
  let html: string;
  let res: Response;

  beforeAll(async () => {
    proxy = await createInProcessProxy({ jobs: true });
    res = await proxy.request("http://127.0.0.1:8080/docs");
    html = await res.text();
  });
  afterAll(async () => {
    await proxy.close();
  });

  it("is Swagger UI from this app's own files, its scripts allowed only by the response's nonce", async () => {
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(html.startsWith("<!doctype html>")).toBe(true);
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1] ?? "";
    expect(nonce.length).toBeGreaterThan(16);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBe(2);
    for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);
    expect(html).toContain('src="/docs/assets/swagger-ui-bundle.js"');
    expect(html).toContain('url: "/openapi.json"');
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1:8080)[a-z]/);
    const again = await proxy.request("/docs");
    expect(again.headers.get("content-security-policy")).not.toBe(csp);
    await again.arrayBuffer();
  });

  it("serves the renderer's two files and nothing else under /docs/assets", async () => {
    const js = await proxy.request("/docs/assets/swagger-ui-bundle.js");
    expect(js.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect((await js.text()).length).toBeGreaterThan(1_000_000);
    const css = await proxy.request("/docs/assets/swagger-ui.css");
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    await css.arrayBuffer();
    for (const name of ["package.json", "..%2Fpackage.json", "swagger-ui-bundle.js.map"]) {
      const other = await proxy.request(`/docs/assets/${name}`);
      expect(other.status, name).toBe(404);
      await other.arrayBuffer();
    }
  });

  it("has copyable examples in curl, JavaScript, Python and the OpenAI SDK, pointed at this server", () => {
    for (const id of ["curl", "js", "python", "openai-py", "openai-js"]) expect(html).toContain(`id="ex-${id}"`);
    expect(html).toContain("curl -s -X POST http://127.0.0.1:8080/v1/tts");
    const text = html.replaceAll("&quot;", '"');
    expect(text).toContain('base_url="http://127.0.0.1:8080/v1"');
    expect(text).toContain('baseURL: "http://127.0.0.1:8080/v1"');
    expect(html).toContain("client.audio.speech");
  });
});
