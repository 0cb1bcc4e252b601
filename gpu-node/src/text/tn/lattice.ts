/**
 * The search WeTextProcessing's FST does, without the FST: every rule proposes the spans it can read at a position
 * (with the rule's weight and its spoken form), and the cheapest way to cover the whole text wins, as pynini's
 * `shortestpath` over `(rule₁ | rule₂ | …)*` does. The grammars are small and the texts short (≤ a few thousand
 * characters), so a right-to-left dynamic programme over positions is enough.
 *
 * Why not an npm FST library: none reads the grammars WeTextProcessing builds with pynini (they are Python code), so
 * the grammar has to be re-written either way; a plain DP keeps it readable.
 */

/** One reading of `text[start, end)`: its spoken form and its weight (lower wins). */
export interface Candidate {
  readonly end: number;
  readonly weight: number;
  readonly out: string;
}

/** A rule: every reading it has for a span starting at `start`. */
export type Rule = (text: string, start: number) => Candidate[];

export interface Token {
  readonly start: number;
  readonly end: number;
  readonly out: string;
}

/**
 * The cheapest cover of `text` by the rules' candidates; on a tie the candidate proposed first wins.
 * Throws if some position has no candidate (the rules must include a one-character fallback).
 */
export function cheapestPath(text: string, rules: readonly Rule[]): Token[] {
  const n = text.length;
  const cost = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
  const choice: (Candidate | undefined)[] = new Array(n + 1);
  cost[n] = 0;
  for (let i = n - 1; i >= 0; i--) {
    for (const rule of rules) {
      for (const c of rule(text, i)) {
        if (c.end <= i || c.end > n) continue;
        const total = c.weight + (cost[c.end] as number);
        if (total < (cost[i] as number) - 1e-9) {
          cost[i] = total;
          choice[i] = c;
        }
      }
    }
    if (choice[i] === undefined) throw new Error(`no reading for ${JSON.stringify(text.slice(i, i + 8))}`);
  }
  const tokens: Token[] = [];
  for (let i = 0; i < n; ) {
    const c = choice[i] as Candidate;
    tokens.push({ start: i, end: c.end, out: c.out });
    i = c.end;
  }
  return tokens;
}

/** Entries of a word list found at a position, longest first (a prefix index over the list). */
export class WordList {
  private readonly byFirst = new Map<string, Array<readonly [string, string]>>();

  constructor(rows: ReadonlyArray<readonly [string, string]>) {
    for (const row of rows) {
      const key = row[0].charAt(0);
      const list = this.byFirst.get(key) ?? [];
      list.push(row);
      this.byFirst.set(key, list);
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b[0].length - a[0].length);
  }

  /** Every `[written, spoken]` whose written form starts at `text[start]`. */
  matches(text: string, start: number): Array<readonly [string, string]> {
    const list = this.byFirst.get(text.charAt(start));
    if (list === undefined) return [];
    return list.filter(([w]) => text.startsWith(w, start));
  }

  get(written: string): string | undefined {
    return this.byFirst.get(written.charAt(0))?.find(([w]) => w === written)?.[1];
  }
}
