/**
 * WeTextProcessing's smaller English rules: `WhiteList` (abbreviations, symbols, U.S.A.-style initials, "City, ST"),
 * `Electronic` (e-mail addresses and domains), `Serial` (letters mixed with digits), `Range` (2-3, Mon.-Sun., 1990-95,
 * 10%-20%, No. 12) and `Roman` (tested on its own upstream, not part of the normaliser's union).
 */
import { WordList } from "../lattice.ts";
import { numberAt, type Reading, withPunctAtEnd } from "./common.ts";
import * as D from "./data.generated.ts";
import { year } from "./date.ts";
import { cardinalWithAnd, digitWord, plainCardinal, singleDigits } from "./number.ts";
import { time } from "./time.ts";

const TTS = new WordList(D.WHITELIST_TTS);
const ALTERNATIVES = new WordList(withPunctAtEnd(D.WHITELIST_ALTERNATIVES));
const SYMBOLS = new WordList(D.WHITELIST_SYMBOL);
const STATES = new Map<string, string>();
for (const [name, code] of D.STATE) {
  STATES.set(code, name);
  STATES.set(`${code[0]}.${code.slice(1)}`, name);
}

export function whitelist(text: string, start: number): Reading[] {
  const out: Reading[] = [];
  for (const [w, s] of TTS.matches(text, start)) out.push({ end: start + w.length, out: s });
  for (const [w, s] of ALTERNATIVES.matches(text, start)) out.push({ end: start + w.length, out: s });
  for (const [w, s] of SYMBOLS.matches(text, start)) out.push({ end: start + w.length, out: s });
  for (const sep of [".", ". "]) {
    const esc = sep.replace(".", "\\.");
    const re = new RegExp(`[A-Z](?:${esc}[A-Z]){2,}\\.?`, "y");
    re.lastIndex = start;
    const m = re.exec(text)?.[0];
    if (m !== undefined) out.push({ end: start + m.length, out: m.replace(/[. ]/g, "") });
  }
  const state = /([A-Za-z]+)(, ?)([A-Z]\.?[A-Z])/y;
  state.lastIndex = start;
  const s = state.exec(text);
  if (s !== null) {
    const name = STATES.get(s[3] as string);
    if (name !== undefined) out.push({ end: start + s[0].length, out: `${s[1]}${s[2]}${name}` });
  }
  return out;
}

const DOMAINS = new WordList(D.DOMAIN);
const E_SYMBOLS = new Map(D.ELECTRONIC_SYMBOL.map(([s, w]) => [s, w]));

/** Letters kept, digits and symbols said one by one, a known domain ending said as listed. */
function sayElectronic(s: string): string {
  const words: string[] = [];
  let i = 0;
  while (i < s.length) {
    const domain = DOMAINS.matches(s, i).find(
      ([w]) => i + w.length === s.length || !/[A-Za-z]/.test(s.charAt(i + w.length)),
    );
    if (domain !== undefined) {
      words.push(domain[1]);
      i += domain[0].length;
      continue;
    }
    const c = s.charAt(i);
    if (/[A-Za-z]/.test(c)) {
      const run = /[A-Za-z]+/y;
      run.lastIndex = i;
      const r = run.exec(s)?.[0] as string;
      words.push(r);
      i += r.length;
    } else if (/\d/.test(c)) {
      words.push(c === "0" ? "zero" : digitWord(Number(c)));
      i++;
    } else {
      words.push(E_SYMBOLS.get(c) ?? c);
      i++;
    }
  }
  return words.join(" ");
}

