/**
 * A model directory's `glossary.yaml`: IndexTTS2's term glossary (infer_v2.py loads `<model_dir>/glossary.yaml` when
 * present into `TextNormalizer(enable_glossary=True)`; indextts/utils/front.py `load_glossary_from_yaml`). Format:
 *
 *   M.2:
 *     en: M dot two
 *     zh: M 二
 *   NVMe: N-V-M-E        # one reading for both languages
 *
 * Parsed as YAML 1.1, as PyYAML's `safe_load` reads it, so `ON:` or `yes:` are booleans here as there. Upstream
 * accepts whatever mapping the file holds and fails later, inside `normalize`, on a number or null term or reading,
 * and reads a reading with a backslash as a `re.sub` template; here such a file is refused when the node starts, with
 * the entry named, instead of failing requests. An empty file, like upstream, means no glossary.
 */
import { isMap, isScalar, parseDocument } from "yaml";
import type { Glossary, GlossaryEntry } from "./tn/indextts.ts";

export class GlossaryError extends Error {}

function reading(origin: string, term: string, lang: string, value: unknown): string {
  const where = `${origin}: the ${lang === "" ? "reading" : `"${lang}" reading`} of "${term}"`;
  if (typeof value !== "string") {
    throw new GlossaryError(`${where} must be a string, got ${value === null ? "nothing" : typeof value} (quote it)`);
  }
  // Python's re.sub reads the replacement as a template: "\1" or "\n" would not be read literally upstream.
  if (value.includes("\\"))
    throw new GlossaryError(`${where} contains a backslash, which upstream reads as a template`);
  return value;
}

/** Parse and check `glossary.yaml`'s text; `origin` names the file in errors. */
export function parseGlossaryYaml(source: string, origin: string): Glossary | undefined {
  const doc = parseDocument(source, { version: "1.1", uniqueKeys: true });
  if (doc.errors.length > 0) throw new GlossaryError(`${origin} is not valid YAML: ${doc.errors[0]?.message}`);
  if (doc.contents === null) return undefined;
  if (!isMap(doc.contents)) throw new GlossaryError(`${origin} must be a mapping of terms to readings`);
  const glossary: Record<string, GlossaryEntry> = {};
  for (const item of doc.contents.items) {
    const term = isScalar(item.key) ? item.key.value : item.key;
    if (typeof term !== "string" || term === "") {
      throw new GlossaryError(
        `${origin}: the term ${JSON.stringify(String(term))} must be a non-empty string (quote it)`,
      );
    }
    const value = isScalar(item.value) || item.value === null ? (item.value?.value ?? null) : item.value.toJSON();
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const entry: { en?: string; zh?: string } = {};
      for (const [lang, v] of Object.entries(value as Record<string, unknown>)) {
        if (lang !== "en" && lang !== "zh") {
          throw new GlossaryError(`${origin}: "${term}" has a reading for "${lang}"; only "en" and "zh" are read`);
        }
        entry[lang] = reading(origin, term, lang, v);
      }
      glossary[term] = entry;
    } else {
      glossary[term] = reading(origin, term, "", value);
    }
  }
  return Object.keys(glossary).length === 0 ? undefined : glossary;
}
