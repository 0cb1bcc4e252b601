import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { normalizeEnglish, normalizeEnglishClass } from "./en/normalizer.ts";
import { ZhNormalizer } from "./zh/normalizer.ts";
import { readCardinalNumbers } from "./zh/number.ts";

/**
 * WeTextProcessing's own test cases (fixtures/wetext, Apache-2.0, see its README): the exact-match rate per class and
 * language must be ≥ 98 %. Every figure is printed, and the misses listed, so FIDELITY.md can quote this run.
 */
const DIR = new URL("../fixtures/wetext/", import.meta.url);

/** WeTextProcessing's `parse_test_case`: "written => spoken", both stripped. */
function cases(lang: string, file: string): Array<[string, string]> {
  return readFileSync(new URL(`${lang}/${file}`, DIR), "utf8")
    .split("\n")
    .filter((line) => line.includes("=>"))
    .map((line) => {
      const [written = "", spoken = ""] = line.trim().split("=>");
      return [written.trim(), spoken.trim()];
    });
}

const zh = new ZhNormalizer({ tagOov: true });
/** `Cardinal.number` alone: the reading that spans the whole input. */
const zhNumber = (written: string): string =>
  readCardinalNumbers(written, 0).find((n) => n.end === written.length)?.out ?? "<no reading>";

const RUNNERS: Record<string, (file: string) => (written: string) => string> = {
  zh: (file) => (file === "number.txt" ? zhNumber : (w) => zh.normalize(w)),
  // upstream runs each English class file through that class alone, and normalizer.txt / word.txt through the whole
  en: (file) => {
    const cls = file.replace(/\.txt$/, "");
    if (cls === "normalizer" || cls === "word") return normalizeEnglish;
    return (w) => normalizeEnglishClass(cls, w) ?? "<no reading>";
  },
};

interface Rate {
  lang: string;
  cls: string;
  total: number;
  exact: number;
  misses: string[];
}

function rates(lang: string): Rate[] {
  const runner = RUNNERS[lang];
  if (runner === undefined) return [];
  return readdirSync(new URL(`${lang}/`, DIR))
    .filter((f) => f.endsWith(".txt"))
    .sort()
    .map((file) => {
      const run = runner(file);
      const rate: Rate = { lang, cls: file.replace(/\.txt$/, ""), total: 0, exact: 0, misses: [] };
      for (const [written, spoken] of cases(lang, file)) {
        rate.total++;
        const got = run(written);
        if (got === spoken) rate.exact++;
        else rate.misses.push(`${written} => ${got} (expected ${spoken})`);
      }
      return rate;
    });
}

describe.each(["zh", "en"])("WeTextProcessing fixtures, %s", (lang) => {
  const table = rates(lang);
  it("prints the exact-match rate per class", () => {
    const total = table.reduce((a, r) => a + r.total, 0);
    const exact = table.reduce((a, r) => a + r.exact, 0);
    const lines = table.map(
      (r) => `${r.lang}\t${r.cls.padEnd(24)}\t${r.exact}/${r.total}\t${((100 * r.exact) / r.total).toFixed(1)} %`,
    );
    lines.push(`${lang}\tall${" ".repeat(21)}\t${exact}/${total}\t${((100 * exact) / total).toFixed(1)} %`);
    for (const r of table) for (const m of r.misses) lines.push(`  miss ${r.cls}: ${m}`);
    console.log(lines.join("\n"));
    expect(table.length).toBeGreaterThan(0);
  });
  it.each(table.map((r) => [r.cls, r] as const))("%s: ≥ 98 % exact", (_cls, r) => {
    expect(r.exact / r.total, r.misses.join("\n")).toBeGreaterThanOrEqual(0.98);
  });
});

describe("WeTextProcessing's other Chinese normaliser tests (tn/chinese/test/normalizer_test.py)", () => {
  it("reads 12 in 今天中午12点 as a number, converts traditional characters after tagging, and reads a time range", () => {
    expect(zh.normalize("今天中午12点")).toBe("今天中午十二点");
    expect(zh.normalize("蘋果")).toBe("苹果");
    // upstream asserts the tags time, range ("-" → 到), time
    expect(zh.normalize("10:30-11:20")).toBe("十点三十分到十一点二十分");
  });
});
