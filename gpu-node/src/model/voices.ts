import { NodeError } from "../core/errors.ts";
import { EMOTIONS, type EmotionLabel, type Manifest } from "./manifest.ts";
import { type NamedTensor, readSafetensors } from "./safetensors.ts";

/** Precomputed speaker conditioning of one preset voice (see MODEL.md, voices.safetensors). */
export interface Voice {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  /** (32, D) perceiver conditioning */
  readonly speakerLatent: Float32Array;
  /** (D) base emotion vector of the reference clip */
  readonly emoVec: Float32Array;
  /** (Y) CAMPPlus style */
  readonly style: Float32Array;
  /** (T_ref, C) prompt condition */
  readonly promptCondition: Float32Array;
  /** (M, T_ref) reference mel */
  readonly refMel: Float32Array;
  readonly refFrames: number;
}

/** What the caller asked for: nothing (the voice's own emotion), a label with a strength, or an 8-vector. */
export type EmotionRequest =
  | { kind: "none" }
  | { kind: "label"; label: EmotionLabel; alpha: number }
  | { kind: "vector"; weights: readonly number[]; alpha: number };

export class VoiceBank {
  private readonly voices = new Map<number, Voice>();
  /** per emotion group: [rows of spk_matrix (Y each)], [rows of emo_matrix (D each)] */
  private readonly groups: { spk: Float32Array[]; emo: Float32Array[] }[] = [];

  constructor(manifest: Manifest, voicesFile: Uint8Array, emotionsFile: Uint8Array) {
    const d = manifest.gpt.model_dim;
    const tensors = readSafetensors(voicesFile);
    const get = (name: string, size: number): Float32Array => {
      const t: NamedTensor | undefined = tensors.get(name);
      if (!t) throw new Error(`voices: missing tensor ${name}`);
      if (t.data.length !== size) throw new Error(`voices: ${name} has ${t.data.length} values, expected ${size}`);
      return t.data;
    };
    for (const v of manifest.voices) {
      const p = `voice.${v.id}.`;
      this.voices.set(v.id, {
        id: v.id,
        name: v.name,
        description: v.description,
        speakerLatent: get(`${p}speaker_latent`, 32 * d),
        emoVec: get(`${p}emo_vec`, d),
        style: get(`${p}style`, manifest.s2mel.style_dim),
        promptCondition: get(`${p}prompt_condition`, v.ref_frames * manifest.s2mel.content_dim),
        refMel: get(`${p}ref_mel`, manifest.s2mel.n_mels * v.ref_frames),
        refFrames: v.ref_frames,
      });
    }

    const emotions = readSafetensors(emotionsFile);
    const spk = emotions.get("spk_matrix");
    const emo = emotions.get("emo_matrix");
    const y = manifest.s2mel.style_dim;
    const rows = manifest.emotion.emo_num.reduce((a, b) => a + b, 0);
    if (!spk || !emo || spk.data.length !== rows * y || emo.data.length !== rows * d) {
      throw new Error("emotions: spk_matrix/emo_matrix missing or of the wrong shape");
    }
    let row = 0;
    for (const count of manifest.emotion.emo_num) {
      const group = { spk: [] as Float32Array[], emo: [] as Float32Array[] };
      for (let i = 0; i < count; i++, row++) {
        group.spk.push(spk.data.subarray(row * y, (row + 1) * y));
        group.emo.push(emo.data.subarray(row * d, (row + 1) * d));
      }
      this.groups.push(group);
    }
  }

  get(id: number): Voice {
    const voice = this.voices.get(id);
    if (!voice) {
      throw new NodeError(
        "UNKNOWN_SPEAKER",
        `speaker_id ${id} does not exist; known: ${[...this.voices.keys()].join(", ")}`,
      );
    }
    return voice;
  }

  list(): Voice[] {
    return [...this.voices.values()];
  }

  /**
   * IndexTTS2's emotion mixing (infer_v2.py, emo_vector path): in each of the 8 emotion groups pick the emo_matrix
   * row whose spk_matrix row is most cosine-similar to the voice's style, then
   * `emo_vec = Σ wᵢ · emo_rowᵢ + (1 − Σ w) · voice.emo_vec`. A label is a one-hot vector; `alpha` scales the weights.
   */
  emotionVector(voice: Voice, request: EmotionRequest): Float32Array {
    if (request.kind === "none") return voice.emoVec;
    const weights =
      request.kind === "label"
        ? EMOTIONS.map((e) => (e === request.label ? request.alpha : 0))
        : request.weights.map((w) => w * request.alpha);
    const out = new Float32Array(voice.emoVec.length);
    let sum = 0;
    weights.forEach((w, g) => {
      if (w === 0) return;
      sum += w;
      const group = this.groups[g];
      if (!group) return;
      const row = group.emo[argmaxCosine(voice.style, group.spk)];
      if (!row) return;
      for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) + w * (row[i] ?? 0);
    });
    const rest = 1 - sum;
    for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) + rest * (voice.emoVec[i] ?? 0);
    return out;
  }
}

function argmaxCosine(query: Float32Array, rows: Float32Array[]): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  const qn = Math.hypot(...query) || 1;
  rows.forEach((row, i) => {
    let dot = 0;
    let rn = 0;
    for (let k = 0; k < row.length; k++) {
      const r = row[k] ?? 0;
      dot += (query[k] ?? 0) * r;
      rn += r * r;
    }
    const score = dot / (qn * (Math.sqrt(rn) || 1));
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  });
  return best;
}
