import type { Hono } from "hono";
import { ProxyError } from "../../core/errors.ts";
import { DOCS_ASSET_NAMES, type DocsAssetName, type ProxyDeps, type ProxyEnv } from "../deps.ts";
import { DocsPage, docsCsp } from "../docs-ui.tsx";
import { type OpenApiDocument, openApiDocument } from "../openapi/index.ts";

/**
 * GET /openapi.json (built once per app from the handlers' schemas) and GET /docs, the interactive reference over it
 * (../docs-ui.tsx): public.
 */
export function registerDocsRoutes(app: Hono<ProxyEnv>, deps: ProxyDeps): void {
  let doc: OpenApiDocument | undefined;
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
      if (body === null) throw new ProxyError("NOT_FOUND", `no docs asset ${name}`);
      return c.body(body, 200, {
        "content-type": name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8",
        "cache-control": "public, max-age=86400",
        "x-content-type-options": "nosniff",
      });
    });
    return;
  }
  // Without the renderer's files (a deployment that did not install them): the document itself.
  app.get("/docs", (c) => c.redirect("/openapi.json", 302));
}
