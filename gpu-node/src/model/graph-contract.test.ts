import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openModelBackend } from "../adapters/model-backend.ts";
import { type ModelFiles, readModelDir } from "../adapters/model-dir.ts";
import type { OrtBackend } from "../adapters/ort-backend.ts";
import type { ContractGraph } from "../engine/backend.ts";
import { TINY_MODEL_DIR } from "../testing/harness.ts";
import { checkGraphs, type GraphMeta } from "./graph-contract.ts";

const runtime = { executionProviders: ["cpu"], intraOpThreads: 1, interOpThreads: 1, intraOpSpinning: false };

describe("the start-up check of the graphs against the manifest", () => {
  let files: ModelFiles;
  let backend: OrtBackend;
  let meta: (g: ContractGraph) => GraphMeta;
  beforeAll(async () => {
    files = await readModelDir(TINY_MODEL_DIR);
    backend = await openModelBackend(files, runtime);
    meta = (g) => backend.metadata(g);
  });
  afterAll(() => backend.close());

  it("passes the committed tiny model", () => {
    expect(checkGraphs(files.manifest, meta)).toEqual([]);
  });

  it("names the graph, the tensor and both widths when a width disagrees with the manifest", () => {
    const y = files.manifest.s2mel.style_dim;
    const manifest = { ...files.manifest, s2mel: { ...files.manifest.s2mel, style_dim: y + 1 } };
    expect(checkGraphs(manifest, meta)).toEqual([
      `dit_step: input style dimension 1 is ${y}, the manifest says ${y + 1}`,
    ]);
  });

  it("names missing and unexpected tensors when a file is another graph", () => {
    const swapped = (g: ContractGraph) => meta(g === "gpt_latent" ? "latent_projector" : g);
    const problems = checkGraphs(files.manifest, swapped);
    expect(problems).toContain("gpt_latent: input cond_prefix is missing");
    expect(problems).toContain("gpt_latent: output latent is missing");
    expect(problems).toContain("gpt_latent: unexpected input latent");
    expect(problems.every((p) => p.startsWith("gpt_latent: "))).toBe(true);
  });

  describe("on a model directory whose manifest points a graph at the wrong file", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "gpu-node-mismatch-"));
      await cp(TINY_MODEL_DIR, dir, { recursive: true });
      const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
      manifest.files.gpt_latent = manifest.files.latent_projector;
      await writeFile(join(dir, "manifest.json"), JSON.stringify(manifest));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it("openModelBackend refuses it with every mismatch", async () => {
      const bad = await readModelDir(dir);
      await expect(openModelBackend(bad, runtime)).rejects.toThrow(
        new RegExp(
          `graphs of ${dir} do not match its manifest\\.json[\\s\\S]*gpt_latent: input cond_prefix is missing`,
        ),
      );
    });

    it("npm run node exits 1 before listening, naming the graph", async () => {
      const { execFile } = await import("node:child_process");
      const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ["--import", "tsx", "gpu-node/src/entry.node.ts", "--port", "0", "--model", dir],
          (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
        );
      });
      expect(result.code).toBe(1);
      expect(result.stdout).not.toMatch(/listening/);
      expect(result.stderr).toMatch(/gpu-node: cannot start on .*: the graphs of .* do not match its manifest\.json/);
      expect(result.stderr).toContain("gpt_latent: input cond_prefix is missing");
    });
  });
});
