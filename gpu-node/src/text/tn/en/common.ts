/**
 * What WeTextProcessing's English rules share: their weights in the tagger union (tn/english/normalizer.py), the
 * word lists as lookups, and small span helpers.
 */
import { WordList } from "../lattice.ts";
import * as D from "./data.generated.ts";

export const W = {
  cardinal: 1.0,
  ordinal: 1.0,
  word: 100,
  date: 0.99,
  decimal: 1.0,
  fraction: 0.99,
  time: 1.0,
  measure: 1.0,
  money: 1.0,
  telephone: 1.0,
  electronic: 1.0,
  serial: 1.01,
  whitelist: 1.0,
  range: 1.0,
  punct: 2.0,
} as const;

/** A reading of text[start, end) by one rule (weights inside the rule added to the rule's own). */
export interface Reading {
  readonly end: number;
  readonly out: string;
  readonly weight?: number;
}

export const SUPPLETIVE = new Map(D.SUPPLETIVE.map(([s, p]) => [s, p]));
export const UNITS = new WordList([...D.UNIT, ...D.UNIT_ALTERNATIVES]);
export const CURRENCY = new WordList(D.CURRENCY_MAJOR);
export const MONTHS = new WordList([...D.MONTH_NAME, ...D.MONTH_ABBR]);
export const MONTH_NUMBER = new Map(D.MONTH_NUMBER.map(([n, m]) => [n, m]));
export const QUANTITIES = new Set(D.THOUSAND.map(([q]) => q));
export const QUANTITY_ABBR = new Map(D.QUANTITY_ABBR.map(([a, q]) => [a, q]));

/** The digits (and thousands commas) starting at `i`: "1,000" counts when the commas group by three. */
export function numberAt(text: string, i: number, commas = true): string {
  const m = commas ? /\d{1,3}(?:,\d{3})+(?!\d)|\d+/y : /\d+/y;
  m.lastIndex = i;
  return m.exec(text)?.[0] ?? "";
}

/** `delete(" ").ques`: the position, and the one after a space. */
export const optSpace = (text: string, i: number): number[] => (text.charAt(i) === " " ? [i, i + 1] : [i]);

/** `augment_labels_with_punct_at_end`: each label also with a trailing "." (tn/utils.py). */
export const withPunctAtEnd = (rows: ReadonlyArray<readonly [string, string]>): Array<readonly [string, string]> => [
  ...rows,
  ...rows.filter(([w]) => !w.endsWith(".")).map(([w, s]) => [`${w}.`, s] as const),
];
