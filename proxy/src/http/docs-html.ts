import { PROXY_ERROR_STATUS } from "../core/errors.ts";
import type { HttpMethod, JsonSchema, OpenApiDocument, OpenApiOperation, OpenApiResponse } from "./openapi/index.ts";

/**
 * The API reference as one self-contained HTML page, rendered on the server from the OpenAPI document: no script,
 * no stylesheet or font from elsewhere. Every string from the document is escaped.
 */

const METHODS: readonly HttpMethod[] = ["get", "post", "put", "delete"];

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Escaped text, with `code` spans of the document's descriptions rendered as <code>. */
function prose(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

/** Replaces `#/components/schemas/…` references by the schemas (for display), up to a depth. */
function resolve(schema: unknown, doc: OpenApiDocument, depth = 0): unknown {
  if (Array.isArray(schema)) return schema.map((s) => resolve(s, doc, depth));
  if (schema === null || typeof schema !== "object") return schema;
  const ref = (schema as JsonSchema).$ref;
  if (typeof ref === "string" && ref.startsWith("#/components/schemas/") && depth < 8) {
    const target = doc.components.schemas[ref.slice("#/components/schemas/".length)];
    if (target) return resolve(target, doc, depth + 1);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolve(v, doc, depth)]));
}

const pretty = (value: unknown): string => `<pre><code>${escapeHtml(JSON.stringify(value, null, 2))}</code></pre>`;

const anchor = (operationId: string): string => `op-${operationId.replace(/[^A-Za-z0-9_-]/g, "_")}`;

function schemaSummary(schema: JsonSchema): string {
  const type = schema.type ?? (schema.anyOf ? "anyOf" : schema.enum ? "enum" : "");
  const bits = [Array.isArray(type) ? type.join(" | ") : String(type)];
  if (schema.pattern !== undefined) bits.push(`pattern ${String(schema.pattern)}`);
  if (schema.default !== undefined) bits.push(`default ${JSON.stringify(schema.default)}`);
  return escapeHtml(bits.filter(Boolean).join(", "));
}

function renderResponse(status: string, response: OpenApiResponse, doc: OpenApiDocument): string {
  const headers = Object.entries(response.headers ?? {});
  const errorCodes = response["x-error-codes"];
  const parts = [
    `<div class="response"><h5><span class="status s${escapeHtml(status.charAt(0))}">${escapeHtml(status)}</span> ${prose(response.description)}</h5>`,
  ];
  if (headers.length > 0) {
    parts.push(
      "<table><thead><tr><th>Header</th><th>Type</th><th>Description</th></tr></thead><tbody>",
      ...headers.map(([name, r]) => {
        const h = doc.components.headers[r.$ref.slice(r.$ref.lastIndexOf("/") + 1)];
        return `<tr><td><code>${escapeHtml(name)}</code></td><td>${h ? schemaSummary(h.schema) : ""}</td><td>${prose(h?.description ?? "")}</td></tr>`;
      }),
      "</tbody></table>",
    );
  }
  for (const [type, media] of Object.entries(response.content ?? {})) {
    if (errorCodes) {
      parts.push(
        `<p><code>${escapeHtml(type)}</code>: the <a href="#errors">error envelope</a> with <code>code</code> ` +
          `${errorCodes.map((c) => `<code>${escapeHtml(c)}</code>`).join(", ")}.</p>`,
      );
    } else {
      parts.push(`<p><code>${escapeHtml(type)}</code></p>`, pretty(resolve(media.schema, doc)));
    }
  }
  parts.push("</div>");
  return parts.join("\n");
}

function renderOperation(method: HttpMethod, path: string, op: OpenApiOperation, doc: OpenApiDocument): string {
  const parts = [
    `<section class="operation" id="${anchor(op.operationId)}">`,
    `<h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>`,
    `<p class="summary">${prose(op.summary)}</p>`,
  ];
  if (op.description) parts.push(`<p>${prose(op.description)}</p>`);
  const security =
    op.security.length === 0
      ? "none (public)"
      : op.security
          .map((requirement) =>
            Object.keys(requirement)
              .map((name) => `<a href="#auth-${escapeHtml(name)}"><code>${escapeHtml(name)}</code></a>`)
              .join(" + "),
          )
          .join(" or ");
  parts.push(`<p><strong>Authentication:</strong> ${security}</p>`);
  const params = op.parameters ?? [];
  if (params.length > 0) {
    parts.push(
      "<h4>Parameters</h4>",
      "<table><thead><tr><th>Name</th><th>In</th><th>Required</th><th>Type</th><th>Description</th></tr></thead><tbody>",
      ...params.map(
        (p) =>
          `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td><td>${p.required ? "yes" : "no"}</td>` +
          `<td>${schemaSummary(p.schema)}</td><td>${prose(p.description ?? "")}</td></tr>`,
      ),
      "</tbody></table>",
    );
  }
  if (op.requestBody) {
    parts.push(`<h4>Request body${op.requestBody.required ? "" : " (optional)"}</h4>`);
    if (op.requestBody.description) parts.push(`<p>${prose(op.requestBody.description)}</p>`);
    for (const [type, media] of Object.entries(op.requestBody.content)) {
      parts.push(`<p><code>${escapeHtml(type)}</code></p>`, pretty(resolve(media.schema, doc)));
    }
  }
  parts.push("<h4>Responses</h4>");
  for (const [status, response] of Object.entries(op.responses)) parts.push(renderResponse(status, response, doc));
  parts.push("</section>");
  return parts.join("\n");
}

