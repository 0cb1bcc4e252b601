#!/usr/bin/env node
// Bundles one service's Node entry into OUT/<name>.mjs with esbuild and copies, from the installed node_modules, only
// the packages the bundle cannot hold (native addons and what they require), pruned to this platform's binaries.
// Called by build-proxy.sh / build-gpu-node.sh (and so by the Dockerfiles and deploy/test/images.test.ts).
// Why a bundle: the image then carries one JS file plus two native packages instead of the dev toolchain (tsx,
// TypeScript, vitest, wrangler…), which keeps it small and starts it with plain `node`.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const { values } = parseArgs({
  options: {
    entry: { type: "string" },
    name: { type: "string" },
    out: { type: "string" },
    external: { type: "string", multiple: true, default: [] },
    root: { type: "string", default: process.cwd() },
  },
});
if (!values.entry || !values.name || !values.out) {
  console.error("usage: bundle.mjs --entry FILE --name NAME --out DIR [--external PKG]... [--root REPO]");
  process.exit(2);
}
const root = resolve(values.root);
const out = resolve(values.out);
mkdirSync(out, { recursive: true });

// The proxy finds migrations/sql relative to its source file (four folders up); in the bundle they sit beside it.
// The rewrite must hit exactly once, so a moved constant fails the build instead of shipping a proxy without schema.
const MIGRATIONS_FROM = 'new URL("../../../../migrations/sql", import.meta.url)';
let migrationRewrites = 0;
const migrationsBesideBundle = {
  name: "migrations-beside-bundle",
  setup(b) {
    b.onLoad({ filter: /adapters[\\/]sqlite[\\/]open\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(MIGRATIONS_FROM)) throw new Error(`${args.path}: ${MIGRATIONS_FROM} not found`);
      migrationRewrites++;
      return {
        contents: source.replace(MIGRATIONS_FROM, 'new URL("./migrations/sql", import.meta.url)'),
        loader: "ts",
      };
    });
  },
};

await build({
  entryPoints: [join(root, values.entry)],
  outfile: join(out, `${values.name}.mjs`),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: values.external,
  plugins: [migrationsBesideBundle],
  // CommonJS dependencies in an ESM bundle still call require() for Node built-ins
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  legalComments: "none",
  logLevel: "warning",
});
if (existsSync(join(root, "proxy", "src", "adapters", "sqlite", "open.ts")) && values.name === "proxy") {
  if (migrationRewrites !== 1) throw new Error(`expected one migrations path rewrite, made ${migrationRewrites}`);
  cpSync(join(root, "migrations", "sql"), join(out, "migrations", "sql"), { recursive: true });
}

// The closure of the external packages' runtime dependencies, copied as installed (lock-pinned versions).
const seen = new Set();
const queue = [...values.external];
while (queue.length > 0) {
  const name = queue.shift();
  if (seen.has(name)) continue;
  seen.add(name);
  const dir = join(root, "node_modules", name);
  if (!existsSync(dir)) throw new Error(`${name} is not installed in ${root}/node_modules (run npm ci first)`);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  // prebuild-install only fetches better-sqlite3's addon at install time; the addon is already built
  queue.push(...Object.keys(pkg.dependencies ?? {}).filter((d) => d !== "prebuild-install"));
  cpSync(dir, join(out, "node_modules", name), { recursive: true, dereference: true });
}
// onnxruntime-node ships every platform's binaries (~290 MB); keep this platform's only.
const ortBin = join(out, "node_modules", "onnxruntime-node", "bin");
if (existsSync(ortBin)) {
  for (const napi of readdirSync(ortBin)) {
    for (const platform of readdirSync(join(ortBin, napi))) {
      if (platform !== process.platform) rmSync(join(ortBin, napi, platform), { recursive: true });
      else
        for (const arch of readdirSync(join(ortBin, napi, platform)))
          if (arch !== process.arch) rmSync(join(ortBin, napi, platform, arch), { recursive: true });
    }
  }
}
// better-sqlite3's sources and build intermediates are not needed once the addon is built
for (const junk of ["deps", "src", join("build", "Release", "obj"), join("build", "Release", "obj.target")]) {
  rmSync(join(out, "node_modules", "better-sqlite3", junk), { recursive: true, force: true });
}
writeFileSync(join(out, "package.json"), `${JSON.stringify({ private: true, type: "module" })}\n`);
console.log(`${values.name}: ${join(out, `${values.name}.mjs`)} + node_modules/{${[...seen].join(",")}}`);
