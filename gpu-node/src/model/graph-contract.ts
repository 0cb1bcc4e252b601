import { type ContractGraph, GRAPH_NAMES } from "../engine/backend.ts";
import type { Manifest } from "./manifest.ts";

/** What a graph file declares about one input or output (onnxruntime's session metadata). */
export interface TensorMeta {
  readonly name: string;
  readonly type: string;
  /** a number where the file fixes the dimension, a name (or nothing) where it is free */
  readonly shape: readonly (number | string | undefined)[];
}
export interface GraphMeta {
  readonly inputs: readonly TensorMeta[];
  readonly outputs: readonly TensorMeta[];
}

/** a dimension the manifest fixes (number), or a free one (its MODEL.md name) */
type Dim = number | string;
interface TensorSpec {
  readonly name: string;
  readonly dtype: "float32" | "float16" | "int64";
  readonly dims: readonly Dim[];
}

/**
 * The I/O contract of every graph (gpu-node/MODEL.md), with the widths this manifest fixes. The node refuses to
 * start on a model directory whose graphs disagree (otherwise every request fails with a 500 at the first graph call
 * that meets the mismatch). `contract.test.ts` checks the committed tiny model against MODEL.md's tables themselves.
 */
export function graphContract(m: Manifest, graph: ContractGraph): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const { model_dim: d, heads: h, cond_tokens: ct, number_mel_codes: v, layers } = m.gpt;
  const hd = d / h;
  const { hidden_size: s } = m.semantic;
  const { n_mels: mels, content_dim: c, style_dim: y } = m.s2mel;
  const f = (name: string, ...dims: Dim[]): TensorSpec => ({ name, dtype: "float32", dims });
  const i = (name: string, ...dims: Dim[]): TensorSpec => ({ name, dtype: "int64", dims });
  // The KV cache's element type is the manifest's (`precision.kv_cache`: an fp16 export keeps every other tensor fp32).
  const cache = m.precision?.kv_cache ?? "float32";
  const c16 = (name: string, ...dims: Dim[]): TensorSpec => ({ name, dtype: cache, dims });
  const kv = (prefix: string, len: Dim) =>
    Array.from({ length: layers }, (_, l) => [
      c16(`${prefix}_key_${l}`, "B", h, len, hd),
      c16(`${prefix}_value_${l}`, "B", h, len, hd),
    ]).flat();
  switch (graph) {
    case "gpt_conditioning":
      return {
        inputs: [f("speaker_latent", "B", 32, d), f("emo_vec", "B", d)],
        outputs: [f("cond_prefix", "B", ct, d)],
      };
    case "gpt_prefill":
      return {
        inputs: [f("cond_prefix", "B", ct, d), i("text_ids", "B", "Lt")],
        outputs: [f("logits", "B", v), f("hidden", "B", d), ...kv("present", "prefill_len")],
      };
    case "gpt_decode":
      return {
        inputs: [i("mel_ids", "B", 1), i("mel_pos", "B"), i("attention_mask", "B", "P+1"), ...kv("past", "P")],
        outputs: [f("logits", "B", v), f("hidden", "B", d), ...kv("new", 1)],
      };
    case "gpt_latent":
      return {
        inputs: [f("cond_prefix", "B", ct, d), i("text_ids", "B", "Lt"), i("codes", "B", "T")],
        outputs: [f("latent", "B", "T", d)],
      };
    case "latent_projector":
      return { inputs: [f("latent", "B", "T", d), i("codes", "B", "T")], outputs: [f("s_infer", "B", "T", s)] };
    case "length_regulator":
      return { inputs: [f("s_infer", 1, "T", s), i("target_len", 1)], outputs: [f("cond", 1, "target_len", c)] };
    case "dit_step":
      return {
        inputs: [
          f("x", "B", mels, "T"),
          f("prompt_x", "B", mels, "T"),
          i("x_lens", "B"),
          f("t", "B"),
          f("style", "B", y),
          f("cond", "B", "T", c),
        ],
        outputs: [f("output", "B", mels, "T")],
      };
    case "vocoder":
      return { inputs: [f("mel", "B", mels, "T"), i("mel_lens", "B")], outputs: [f("audio", "B", 1, "samples")] };
  }
}

/** Every disagreement between the graphs' declared I/O and the contract, one line each, naming the graph. */
export function checkGraphs(m: Manifest, meta: (graph: ContractGraph) => GraphMeta): string[] {
  const problems: string[] = [];
  for (const graph of GRAPH_NAMES) {
    const want = graphContract(m, graph);
    const got = meta(graph);
    for (const dir of ["inputs", "outputs"] as const) {
      const kind = dir === "inputs" ? "input" : "output";
      const have = new Map(got[dir].map((t) => [t.name, t]));
      for (const spec of want[dir]) {
        const t = have.get(spec.name);
        have.delete(spec.name);
        if (!t) {
          problems.push(`${graph}: ${kind} ${spec.name} is missing`);
          continue;
        }
        if (t.type !== spec.dtype) problems.push(`${graph}: ${kind} ${spec.name} is ${t.type}, expected ${spec.dtype}`);
        if (t.shape.length !== spec.dims.length) {
          problems.push(`${graph}: ${kind} ${spec.name} has rank ${t.shape.length}, expected ${spec.dims.length}`);
          continue;
        }
        spec.dims.forEach((dim, k) => {
          const actual = t.shape[k];
          if (typeof dim === "number" && typeof actual === "number" && actual !== dim)
            problems.push(`${graph}: ${kind} ${spec.name} dimension ${k} is ${actual}, the manifest says ${dim}`);
        });
      }
      for (const extra of have.keys()) problems.push(`${graph}: unexpected ${kind} ${extra}`);
    }
  }
  return problems;
}
