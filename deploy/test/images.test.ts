import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, type Started, startUntil } from "./processes.ts";

/**
 * The images' contents, tested without a Docker engine: the Dockerfiles' build stage is `npm ci` + COPY of the build
 * context + deploy/docker/build-*.sh; this test does the same in a fresh directory (the context as .dockerignore
 * leaves it, node_modules as npm ci left it) and starts what the scripts produced with plain `node`, as the images'
 * CMD does, with the committed tiny model "mounted" from the repository (random weights: the audio is noise).
 */
const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TINY_MODEL = join(REPO, "gpu-node", "models", "tiny");
const ADMIN_TOKEN = "adm_images_test_0123456789abcdef";

function du(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, f) => sum + du(join(path, f)), 0);
}

function files(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((f) => files(join(path, f)));
}

describe("images: what deploy/docker/build-*.sh produce, started as the images start it", () => {
  let work: string;
  const started: Started[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "images-"));
    const context = join(work, "context");
    mkdirSync(context);
    const listed = await run("git", ["ls-files", "-co", "--exclude-standard"], { cwd: REPO });
    const ignore = readFileSync(join(REPO, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    const prefixes = ignore.filter((l) => !l.includes("*"));
    const suffixes = ignore.filter((l) => l.startsWith("**/*")).map((l) => l.slice(4));
    for (const f of listed.output.split("\n")) {
      if (!f || !existsSync(join(REPO, f))) continue;
      if (prefixes.some((p) => f === p || f.startsWith(`${p}/`)) || suffixes.some((s) => f.endsWith(s))) continue;
      mkdirSync(dirname(join(context, f)), { recursive: true });
      cpSync(join(REPO, f), join(context, f));
    }
    // the build stage's `npm ci`
    symlinkSync(join(REPO, "node_modules"), join(context, "node_modules"));
    for (const [script, out] of [
      ["build-proxy.sh", "proxy"],
      ["build-gpu-node.sh", "gpu-node"],
    ] as const) {
      const r = await run("bash", [join("deploy", "docker", script), join(work, out)], { cwd: context });
      if (r.code !== 0) throw new Error(`${script} failed:\n${r.output}`);
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of started.reverse()) await s.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("the Dockerfiles build through these scripts, run as a non-root user, check health and mount the model", () => {
    for (const [file, script] of [
      ["proxy.Dockerfile", "build-proxy.sh /out"],
      ["gpu-node.Dockerfile", "build-gpu-node.sh /out"],
      ["gpu-node.cuda.Dockerfile", "build-gpu-node.sh /out --cuda"],
    ]) {
      const text = readFileSync(join(REPO, "deploy", "docker", file as string), "utf8");
      expect(text, file).toContain(`RUN bash deploy/docker/${script}`);
      expect(text, file).toMatch(/^USER node$/m);
      expect(text, file).toMatch(/^HEALTHCHECK .*healthcheck\.mjs/m);
      expect(text.match(/^FROM /gm)?.length, `${file} is multi-stage`).toBe(2);
      expect(text, file).not.toMatch(/COPY[^\n]*models/);
    }
    expect(readFileSync(join(REPO, "deploy", "docker", "gpu-node.cuda.Dockerfile"), "utf8")).toMatch(
      /nvidia\/cuda:12\.[0-9.]+-cudnn-runtime/,
    );
  });

  it("holds one bundle and only the native packages it needs, no model and no dev toolchain", () => {
    // better-sqlite3 (native addon), opusscript (loads its .wasm beside its own file); swagger-ui-dist, libflacjs and
    // wasm-media-encoders are resolved at run time, not imported, and carry only the files read (the /docs assets;
    // libFLAC's asm.js and its .mem file; LAME's mp3.wasm)
    expect(readdirSync(join(work, "proxy", "node_modules")).sort()).toEqual(
      [
        "better-sqlite3",
        "bindings",
        "file-uri-to-path",
        "libflacjs",
        "opusscript",
        "swagger-ui-dist",
        "wasm-media-encoders",
      ].sort(),
    );
    expect(readdirSync(join(work, "proxy", "node_modules", "wasm-media-encoders", "wasm"))).toEqual(["mp3.wasm"]);
    expect(readdirSync(join(work, "proxy", "node_modules", "swagger-ui-dist")).sort()).toEqual(
      ["package.json", "swagger-ui-bundle.js", "swagger-ui.css"].sort(),
    );
    expect(readdirSync(join(work, "gpu-node", "node_modules"))).toContain("onnxruntime-node");
    for (const out of ["proxy", "gpu-node"]) {
      const all = files(join(work, out));
      expect(
        all.filter((f) => f.endsWith(".onnx")),
        `${out} bakes no model in`,
      ).toEqual([]);
      expect(all.some((f) => /node_modules\/(typescript|vitest|tsx|wrangler)\//.test(f))).toBe(false);
    }
    // the folders the code finds through new URL(…, import.meta.url), copied under assets/ at their repository paths
    expect(existsSync(join(work, "proxy", "assets", "migrations", "sql"))).toBe(true);
    // Postgres (DATABASE_URL): storage/pg/open.ts finds migrations/pg/sql the same way, so they ship once it is merged
    if (existsSync(join(REPO, "storage", "pg", "open.ts"))) {
      expect(existsSync(join(work, "proxy", "assets", "migrations", "pg", "sql", "0000_init.sql"))).toBe(true);
    }
    // the engine's worker thread is a second bundle beside the node's (no tsx in the image)
    expect(existsSync(join(work, "gpu-node", "engine-worker.mjs"))).toBe(true);
    // small: the runtime trees, before the base image (≈ 19 MB and ≈ 50 MB today). The proxy's grew from ≈ 9 MB with
    // the audio room (its WASM inlined in proxy.mjs: libsamplerate-js ≈ 2.1 MB, the AAC encoder ≈ 1 MB, mediabunny
    // ≈ 0.9 MB; opusscript ≈ 1 MB beside it) and Swagger UI's files for /docs (≈ 1.9 MB): 25 MB leaves room for a
    // dependency, not for a dev toolchain (typescript alone is ≈ 23 MB) or a copied package tree.
    expect(du(join(work, "proxy"))).toBeLessThan(25e6);
    expect(du(join(work, "gpu-node"))).toBeLessThan(80e6);
  });

  it("starts both, answers health checks, serves a metered request through the proxy and stops on SIGTERM", async () => {
    const cwd = join(work, "run");
    mkdirSync(cwd);
    const base = { PATH: process.env.PATH, HOME: cwd, NODE_ENV: "production" };
    const node = await startUntil("node", [join(work, "gpu-node", "gpu-node.mjs")], {
      cwd,
      env: {
        ...base,
        GPU_NODE_HOST: "127.0.0.1",
        GPU_NODE_PORT: "0",
        GPU_NODE_MODEL: TINY_MODEL,
        GPU_NODE_INTRA_OP_THREADS: "1",
      },
      ready: /gpu-node listening on http:\/\/127\.0\.0\.1:(\d+)/,
    });
    started.push(node);
    const nodePort = node.match[1] as string;
    const proxy = await startUntil("node", [join(work, "proxy", "proxy.mjs")], {
      cwd,
      env: {
        ...base,
        HOST: "127.0.0.1",
        PORT: "0",
        DATA_DIR: join(cwd, "data"),
        ADMIN_TOKEN,
        GPU_NODES: `http://127.0.0.1:${nodePort}`,
      },
      ready: /proxy listening on http:\/\/127\.0\.0\.1:(\d+)/,
    });
    started.push(proxy);
    const proxyPort = proxy.match[1] as string;

    const health = (out: string, env: NodeJS.ProcessEnv) =>
      run("node", [join(work, out, "healthcheck.mjs")], { env: { PATH: process.env.PATH, ...env } });
    expect((await health("proxy", { PORT: proxyPort })).code).toBe(0);
    expect((await health("gpu-node", { GPU_NODE_PORT: nodePort })).code).toBe(0);

    const key = readFileSync(join(cwd, "data", "demo-key.txt"), "utf8").trim();
    const res = await fetch(`http://127.0.0.1:${proxyPort}/v1/tts`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ text: "欢迎使用IndexTTS2语音合成服务。", emotion: "happy", voice: 0 }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("content-type")).toContain("audio/wav");
    expect(Number(res.headers.get("x-tokens"))).toBeGreaterThan(0);
    expect(res.headers.get("x-model-random-weights")).toBe("true");
    await res.arrayBuffer();
    // The encoders are WASM/asm.js packages (wasm-media-encoders, opusscript, mediabunny + its AAC encoder, libflacjs)
    // and the resampler (libsamplerate-js): each format through the bundle, MP3 as OpenAI's default (no format given).
    const magic: Record<string, (b: Uint8Array) => boolean> = {
      "audio/mpeg": (b) => (b[0] === 0xff && (b[1] ?? 0) >= 0xe0) || String.fromCharCode(...b.slice(0, 3)) === "ID3",
      "audio/ogg; codecs=opus": (b) => String.fromCharCode(...b.slice(0, 4)) === "OggS",
      "audio/aac": (b) => b[0] === 0xff && ((b[1] ?? 0) & 0xf0) === 0xf0,
      "audio/flac": (b) => String.fromCharCode(...b.slice(0, 4)) === "fLaC",
    };
    for (const [format, type] of [
      [undefined, "audio/mpeg"],
      ["opus", "audio/ogg; codecs=opus"],
      ["aac", "audio/aac"],
      ["flac", "audio/flac"],
    ] as const) {
      const speech = await fetch(`http://127.0.0.1:${proxyPort}/v1/audio/speech`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "tts-1", voice: "alloy", input: "Hello there.", response_format: format }),
      });
      expect(speech.status, `${format}: ${await speech.clone().text()}`).toBe(200);
      expect(speech.headers.get("content-type")).toBe(type);
      const bytes = new Uint8Array(await speech.arrayBuffer());
      expect(magic[type]?.(bytes), `${format ?? "mp3"} starts as its container does`).toBe(true);
    }
    // /docs serves Swagger UI's own files (swagger-ui-dist, resolved at run time), not a CDN's
    const docs = await fetch(`http://127.0.0.1:${proxyPort}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("/docs/assets/swagger-ui-bundle.js");
    for (const asset of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
      const a = await fetch(`http://127.0.0.1:${proxyPort}/docs/assets/${asset}`);
      expect(a.status, asset).toBe(200);
      expect((await a.text()).length, asset).toBeGreaterThan(10_000);
    }
    // the database is in DATA_DIR (the volume), and the migrations came from the bundle's own folder
    expect(existsSync(join(cwd, "data", "proxy.db"))).toBe(true);
    // the image's backup command copies the live database: the requests' usage rows (1 + 4) are in the copy
    const backup = await run(
      "node",
      [join(work, "proxy", "backup.mjs"), "--db", join(cwd, "data", "proxy.db"), "--out", join(cwd, "b", "p.db")],
      { env: { PATH: process.env.PATH } },
    );
    expect(backup.code, backup.output).toBe(0);
    expect(JSON.parse(backup.output)).toMatchObject({ integrity: "ok", usage_events: 5 });

    expect(await proxy.stop()).toBe(0);

    // Drain on SIGTERM (what the Kubernetes preStop + grace period rely on): a request in flight when the signal
    // comes is finished and answered, then the node exits 0.
    const long = fetch(`http://127.0.0.1:${nodePort}/synthesize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "The quick brown fox jumps over the lazy dog, again and again.", max_tokens: 400 }),
    });
    let answered = false;
    void long.then(() => {
      answered = true;
    });
    for (;;) {
      const h = (await (await fetch(`http://127.0.0.1:${nodePort}/healthz`)).json()) as { in_flight: number };
      if (h.in_flight > 0) break;
      if (answered) throw new Error("the request finished before it was seen in flight: make it longer");
    }
    const exited = node.stop();
    const answer = await long;
    expect(answer.status).toBe(200);
    expect((await answer.arrayBuffer()).byteLength).toBeGreaterThan(44);
    expect(await exited).toBe(0);
    // a stopped service fails its health check
    expect((await health("gpu-node", { GPU_NODE_PORT: nodePort })).code).toBe(1);
  });
});
