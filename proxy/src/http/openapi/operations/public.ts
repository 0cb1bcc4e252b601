import { ref } from "../components.ts";
import { type DocumentLimits, json, type OperationSpec } from "../spec.ts";

/** Health, metrics and this reference: no API key, no rate limit (metrics need the metrics or admin token). */
export function publicOperations(_limits: DocumentLimits): OperationSpec[] {
  return [
    {
      method: "get",
      path: "/healthz",
      operationId: "health",
      tag: "Operations",
      summary: "Liveness and routable nodes",
      access: "public",
      ok: { status: 200, description: "The proxy is up.", content: json(ref("Health")) },
    },
    {
      method: "get",
      path: "/metrics",
      operationId: "metrics",
      tag: "Operations",
      summary: "Prometheus metrics",
      description:
        "Requests, 429s by scope, metered tokens and amounts, every node's breaker state and load, and the batch " +
        "queue: jobs by status (`proxy_jobs`), items by state (`proxy_job_items`: queued, running, done, failed, " +
        "dead_lettered, cancelled), items processed by outcome, retried, and charged (items and tokens). Needs " +
        "`Authorization: Bearer` with the METRICS_TOKEN (for Prometheus) or the ADMIN_TOKEN: it shows revenue.",
      access: "admin",
      ok: {
        status: 200,
        description: "Prometheus text exposition format.",
        content: { "text/plain": { schema: { type: "string" } } },
      },
    },
    {
      method: "get",
      path: "/openapi.json",
      operationId: "openApiDocument",
      tag: "Documentation",
      summary: "This OpenAPI 3.1 document",
      access: "public",
      ok: {
        status: 200,
        description: "The document.",
        content: json({ type: "object", description: "an OpenAPI 3.1 document" }),
      },
    },
    {
      method: "get",
      path: "/docs",
      operationId: "apiReference",
      tag: "Documentation",
      summary: "The interactive API reference",
      access: "public",
      ok: {
        status: 200,
        description:
          "Swagger UI over this document (its files served by this app, never a CDN), with Try it out and " +
          "copyable examples in curl, JavaScript, Python and the OpenAI SDK.",
        content: { "text/html": { schema: { type: "string" } } },
      },
    },
  ];
}