export function electronic(text: string, start: number): Reading[] {
  const out: Reading[] = [];
  const email = /([A-Za-z][A-Za-z0-9._-]*)@([A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]+)/y;
  email.lastIndex = start;
  const m = email.exec(text);
  if (m !== null)
    out.push({ end: start + m[0].length, out: `${sayElectronic(m[1] as string)} at ${sayElectronic(m[2] as string)}` });
  const url = /(?:(https?):\/\/)?((?:www\.)?[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+)(\/[A-Za-z0-9/._-]*)?/y;
  url.lastIndex = start;
  const u = url.exec(text);
  if (
    u !== null &&
    (u[1] !== undefined || DOMAINS.matches(u[2] as string, (u[2] as string).lastIndexOf(".")).length > 0)
  ) {
    const protocol = u[1] === undefined ? "" : `${u[1].toUpperCase()} colon slash slash `;
    const host = (u[2] as string).replace(/^www\./, "WWW dot ");
    const hostSpoken = host.startsWith("WWW dot ") ? `WWW dot ${sayElectronic(host.slice(8))}` : sayElectronic(host);
    out.push({
      end: start + u[0].length,
      out: `${protocol}${hostSpoken}${u[3] === undefined ? "" : ` ${sayElectronic(u[3])}`}`,
    });
  }
  return out;
}

/** Serial: letters and digits mixed ("B2", "cdf1", "GPT-4"): digits said as a number (six or more: one by one). */
export function serial(text: string, start: number): Reading[] {
  const re = /[A-Za-z0-9]+(?:[-/][A-Za-z0-9]+)*/y;
  re.lastIndex = start;
  const m = re.exec(text)?.[0];
  if (m === undefined || m.length < 2 || !/\d/.test(m) || !/[A-Za-z]/.test(m)) return [];
  if (/^\d+(st|nd|rd|th)$/i.test(m)) return [];
  const parts = m.match(/[A-Za-z]+|\d+|[-/]/g) ?? [];
  let spoken = "";
  let prev = "";
  for (const p of parts) {
    let w: string;
    if (/^\d+$/.test(p)) w = p.length >= 6 || p.startsWith("0") ? singleDigits(p) : (plainCardinal(p) as string);
    else w = p;
    const glue = prev === "" || p === "-" || p === "/" || prev === "-" || prev === "/" ? "" : " ";
    spoken += glue + w;
    prev = p;
  }
  return [{ end: start + m.length, out: spoken }];
}

const WEEK = new WordList(D.WEEK);

export function range(text: string, start: number): Reading[] {
  if (!/[\d~A-Za-z]/.test(text.charAt(start))) return []; // a number, "~", a weekday or "No." first
  const out: Reading[] = [];
  const skip = (i: number): number => (text.charAt(i) === " " ? i + 1 : i);
  const a = numberAt(text, start);
  const aw = a === "" ? undefined : cardinalWithAnd(a);
  if (aw !== undefined) {
    const i = start + a.length;
    // cardinal - cardinal, cardinal + cardinal, cardinal ... cardinal, 10%-20%
    const pct = text.charAt(i) === "%" ? 1 : 0;
    for (const [sep, word] of [
      ["-", "to"],
      ["+", "plus"],
      [" + ", "plus"],
      ["...", "..."],
      [" ... ", "..."],
      [" to ", "to"],
      [" - ", "to"],
      [":", "to"],
    ] as const) {
      for (const j0 of [i, i + pct]) {
        const j = sep === "-" ? skip(j0) : j0;
        if (!text.startsWith(sep, j)) continue;
        const k = sep === "-" ? skip(j + 1) : j + sep.length;
        const b = numberAt(text, k);
        const bw = b === "" ? undefined : cardinalWithAnd(b);
        if (bw === undefined) continue;
        const end = k + b.length;
        if (text.charAt(end) === "%" && (sep === "-" || sep === " to " || sep === " - ")) {
          out.push({ end: end + 1, out: `${aw} ${word} ${bw} percent` });
        }
        // " to " only joins percentages ("10% to 20%"), not bare numbers
        if (j0 === i && sep !== " to ") out.push({ end, out: `${aw} ${word} ${bw}` });
      }
    }
  }
  if (text.charAt(start) === "~") {
    for (const t of time(text, start + 1)) out.push({ end: t.end, out: `approximately ${t.out}` });
    const n = numberAt(text, start + 1);
    const nw = n === "" ? undefined : cardinalWithAnd(n);
    if (nw !== undefined) out.push({ end: start + 1 + n.length, out: `approximately ${nw}` });
  }
  for (const t of time(text, start)) {
    const j = skip(t.end);
    if (text.charAt(j) !== "-") continue;
    for (const u of time(text, skip(j + 1))) out.push({ end: u.end, out: `${t.out} to ${u.out}` });
  }
  for (const [w, day] of WEEK.matches(text, start)) {
    const j = skip(start + w.length);
    const sep = text.charAt(j);
    if (sep !== "-" && sep !== "~") continue;
    for (const [w2, day2] of WEEK.matches(text, skip(j + 1))) {
      out.push({ end: skip(j + 1) + w2.length, out: `${day} ${sep === "-" ? "to" : "approximately"} ${day2}` });
    }
  }
  for (const y of year(text, start)) {
    if (!/^\d{4}s?$/.test(text.slice(start, y.end))) continue;
    const j = skip(y.end);
    if (text.charAt(j) !== "-") continue;
    const k = skip(j + 1);
    for (const y2 of year(text, k))
      if (/^\d{4}s?$/.test(text.slice(k, y2.end))) out.push({ end: y2.end, out: `${y.out} to ${y2.out}` });
    const two = /\d{2}(?!\d)/y;
    two.lastIndex = k;
    const t = two.exec(text)?.[0];
    if (t !== undefined) out.push({ end: k + 2, out: `${y.out} to ${cardinalWithAnd(String(Number(t)))}` });
  }
  const no = /(NO|No|no)(\. | )?(\d+)/y;
  no.lastIndex = start;
  const nm = no.exec(text);
  if (nm !== null) {
    const nw = cardinalWithAnd(nm[3] as string);
    if (nw !== undefined) out.push({ end: start + nm[0].length, out: `${nm[1] === "no" ? "number" : "Number"} ${nw}` });
  }
  return out;
}

const ROMAN: Record<string, number> = { I: 1, V: 5, X: 10, L: 50, C: 100, D: 500, M: 1000 };

/** Roman numerals (tn/english/rules/roman.py's plain form): "IV" → "four". */
export function roman(text: string, start: number): Reading[] {
  const re = /M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})(?![A-Za-z])/y;
  re.lastIndex = start;
  const m = re.exec(text)?.[0];
  if (m === undefined || m === "") return [];
  let v = 0;
  for (let k = 0; k < m.length; k++) {
    const a = ROMAN[m.charAt(k)] as number;
    const b = ROMAN[m.charAt(k + 1)] ?? 0;
    v += a < b ? -a : a;
  }
  return [{ end: start + m.length, out: plainCardinal(String(v)) as string }];
}
