/**
 * WeTextProcessing's English `Telephone` (tn/english/rules/telephone.py): "+1 123-123-5678-1" → "plus one, one two
 * three, one two three, five six seven eight, one"; 800 numbers with letters; IP addresses ("dot").
 */
import type { Reading } from "./common.ts";
import { digitWord } from "./number.ts";

const say = (d: string): string => (d === "0" ? "zero" : digitWord(Number(d)));
const sayDigits = (ds: string): string => Array.from(ds, say).join(" ");

/** The seven-character number part: digits said one by one, letters kept, "-"/"." → ", " after digits. */
function numberWords(body: string): string {
  let out = "";
  for (let k = 0; k < body.length; k++) {
    const c = body.charAt(k);
    if (/\d/.test(c)) {
      out += say(c);
      const next = body.charAt(k + 1);
      if (next === "-" || next === ".") {
        out += ", ";
        k++;
      } else if (next !== "") out += " ";
    } else if (/[A-Za-z]/.test(c)) {
      out += c;
      const next = body.charAt(k + 1);
      if (next === "-" || next === ".") {
        out += " ";
        k++;
      }
    }
  }
  return out.trim();
}

const PHONE_RE =
  /(?:(\+)?(\d{1,3})-? ?)??(?:(\d{3})[-.]|\((\d{3})\)(?: |-)?)((?:[0-9A-Za-z][-.]?){6}[0-9A-Za-z])([-.])?(\d{1,4})?(?![0-9A-Za-z])/y;

export function telephone(text: string, start: number): Reading[] {
  const out: Reading[] = [];
  PHONE_RE.lastIndex = start;
  const m = PHONE_RE.exec(text);
  if (m !== null) {
    const [all, plus, country, area1, area2, body = "", trailingSep, ext] = m;
    const area = (area1 ?? area2 ?? "") as string;
    const parts: string[] = [];
    if (country !== undefined) parts.push(`${plus === undefined ? "" : "plus "}${sayDigits(country)},`);
    parts.push(`${area === "800" ? "eight hundred" : sayDigits(area)},`);
    let number = numberWords(body);
    if (ext !== undefined) number += trailingSep !== undefined ? "," : "";
    parts.push(number);
    if (ext !== undefined) parts.push(sayDigits(ext));
    if (ext !== undefined || trailingSep === undefined) out.push({ end: start + all.length, out: parts.join(" ") });
  }
  const ip = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?!\d)/y;
  ip.lastIndex = start;
  const i = ip.exec(text);
  if (i !== null) out.push({ end: start + i[0].length, out: i.slice(1, 5).map(sayDigits).join(" dot ") });
  return out;
}
