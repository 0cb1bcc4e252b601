/**
 * SentencePiece BPE (bpe_model.cc): characters, user-defined symbols frozen, merged pair by pair in score order;
 * UNUSED pieces merged through and split back. Shared piece tables, normaliser and id post-processing live in
 * spm-processor.ts.
 */
import { type ModelPiece, ModelType, PieceType } from "./spm-model-proto.ts";
import { type Segment, SentencePieceModel } from "./spm-processor.ts";

interface SymbolPair {
  left: number;
  right: number;
  score: number;
  size: number;
}

/** Max-heap on score; equal scores pop the leftmost pair first (bpe_model.cc: SymbolPairComparator). */
class PairQueue {
  private readonly heap: SymbolPair[] = [];

  private static before(a: SymbolPair, b: SymbolPair): boolean {
    return a.score > b.score || (a.score === b.score && a.left < b.left);
  }

  push(p: SymbolPair): void {
    const h = this.heap;
    h.push(p);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const up = h[parent] as SymbolPair;
      if (!PairQueue.before(p, up)) break;
      h[i] = up;
      i = parent;
    }
    h[i] = p;
  }

  pop(): SymbolPair | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && PairQueue.before(h[r] as SymbolPair, h[l] as SymbolPair) ? r : l;
      const c = h[child] as SymbolPair;
      if (!PairQueue.before(c, last)) break;
      h[i] = c;
      i = child;
    }
    h[i] = last;
    return top;
  }
}

/**
 * A loaded BPE model: `SentencePieceProcessor` for model_type=BPE.
 *
 * @example
 * const sp = new SentencePieceBpe(bytes);
 * sp.encode("HELLO 你 好"); // same ids as Python's sp.EncodeAsIds("HELLO 你 好")
 */
export class SentencePieceBpe extends SentencePieceModel {
  constructor(modelBytes: Uint8Array) {
    super(modelBytes, ModelType.BPE, "BPE");
  }

  /** bpe_model.cc: Model::SampleEncode with alpha = 0. Returns [piece, id] pairs. */
  protected segment(normalized: string): Segment[] {
    if (normalized === "") return [];
    const starts: number[] = [];
    const ends: number[] = [];
    const prev: number[] = [];
    const next: number[] = [];
    const freeze: boolean[] = [];

    // Split into characters; a user-defined symbol is one frozen symbol.
    for (let pos = 0; pos < normalized.length; ) {
      const user = this.matcher.matchString(normalized, pos);
      let len = user;
      if (len === 0) len = (normalized.codePointAt(pos) as number) > 0xffff ? 2 : 1;
      const index = starts.length;
      starts.push(pos);
      ends.push(pos + len);
      freeze.push(user > 0);
      prev.push(index - 1);
      pos += len;
      next.push(pos < normalized.length ? index + 1 : -1);
    }

    const agenda = new PairQueue();
    const revMerge = new Map<string, [string, string]>();
    const scores = this.model.pieces;
    const pieceOf = (i: number): string => normalized.slice(starts[i], ends[i]);
    const maybeAdd = (left: number, right: number): void => {
      if (left === -1 || right === -1 || freeze[left] || freeze[right]) return;
      const piece = normalized.slice(starts[left], ends[right]);
      const id = this.pieces.get(piece);
      if (id === undefined) return;
      const entry = scores[id] as ModelPiece;
      agenda.push({ left, right, score: entry.score, size: piece.length });
      if (entry.type === PieceType.UNUSED) revMerge.set(piece, [pieceOf(left), pieceOf(right)]);
    };

    for (let i = 1; i < starts.length; i++) maybeAdd(i - 1, i);

    for (let top = agenda.pop(); top !== undefined; top = agenda.pop()) {
      const { left, right } = top;
      const leftLen = (ends[left] as number) - (starts[left] as number);
      const rightLen = (ends[right] as number) - (starts[right] as number);
      // Stale: one side was merged away, or grew, since this pair was queued.
      if (leftLen === 0 || rightLen === 0 || leftLen + rightLen !== top.size) continue;
      ends[left] = ends[right] as number;
      const after = next[right] as number;
      next[left] = after;
      if (after >= 0) prev[after] = left;
      ends[right] = starts[right] as number;
      maybeAdd(prev[left] as number, left);
      maybeAdd(left, next[left] as number);
    }

    const output: Segment[] = [];
    const resegment = (piece: string): void => {
      const id = this.pieceToId(piece);
      const split = this.typeOf(id) === PieceType.UNUSED ? revMerge.get(piece) : undefined;
      if (split === undefined) {
        output.push([piece, id]);
        return;
      }
      resegment(split[0]);
      resegment(split[1]);
    };
    for (let i = 0; i !== -1; i = next[i] as number) resegment(pieceOf(i));
    return output;
  }
}
