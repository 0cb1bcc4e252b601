/**
 * A prefix trie over sequences of small integers (UTF-8 bytes or UTF-16 code units), the role Darts-clone's double
 * array plays in SentencePiece: longest-match for user-defined symbols, and the step-by-step walk the Unigram
 * Viterbi does over every piece. The real IndexTTS2 model has 12,000 pieces, 10,198 of them user-defined, so a
 * linear scan per character (what a list of keys would cost) is not an option.
 */
export class KeyTrie {
  /** children[node] maps a key unit to the child node; node 0 is the root. */
  private readonly children: Array<Map<number, number>> = [new Map()];
  /** values[node]: the value stored at the key ending at that node, or -1. */
  private readonly values: number[] = [-1];

  /** Stores `value` (≥ 0) under `key`; a later insert of the same key overwrites it. */
  insert(key: ArrayLike<number>, value: number): void {
    let node = 0;
    for (let i = 0; i < key.length; i++) {
      const unit = key[i] as number;
      const kids = this.children[node] as Map<number, number>;
      let next = kids.get(unit);
      if (next === undefined) {
        next = this.children.length;
        this.children.push(new Map());
        this.values.push(-1);
        kids.set(unit, next);
      }
      node = next;
    }
    this.values[node] = value;
  }

  /** The child of `node` along `unit`, or -1 (Darts' traverse returning -2). */
  step(node: number, unit: number): number {
    return this.children[node]?.get(unit) ?? -1;
  }

  /** The value at `node`, or -1 when no key ends there. */
  valueAt(node: number): number {
    return this.values[node] ?? -1;
  }

  /** Length of the longest key that prefixes `units[pos, end)`, or 0. */
  longestMatch(units: ArrayLike<number>, pos: number, end: number): number {
    let node = 0;
    let best = 0;
    for (let i = pos; i < end; i++) {
      node = this.step(node, units[i] as number);
      if (node < 0) break;
      if ((this.values[node] as number) >= 0) best = i + 1 - pos;
    }
    return best;
  }
}
