#!/usr/bin/env node
// Bundles one service's Node entry into OUT/<name>.mjs with esbuild and copies, from the installed node_modules, only
// the packages the bundle cannot hold (native addons and what they require), pruned to this platform's binaries.
// Called by build-proxy.sh / build-gpu-node.sh (and so by the Dockerfiles and deploy/test/images.test.ts).
// Why a bundle: the image then carries one JS file plus two native packages instead of the dev toolchain (tsx,
// TypeScript, vitest, wrangler…), which keeps it small and starts it with plain `node`.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const { values } = parseArgs({
  options: {
    entry: { type: "string" },
    name: { type: "string" },
    out: { type: "string" },
    external: { type: "string", multiple: true, default: [] },
    copy: { type: "string", multiple: true, default: [] },
    root: { type: "string", default: process.cwd() },
  },
});
if (!values.entry || !values.name || !values.out) {
  console.error(
    "usage: bundle.mjs --entry FILE --name NAME --out DIR [--external PKG]... [--copy PKG:FILE,...]... [--root REPO]",
  );
  process.exit(2);
}
const root = resolve(values.root);
const out = resolve(values.out);
mkdirSync(out, { recursive: true });

// Source files find files of the repository (migrations/sql, migrations/pg/sql, a worker's module) through
// `new URL("<relative path>", import.meta.url)`. In a bundle every module's import.meta.url is the bundle's, so each such
// reference is rewritten: a folder or data file is copied under OUT/assets/<its repository path> and the URL points
// there; a module (.mjs/.js/.ts) is bundled as a second entry OUT/<name>.mjs (from <name>.ts when the .mjs is only the
// tsx shim beside it) and the URL points to it. Found generically, so a moved file or a new folder needs no edit here;
// a reference to a path that does not exist fails the build instead of shipping a bundle that fails at run time.
const URL_REF = /new URL\(\s*(["'])(\.\.?\/[^"']+)\1\s*,\s*import\.meta\.url\s*\)/g;
const MODULE_EXT = /\.(mjs|js|ts)$/;
const assets = new Map(); // repository path -> copied
const workers = new Map(); // output name -> source file
const assetsBesideBundle = {
  name: "assets-beside-bundle",
  setup(b) {
    b.onLoad({ filter: /\.(ts|tsx|mts)$/ }, (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const source = readFileSync(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const contents = source.replace(URL_REF, (_all, quote, rel) => {
        const target = resolve(dirname(args.path), rel);
        if (MODULE_EXT.test(target)) {
          const ts = target.replace(MODULE_EXT, ".ts");
          const entry = target.endsWith(".mjs") && existsSync(ts) ? ts : target;
          if (!existsSync(entry)) throw new Error(`${args.path}: ${rel} does not exist`);
          const name = basename(target).replace(MODULE_EXT, "");
          if (workers.has(name) && workers.get(name) !== entry) throw new Error(`two worker entries named ${name}`);
          workers.set(name, entry);
          return `new URL(${quote}./${name}.mjs${quote}, import.meta.url)`;
        }
        if (!existsSync(target)) throw new Error(`${args.path}: ${rel} does not exist`);
        const repoPath = relative(root, target);
        if (repoPath.startsWith("..")) throw new Error(`${args.path}: ${rel} is outside the repository`);
        assets.set(repoPath, target);
        return `new URL(${quote}./assets/${repoPath.split(sep).join("/")}${quote}, import.meta.url)`;
      });
      return { contents, loader: args.path.endsWith("x") ? "tsx" : "ts" };
    });
  },
};

const buildOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: values.external,
  plugins: [assetsBesideBundle],
  // CommonJS dependencies in an ESM bundle still call require() for Node built-ins and read __dirname (ioredis passes it
  // to its error-stack trimming on every failed command): both defined as a CommonJS module beside the bundle has them
  banner: {
    js: [
      "import { createRequire as __cr } from 'node:module';",
      "import { dirname as __dn } from 'node:path';",
      "import { fileURLToPath as __fu } from 'node:url';",
      "const require = __cr(import.meta.url);",
      "const __filename = __fu(import.meta.url);",
      "const __dirname = __dn(__filename);",
    ].join(" "),
  },
  legalComments: "none",
  logLevel: "warning",
};
await build({ ...buildOptions, entryPoints: [join(root, values.entry)], outfile: join(out, `${values.name}.mjs`) });
// workers found in the main bundle (and, transitively, in the workers themselves)
const built = new Set();
for (;;) {
  const pending = [...workers.keys()].filter((n) => !built.has(n));
  if (pending.length === 0) break;
  for (const name of pending) {
    built.add(name);
    if (name === values.name) throw new Error(`a worker entry is named like the bundle: ${name}`);
    await build({ ...buildOptions, entryPoints: [workers.get(name)], outfile: join(out, `${name}.mjs`) });
  }
}
for (const [repoPath, target] of assets) cpSync(target, join(out, "assets", repoPath), { recursive: true });

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
// Packages the code resolves at run time instead of importing (createRequire(...).resolve/require of a file that
// loads its own .mem/.wasm/.css beside it): only the listed files (and package.json, for resolution) are copied.
for (const spec of values.copy) {
  const [name, list] = spec.split(":");
  if (!name || !list) throw new Error(`--copy ${spec}: expected PKG:FILE[,FILE...]`);
  for (const file of ["package.json", ...list.split(",")]) {
    const from = join(root, "node_modules", name, file);
    if (!existsSync(from)) throw new Error(`--copy ${spec}: ${from} does not exist`);
    cpSync(from, join(out, "node_modules", name, file), { recursive: true, dereference: true });
  }
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
