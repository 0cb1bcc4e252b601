import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * One app, two runtimes: everything but the Node adapters, the Node entry and test helpers must load in workerd.
 * This reads every import of proxy/src and refuses Node-only modules outside those places.
 */
const ROOT = fileURLToPath(new URL(".", import.meta.url));
const NODE_ONLY =
  /^(node:|better-sqlite3$|undici$|@hono\/node-server|prom-client$|drizzle-orm\/better-sqlite3|ioredis$)/;
const NODE_PLACES = [
  /^adapters\/node\//,
  /^adapters\/sqlite\//,
  /^adapters\/redis\//,
  /^entry\.node\.ts$/,
  /(^|\/)testing\//,
  /\.test\.ts$/,
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

const importsOf = (source: string): string[] =>
  [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\("([^"]+)"\)/g)].map(
    (m) => m[1] ?? m[2] ?? "",
  );

describe("runtime-neutral core", () => {
  it("imports no Node-only module outside adapters/node, adapters/sqlite, adapters/redis, entry.node.ts and test helpers", () => {
    const offenders: string[] = [];
    let checked = 0;
    for (const file of files(ROOT)) {
      const rel = relative(ROOT, file);
      if (NODE_PLACES.some((p) => p.test(rel))) continue;
      checked++;
      for (const spec of importsOf(readFileSync(file, "utf8")))
        if (NODE_ONLY.test(spec)) offenders.push(`${rel}: ${spec}`);
    }
    expect(checked).toBeGreaterThan(40);
    expect(offenders).toEqual([]);
  });

  it("the check itself sees a Node import", () => {
    expect(
      importsOf('import { createHash } from "node:crypto";\nexport { x } from "undici";').filter((s) =>
        NODE_ONLY.test(s),
      ),
    ).toEqual(["node:crypto", "undici"]);
  });
});