const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#fff}
main{max-width:980px;margin:0 auto;padding:1.5rem}
nav ul{columns:2;padding-left:1.2rem}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f5f6f8;border:1px solid #e1e4e8;border-radius:6px;padding:.75rem;overflow:auto}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #e1e4e8;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f5f6f8}
.operation{border-top:2px solid #e1e4e8;margin-top:2rem;padding-top:.5rem}
.method{display:inline-block;min-width:4.2rem;text-align:center;border-radius:4px;color:#fff;padding:0 .4rem}
.get{background:#2f7d32}.post{background:#1f5fbf}.put{background:#a36200}.delete{background:#b3261e}
.status{display:inline-block;border-radius:4px;padding:0 .4rem;color:#fff;background:#555}
.s2{background:#2f7d32}.s4{background:#a36200}.s5{background:#b3261e}
.response{margin-left:1rem}
`;

export function renderDocsHtml(doc: OpenApiDocument): string {
  const operations: { method: HttpMethod; path: string; op: OpenApiOperation }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) operations.push({ method, path, op });
    }
  }
  const byTag = new Map<string, typeof operations>();
  for (const tag of doc.tags) byTag.set(tag.name, []);
  for (const o of operations) {
    const tag = o.op.tags[0] ?? "Other";
    byTag.set(tag, [...(byTag.get(tag) ?? []), o]);
  }
  const tagDescription = new Map(doc.tags.map((t) => [t.name, t.description]));

  const toc = [...byTag]
    .filter(([, ops]) => ops.length > 0)
    .map(
      ([tag, ops]) =>
        `<li>${escapeHtml(tag)}<ul>${ops
          .map(
            (o) =>
              `<li><a href="#${anchor(o.op.operationId)}">${o.method.toUpperCase()} <code>${escapeHtml(o.path)}</code></a></li>`,
          )
          .join("")}</ul></li>`,
    )
    .join("\n");

  const auth = Object.entries(doc.components.securitySchemes)
    .map(
      ([name, s]) =>
        `<li id="auth-${escapeHtml(name)}"><code>${escapeHtml(name)}</code>: ${escapeHtml(
          s.type === "apiKey" ? `API key in ${s.in ?? "header"} "${s.name ?? ""}"` : `HTTP ${s.scheme ?? ""}`,
        )}. ${prose(s.description ?? "")}</li>`,
    )
    .join("\n");

  const errorRows = Object.entries(PROXY_ERROR_STATUS)
    .map(([code, status]) => `<tr><td><code>${escapeHtml(code)}</code></td><td>${status}</td></tr>`)
    .join("\n");

  const sections = [...byTag]
    .filter(([, ops]) => ops.length > 0)
    .map(
      ([tag, ops]) =>
        `<h2>${escapeHtml(tag)}</h2>\n<p>${prose(tagDescription.get(tag) ?? "")}</p>\n` +
        ops.map((o) => renderOperation(o.method, o.path, o.op, doc)).join("\n"),
    )
    .join("\n");

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.info.title)} — API reference</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(doc.info.title)} <small>${escapeHtml(doc.info.version)}</small></h1>
<p>${prose(doc.info.description)}</p>
<p>OpenAPI ${escapeHtml(doc.openapi)} document: <a href="/openapi.json"><code>/openapi.json</code></a></p>
<nav><h2>Operations</h2><ul>
${toc}
</ul></nav>
<h2 id="auth">Authentication</h2>
<ul>
${auth}
</ul>
<h2 id="errors">Errors</h2>
<p>Every failure is JSON: <code>{"error":{"code","message","request_id"}}</code>, with <code>details</code> for some
(e.g. the schema issues of an invalid body), and the request id in <code>X-Request-Id</code>.</p>
${pretty(resolve(doc.components.schemas.Error, doc))}
<table><thead><tr><th>Code</th><th>Status</th></tr></thead><tbody>
${errorRows}
</tbody></table>
${sections}
</main>
</body>
</html>
`;
}
