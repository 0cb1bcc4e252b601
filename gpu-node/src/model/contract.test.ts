import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { readModelDir } from "../adapters/model-dir.ts";
import { GRAPH_NAMES, type ContractGraph as GraphName } from "../engine/backend.ts";
import { TINY_MODEL_DIR } from "../testing/harness.ts";
import type { Manifest } from "./manifest.ts";

interface DocumentedTensor {
  name: string;
  dir: "in" | "out";
  shape: string[];
  dtype: "float32" | "int64";
}

/** Read the I/O tables of gpu-node/MODEL.md: rows "| `name` | in/out | (dims) | f32/i64 | …" under "### <graph>.onnx". */
function documentedGraphs(markdown: string, layers: number): Map<string, DocumentedTensor[]> {
  const graphs = new Map<string, DocumentedTensor[]>();
  let current: DocumentedTensor[] | null = null;
  for (const line of markdown.split("\n")) {
    const heading = /^###\s+([a-z_]+)\.onnx/.exec(line);
    if (heading?.[1]) {
      current = [];
      graphs.set(heading[1], current);
      continue;
    }
    if (/^##\s/.test(line)) current = null;
    if (!current || !line.startsWith("| `")) continue;
    const cells = line.split("|").map((c) => c.trim());
    const [, names, dir, shape, dtype] = cells;
    if (!names || (dir !== "in" && dir !== "out") || !shape || !dtype) continue;
    const dims = shape
      .replace(/[()]/g, "")
      .split(",")
      .map((d) => d.trim())
      .filter(Boolean);
    for (const [, raw] of names.matchAll(/`([^`]+)`/g)) {
      const expanded = raw?.includes("{i}")
        ? Array.from({ length: layers }, (_, i) => raw.replace("{i}", String(i)))
        : [raw];
      for (const name of expanded) {
        if (name) current.push({ name, dir, shape: dims, dtype: dtype === "i64" ? "int64" : "float32" });
      }
    }
  }
  return graphs;
}

/** Numeric value of a documented dimension when it is fixed by the manifest (e.g. "D", "80", "32"), else null. */
function fixedDim(expr: string, m: Manifest): number | null {
  const symbols: Record<string, number> = {
    D: m.gpt.model_dim,
    H: m.gpt.heads,
    hd: m.gpt.model_dim / m.gpt.heads,
    V: m.gpt.number_mel_codes,
    S: m.semantic.hidden_size,
    C: m.s2mel.content_dim,
    M: m.s2mel.n_mels,
    Y: m.s2mel.style_dim,
  };
  if (/^\d+$/.test(expr)) return Number(expr);
  return symbols[expr] ?? null;
}

describe("graph I/O contract (gpu-node/MODEL.md) of the committed tiny model", async () => {
  const files = await readModelDir(TINY_MODEL_DIR);
  const doc = readFileSync(new URL("../../MODEL.md", import.meta.url), "utf8");
  const documented = documentedGraphs(doc, files.manifest.gpt.layers);

  it("documents every graph the node loads", () => {
    expect([...documented.keys()].sort()).toEqual([...GRAPH_NAMES].sort());
  });

  it.each(GRAPH_NAMES)(
    "%s has exactly the documented inputs and outputs, dtypes and fixed dims",
    async (graph: GraphName) => {
      const session = await ort.InferenceSession.create(files.graphPaths[graph]);
      try {
        const rows = documented.get(graph) ?? [];
        for (const [dir, metadata] of [
          ["in", session.inputMetadata],
          ["out", session.outputMetadata],
        ] as const) {
          const expected = rows.filter((r) => r.dir === dir);
          expect(metadata.map((t) => t.name).sort()).toEqual(expected.map((r) => r.name).sort());
          for (const t of metadata) {
            const row = expected.find((r) => r.name === t.name);
            if (!row || !t.isTensor) throw new Error(`${graph}.${t.name} is not documented as a tensor`);
            expect(t.type, `${graph}.${t.name} dtype`).toBe(row.dtype);
            expect(t.shape.length, `${graph}.${t.name} rank`).toBe(row.shape.length);
            row.shape.forEach((dim, i) => {
              const fixed = fixedDim(dim, files.manifest);
              if (fixed !== null && typeof t.shape[i] === "number")
                expect(t.shape[i], `${graph}.${t.name}[${i}]`).toBe(fixed);
            });
          }
        }
      } finally {
        await session.release();
      }
    },
  );
});
