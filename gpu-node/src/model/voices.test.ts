import { describe, expect, it } from "vitest";
import { readModelDir } from "../adapters/model-dir.ts";
import { TINY_MODEL_DIR } from "../testing/harness.ts";
import { readSafetensors } from "./safetensors.ts";
import { VoiceBank } from "./voices.ts";

describe("voices and IndexTTS2 emotion mixing", async () => {
  const files = await readModelDir(TINY_MODEL_DIR);
  const bank = new VoiceBank(files.manifest, files.voices, files.emotions);
  const emotions = readSafetensors(files.emotions);
  const d = files.manifest.gpt.model_dim;
  const y = files.manifest.s2mel.style_dim;

  it("loads every preset voice of the manifest with its conditioning tensors", () => {
    expect(bank.list().map((v) => v.id)).toEqual(files.manifest.voices.map((v) => v.id));
    const v = bank.get(0);
    expect(v.speakerLatent.length).toBe(32 * d);
    expect(v.refMel.length).toBe(80 * v.refFrames);
  });

  it("rejects an unknown speaker with UNKNOWN_SPEAKER", () => {
    expect(() => bank.get(999)).toThrow(expect.objectContaining({ code: "UNKNOWN_SPEAKER" }));
  });

  it("no emotion keeps the voice's own emotion vector", () => {
    const v = bank.get(1);
    expect(bank.emotionVector(v, { kind: "none" })).toBe(v.emoVec);
  });

  it("a label with strength α mixes α × the most style-similar row of its group with (1 − α) × the voice's own", () => {
    const v = bank.get(0);
    const spk = emotions.get("spk_matrix")?.data ?? new Float32Array();
    const emo = emotions.get("emo_matrix")?.data ?? new Float32Array();
    // "sad" is group 2: rows 3 + 17 = 20 and 21
    const cos = (row: number) => {
      let dot = 0;
      let a = 0;
      let b = 0;
      for (let k = 0; k < y; k++) {
        const s = spk[row * y + k] ?? 0;
        const t = v.style[k] ?? 0;
        dot += s * t;
        a += s * s;
        b += t * t;
      }
      return dot / Math.sqrt(a * b);
    };
    const best = cos(20) >= cos(21) ? 20 : 21;
    const alpha = 0.6;
    const mixed = bank.emotionVector(v, { kind: "label", label: "sad", alpha });
    for (const k of [0, 7, d - 1]) {
      const expected = alpha * (emo[best * d + k] ?? 0) + (1 - alpha) * (v.emoVec[k] ?? 0);
      expect(mixed[k]).toBeCloseTo(expected, 5);
    }
  });

  it("an 8-vector equals the sum of its one-hot parts (the mix is linear in the weights)", () => {
    const v = bank.get(2);
    const w = [0.2, 0, 0.3, 0, 0, 0, 0.1, 0];
    const mixed = bank.emotionVector(v, { kind: "vector", weights: w, alpha: 1 });
    const parts = [0, 2, 6].map((g) => {
      const weights = w.map((x, i) => (i === g ? x : 0));
      return bank.emotionVector(v, { kind: "vector", weights, alpha: 1 });
    });
    for (const k of [0, 5, d - 1]) {
      // Σ (wᵢ eᵢ + (1 − wᵢ) base) = Σ wᵢ eᵢ + (3 − Σ w) base, and mixed = Σ wᵢ eᵢ + (1 − Σ w) base
      const sum = parts.reduce((acc, p) => acc + (p[k] ?? 0), 0) - 2 * (v.emoVec[k] ?? 0);
      expect(mixed[k]).toBeCloseTo(sum, 5);
    }
  });
});
