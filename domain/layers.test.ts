import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The rooms stand on each other in one direction: migrations/schema → domain → storage → billing → proxy. This reads
 * every relative import of production code (tests, test helpers and benchmarks may assemble a whole world) and
 * refuses one that points up or sideways: billing must never import proxy, the ground floor nothing above it.
 */
const ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");

const isProduction = (rel: string) => !/(\.test\.ts$|(^|\/)testing\/|(^|\/)bench\/)/.test(rel);

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(join(dir, e.name))
      : e.name.endsWith(".ts") && isProduction(join(dir, e.name))
        ? [join(dir, e.name)]
        : [],
  );
}

const importsOf = (source: string): string[] =>
  [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\("([^"]+)"\)/g)].map(
    (m) => m[1] ?? m[2] ?? "",
  );

/** Repository-relative targets of a file's relative imports. */
const targetsOf = (file: string): string[] =>
  importsOf(readFileSync(join(ROOT, file), "utf8"))
    .filter((spec) => spec.startsWith("."))
    .map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec)));

const RULES: { room: string; mayImport: RegExp }[] = [
  { room: "domain", mayImport: /^(domain|migrations\/schema)\// },
  { room: "storage", mayImport: /^(domain|storage|migrations)\// },
  { room: "billing", mayImport: /^(domain|storage|billing|migrations)\// },
];

describe("layers", () => {
  for (const { room, mayImport } of RULES)
    it(`${room} imports nothing above it`, () => {
      const sources = files(room);
      expect(sources.length).toBeGreaterThan(1);
      const offenders = sources.flatMap((f) =>
        targetsOf(f)
          .filter((t) => !mayImport.test(t))
          .map((t) => `${f} → ${t}`),
      );
      expect(offenders).toEqual([]);
    });

  it("the check itself sees billing importing proxy", () => {
    const spec = importsOf('import type { Stores } from "../../proxy/src/store/ports.ts";')[0] ?? "";
    expect(relative(ROOT, resolve(ROOT, "billing/src", spec))).toMatch(/^proxy\//);
    expect(RULES.find((r) => r.room === "billing")?.mayImport.test("proxy/src/store/ports.ts")).toBe(false);
  });
});
