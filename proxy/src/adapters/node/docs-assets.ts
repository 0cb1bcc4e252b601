import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { DocsAssetName, DocsAssets } from "../../http/deps.ts";

/** Swagger UI's files from the installed swagger-ui-dist package, read once each. */
export function nodeDocsAssets(): DocsAssets {
  const dir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const cache = new Map<DocsAssetName, Promise<string | null>>();
  return {
    get(name) {
      let file = cache.get(name);
      if (!file) {
        file = readFile(join(dir, name), "utf8").catch(() => null);
        cache.set(name, file);
      }
      return file;
    },
  };
}
