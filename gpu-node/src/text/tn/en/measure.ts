/**
 * WeTextProcessing's English `Measure` (tn/english/rules/measure.py): a cardinal, a range (2-3, 2x3, 2 * 10), a
 * decimal or a fraction, then a unit (singular after exactly "1"), optionally "/unit" → "per unit"; and street
 * addresses ("2788 San Tomas Expy, Santa Clara, CA 95051").
 */
import { numberAt, optSpace, type Reading, SUPPLETIVE, UNITS } from "./common.ts";
import * as D from "./data.generated.ts";
import { cardinalWithAnd, pluralize, singleDigits, twoDigitWords } from "./number.ts";
import { fraction, unsignedDecimal } from "./numeric.ts";

/** `get_range` over cardinals: "2-3" → "two to three", "2x3" → "two by three", "2 * 10" → "two times ten". */
export function cardinalRange(text: string, start: number): Reading[] {
  const out: Reading[] = [];
  const a = numberAt(text, start);
  const aw = a === "" ? undefined : cardinalWithAnd(a);
  if (aw === undefined) return out;
  const seps: Array<[string, string]> = [
    ["-", "to"],
    [" - ", "to"],
    [" x ", "by"],
    ["x", "by"],
    ["*", "times"],
    [" * ", "times"],
  ];
  for (const [sep, word] of seps) {
    const i = start + a.length;
    if (!text.startsWith(sep, i)) continue;
    const b = numberAt(text, i + sep.length);
    const bw = b === "" ? undefined : cardinalWithAnd(b);
    if (bw !== undefined) out.push({ end: i + sep.length + b.length, out: `${aw} ${word} ${bw}` });
  }
  return out;
}

/** A unit, optionally followed by "/unit" (said "per …"); `plural` pluralises the first unit. */
function unitsAt(text: string, i: number, plural: boolean): Reading[] {
  const out: Reading[] = [];
  const firsts = UNITS.matches(text, i)
    .filter(([w]) => !/[A-Za-z]/.test(text.charAt(i + w.length)) || w.length === 0)
    .map(([w, s]) => ({ end: i + w.length, out: plural ? pluralize(s, SUPPLETIVE) : s }));
  // measure.py: a unit written with capitals is also read lower-cased ("KM", "Kg")
  const letters = /[A-Z][A-Za-z]*/y;
  letters.lastIndex = i;
  const capital = letters.exec(text)?.[0];
  const lowered = capital === undefined ? undefined : UNITS.get(capital.toLowerCase());
  if (capital !== undefined && lowered !== undefined && !firsts.some((f) => f.end === i + capital.length)) {
    firsts.push({ end: i + capital.length, out: plural ? pluralize(lowered, SUPPLETIVE) : lowered });
  }
  for (const f of firsts) {
    out.push(f);
    for (const j of optSpace(text, f.end)) {
      if (text.charAt(j) !== "/") continue;
      for (const k of optSpace(text, j + 1)) {
        for (const [w, s] of UNITS.matches(text, k)) {
          if (!/[A-Za-z]/.test(text.charAt(k + w.length))) out.push({ end: k + w.length, out: `${f.out} per ${s}` });
        }
      }
    }
  }
  return out;
}

export function measure(text: string, start: number): Reading[] {
  if (!/[\d.\-¼-¾⅐-⅞]/.test(text.charAt(start))) return []; // every form starts with a number
  const out: Reading[] = [];
  const neg = text.charAt(start) === "-";
  const i0 = neg ? start + 1 : start;
  const numbers: Array<{ end: number; out: string; one: boolean; sign: string }> = [];
  const integer = numberAt(text, i0);
  if (integer !== "") {
    const w = cardinalWithAnd(integer);
    if (w !== undefined) numbers.push({ end: i0 + integer.length, out: w, one: integer === "1", sign: "negative " });
  }
  for (const r of cardinalRange(text, i0)) numbers.push({ ...r, one: false, sign: "negative " });
  for (const d of unsignedDecimal(text, i0)) numbers.push({ ...d, one: false, sign: "minus " });
  if (!neg) for (const f of fraction(text, i0)) numbers.push({ ...f, one: false, sign: "" });
  for (const n of numbers) {
    for (const j of optSpace(text, n.end)) {
      for (const u of unitsAt(text, j, !n.one)) {
        out.push({ end: u.end, out: `${neg ? n.sign : ""}${n.out} ${u.out}` });
      }
    }
  }
  out.push(...address(text, start));
  return out;
}

const ADDRESS_WORDS = new Map<string, string>();
for (const [w, s] of D.ADDRESS_WORD) {
  const cap = (x: string): string => x.charAt(0).toUpperCase() + x.slice(1);
  for (const [k, v] of [
    [w, s],
    [`${w}.`, s],
    [cap(w), cap(s)],
    [`${cap(w)}.`, cap(s)],
  ] as const) {
    if (!ADDRESS_WORDS.has(k)) ADDRESS_WORDS.set(k, v);
  }
}
const STATE_BY_CODE = new Map(D.STATE.map(([name, code]) => [code, name]));

/** `get_address_graph`, its common shape: number, capitalised words, street word, then ", city, ST 12345". */
function address(text: string, start: number): Reading[] {
  const re = /(\d{3,4}) ((?:[A-Z][A-Za-z]+ )+)([A-Za-z]+\.?)(?:(, (?:[A-Za-z]+ ?)+), ([A-Z]{2}) (\d{5}))?/y;
  re.lastIndex = start;
  const m = re.exec(text);
  if (m === null) return [];
  const [all, num = "", words = "", streetWord = "", city, state, zip] = m;
  const street = ADDRESS_WORDS.get(streetWord);
  if (street === undefined) return [];
  const n =
    num.length === 4
      ? `${twoDigitWords(Number(num.slice(0, 2)))} ${twoDigitWords(Number(num.slice(2)))}`
      : `${twoDigitWords(Number(num[0]))} ${twoDigitWords(Number(num.slice(1)))}`;
  let spoken = `${n} ${words}${street}`;
  if (city !== undefined && state !== undefined && zip !== undefined) {
    const stateName = STATE_BY_CODE.get(state);
    if (stateName === undefined) return [];
    spoken += `${city}, ${stateName} ${singleDigits(zip)}`;
  } else if (all.includes(",")) {
    return [];
  }
  return [{ end: start + all.length, out: spoken }];
}
