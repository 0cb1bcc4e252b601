import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { GRAPH_NAMES, type GraphPaths, RESIDENT_GRAPH_NAMES } from "../engine/backend.ts";
import { type Manifest, manifestSchema } from "../model/manifest.ts";
import { parseGlossaryYaml } from "../text/glossary.ts";
import type { Glossary } from "../text/normalize.ts";
import { loadSentencePiece } from "../text/sentencepiece.ts";
import type { TextFrontEndOptions } from "../text/tokenizer.ts";

/** IndexTTS2 reads this file from the model directory when present (infer_v2.py); so does the node. */
export const GLOSSARY_FILE = "glossary.yaml";

export interface ModelFiles {
  dir: string;
  manifest: Manifest;
  bpe: Uint8Array;
  voices: Uint8Array;
  emotions: Uint8Array;
  /** `glossary.yaml`'s term readings, when the directory has a non-empty one */
  glossary?: Glossary;
  /** every graph of the contract, and the resident-loop graphs when the directory has them */
  graphPaths: GraphPaths;
}

/** Read a model directory (see gpu-node/MODEL.md) from disk and validate its manifest. */
export async function readModelDir(dir: string): Promise<ModelFiles> {
  const raw = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8"));
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${dir}/manifest.json is invalid: ${parsed.error.message}`);
  const manifest = parsed.data;
  const graphPaths = Object.fromEntries(GRAPH_NAMES.map((g) => [g, join(dir, manifest.files[g])])) as GraphPaths;
  for (const g of RESIDENT_GRAPH_NAMES) {
    const path = join(dir, `${g}.onnx`);
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      graphPaths[g] = path;
  }
  const [bpe, voices, emotions] = await Promise.all([
    readFile(join(dir, manifest.files.bpe)),
    readFile(join(dir, manifest.files.voices)),
    readFile(join(dir, manifest.files.emotions)),
  ]);
  checkTokenizer(dir, manifest, bpe);
  const glossary = await readGlossary(dir);
  return { dir, manifest, bpe, voices, emotions, graphPaths, ...(glossary !== undefined ? { glossary } : {}) };
}

async function readGlossary(dir: string): Promise<Glossary | undefined> {
  const path = join(dir, GLOSSARY_FILE);
  let source: string;
  try {
    source = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return parseGlossaryYaml(source, path);
}

/** The text front end's options from a model directory: its segment limit and mode, its glossary. */
export function frontEndOptions(files: ModelFiles): TextFrontEndOptions {
  return {
    maxTokensPerSegment: files.manifest.limits.max_text_tokens_per_segment,
    segmentMode: files.manifest.limits.segmentation,
    ...(files.glossary !== undefined ? { glossary: files.glossary } : {}),
  };
}

/**
 * The tokenizer must load (Unigram, as IndexTTS2's real bpe.model, or BPE) and its ids must fit the GPT's text
 * embedding, or the node would index past it at the first request instead of refusing to start.
 */
function checkTokenizer(dir: string, manifest: Manifest, bpe: Uint8Array): void {
  let pieces: number;
  try {
    pieces = loadSentencePiece(bpe).vocabSize;
  } catch (e) {
    throw new Error(`${dir}/${manifest.files.bpe} is not a usable SentencePiece model: ${(e as Error).message}`);
  }
  if (pieces > manifest.gpt.number_text_tokens) {
    throw new Error(
      `${dir}/${manifest.files.bpe} has ${pieces} pieces but gpt.number_text_tokens is ${manifest.gpt.number_text_tokens}`,
    );
  }
}
