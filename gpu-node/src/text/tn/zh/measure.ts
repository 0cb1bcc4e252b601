/**
 * WeTextProcessing's Chinese `Measure` (tn/chinese/rules/measure.py): number + unit, ranges, xxxx年, a/b units.
 */
import type { Candidate, Rule } from "../lattice.ts";
import { WordList } from "../lattice.ts";
import { digitsAt, type Field, optSpace, W } from "./common.ts";
import * as D from "./data.generated.ts";
import { digitAt, type NumberReading, readCardinalNumbers, readDigits } from "./number.ts";

const UNITS = new WordList([...D.UNITS_EN, ...D.UNITS_ZH]);
/** units: (k → 千 | w → 万, weight 0.1)? (units_en | units_zh) */
function units(text: string, i: number): Array<Field & { weight: number }> {
  const out: Array<Field & { weight: number }> = [];
  for (const [w, s] of UNITS.matches(text, i)) out.push({ end: i + w.length, out: s, weight: 0 });
  const c = text.charAt(i);
  if (c === "k" || c === "w") {
    for (const [w, s] of UNITS.matches(text, i + 1))
      out.push({ end: i + 1 + w.length, out: (c === "k" ? "千" : "万") + s, weight: 0.1 });
  }
  return out;
}
/** Measure's number: commas between digits dropped, a lone 二 read 两. */
function measureNumbers(text: string, start: number): NumberReading[] {
  // strip_comma: "1,000" reads as 1000 — re-read the number on the text without its digit-separating commas
  let j = start;
  let stripped = "";
  const map: number[] = [];
  // 64 characters are more than any number the grammar reads (12 digits, a sign, a decimal part)
  while (j < text.length && j - start < 64) {
    const c = text.charAt(j);
    if ((c === "," || c === "，") && digitAt(text, j - 1) >= 0 && digitAt(text, j + 1) >= 0) {
      j++;
      continue;
    }
    if (!(digitAt(text, j) >= 0 || "+±-.%约人均".includes(c))) break;
    stripped += c;
    map.push(j);
    j++;
  }
  map.push(j);
  // a reading that stops before another digit can be followed by neither a unit nor a range sign
  return readCardinalNumbers(stripped, 0)
    .filter((n) => digitAt(stripped, n.end) < 0)
    .map((n) => ({
      end: map[n.end] as number,
      out: n.out === "二" ? "两" : n.out,
    }));
}
const LIANG_BACK = ["两", "月", "号"];

function simpleMeasure(text: string, start: number): Array<Field & { weight: number }> {
  const out: Array<Field & { weight: number }> = [];
  const tail = (n: Field, w0: number): void => {
    for (const i of optSpace(text, n.end)) {
      for (const u of units(text, i)) {
        let spoken = n.out + u.out;
        // `cross("两" + unit, "二" + unit)` at the start: 2两, 2月, 2号 keep 二
        if (LIANG_BACK.some((unit) => spoken.startsWith(`两${unit}`))) spoken = `二${spoken.slice(1)}`;
        out.push({ end: u.end, out: spoken, weight: w0 + u.weight });
      }
    }
  };
  for (const n of measureNumbers(text, start)) {
    tail(n, 0);
    // prefix: number (unit)? (- | ~ | 到) number unit
    const prefixes: Array<Field & { weight: number }> = [{ end: n.end, out: n.out, weight: 0 }];
    for (const i of optSpace(text, n.end))
      for (const u of units(text, i)) prefixes.push({ end: u.end, out: n.out + u.out, weight: u.weight });
    for (const p of prefixes) {
      const c = text.charAt(p.end);
      if (c !== "-" && c !== "~" && c !== "到") continue;
      for (const m of measureNumbers(text, p.end + 1)) {
        const before = out.length;
        tail({ end: m.end, out: `${p.out}到${m.out}` }, p.weight);
        for (let k = before; k < out.length; k++) {
          const o = out[k] as Field & { weight: number };
          let spoken = o.out;
          for (const unit of LIANG_BACK) spoken = spoken.replace(new RegExp(`到两${unit}$`), `到二${unit}`);
          out[k] = { ...o, out: spoken };
        }
      }
    }
  }
  return out;
}

function annual(text: string, start: number): Field[] {
  const out: Field[] = [];
  const yyyy = (i: number): Field | undefined => {
    const ds = digitsAt(text, i, 4);
    return ds === undefined ? undefined : { end: i + 4, out: readDigits(ds) };
  };
  const unit = (i: number): Field[] =>
    ["年度", "赛季", "年"].filter((u) => text.startsWith(u, i)).map((u) => ({ end: i + u.length, out: u }));
  const a = yyyy(start);
  if (a === undefined) return out;
  for (const u of unit(a.end)) out.push({ end: u.end, out: a.out + u.out });
  const prefixes: Field[] = [a];
  for (const i of optSpace(text, a.end)) for (const u of unit(i)) prefixes.push({ end: u.end, out: a.out + u.out });
  for (const p of prefixes) {
    const c = text.charAt(p.end);
    if (c !== "-" && c !== "~" && c !== "到") continue;
    const b = yyyy(p.end + 1);
    if (b !== undefined) for (const u of unit(b.end)) out.push({ end: u.end, out: `${p.out}到${b.out}${u.out}` });
  }
  return out;
}

export const measure: Rule = (text, start) => {
  const out: Candidate[] = [];
  const measures = simpleMeasure(text, start);
  for (const m of measures) out.push({ end: m.end, weight: W.measure + m.weight, out: m.out });
  for (const a of annual(text, start)) out.push({ end: a.end, weight: W.measure, out: a.out });
  // numerator / denominator (10km/h → 每小时十公里); the denominator is a measure or a bare unit
  for (const m of measures) {
    for (const i of optSpace(text, m.end)) {
      if (text.charAt(i) !== "/") continue;
      for (const j of optSpace(text, i + 1)) {
        for (const u of units(text, j))
          out.push({ end: u.end, weight: W.measure + m.weight + u.weight, out: `每${u.out}${m.out}` });
        for (const d of simpleMeasure(text, j))
          out.push({ end: d.end, weight: W.measure + m.weight + d.weight, out: `每${d.out}${m.out}` });
      }
    }
  }
  return out;
};
