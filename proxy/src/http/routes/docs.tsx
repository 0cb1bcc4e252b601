import type { Hono } from "hono";
import { DOCS_ASSET_NAMES, type DocsAssetName, type ProxyDeps, type ProxyEnv } from "../deps.ts";
import { renderDocsHtml } from "../docs-html.ts";
import { DocsPage, docsCsp } from "../docs-ui.tsx";
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
  const assets = deps.docsAssets;
  if (assets) {
    // The interactive reference (Swagger UI, from this app's own files).
    app.get("/docs", (c) => {
      const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      const origin = new URL(c.req.url).origin;
      return c.html(<DocsPage nonce={nonce} origin={origin} />, 200, {
        "content-security-policy": docsCsp(nonce),
        "x-content-type-options": "nosniff",
      });
    });
    app.get("/docs/assets/:name", async (c) => {
      const name = c.req.param("name");
      const body = (DOCS_ASSET_NAMES as readonly string[]).includes(name)
        ? await assets.get(name as DocsAssetName)
        : null;
      if (body === null) return c.text("not found", 404);
      return c.body(body, 200, {
        "content-type": name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8",
        "cache-control": "public, max-age=86400",
        "x-content-type-options": "nosniff",
      });
    });
    return;
  }
  // Without the renderer's files (the Worker today): the static, script-free page.
  app.get("/docs", (c) => {
    html ??= renderDocsHtml(document());
    return c.html(html, 200, { "content-security-policy": DOCS_CSP, "x-content-type-options": "nosniff" });
  });
}
