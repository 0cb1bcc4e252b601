import type { Hono } from "hono";
import type { ProxyDeps, ProxyEnv } from "../deps.ts";
import { renderDocsHtml } from "../docs-html.ts";
import { type OpenApiDocument, openApiDocument } from "../openapi/index.ts";

/** A page that runs nothing and loads nothing from elsewhere: inline CSS only. */
const DOCS_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** GET /openapi.json and GET /docs: public, built once per app from the handlers' schemas. */
export function registerDocsRoutes(app: Hono<ProxyEnv>, deps: ProxyDeps): void {
  let doc: OpenApiDocument | undefined;
  let html: string | undefined;
  const document = () => {
    doc ??= openApiDocument(deps.config, deps.jobs ? deps.jobs.config : false);
    return doc;
  };

  app.get("/openapi.json", (c) => c.json(document()));
  app.get("/docs", (c) => {
    html ??= renderDocsHtml(document());
    return c.html(html, 200, { "content-security-policy": DOCS_CSP, "x-content-type-options": "nosniff" });
  });
}
