/**
 * Exact non-negative rational numbers (BigInt numerator / denominator) for the cost model. Money never goes through
 * a float: inputs are parsed from their decimal text, every step is exact, and a result is rounded once, half up, to
 * integer micro-units (`toMicros`) with the same rounding as billing (`divRoundHalfUp`).
 */
import { divRoundHalfUp } from "../../../billing/src/rating/rate.ts";

const gcd = (a: bigint, b: bigint): bigint => {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
};

export class Q {
  private constructor(
    readonly n: bigint,
    readonly d: bigint,
  ) {}

  static of(n: bigint | number, d: bigint | number = 1n): Q {
    const nn = BigInt(n);
    const dd = BigInt(d);
    if (dd <= 0n) throw new RangeError("denominator must be > 0");
    if (nn < 0n) throw new RangeError("only non-negative rationals are used here");
    const g = gcd(nn, dd) || 1n;
    return new Q(nn / g, dd / g);
  }

  /** "12000", "0.15", "1.5e3" → exact. Rejects negatives, NaN and anything that is not a plain decimal. */
  static parse(text: string): Q {
    const s = text.trim();
    const m = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(s);
    if (!m) throw new RangeError(`not a non-negative decimal number: "${text}"`);
    const frac = m[2] ?? "";
    const exp = Number(m[3] ?? "0") - frac.length;
    const digits = BigInt(`${m[1]}${frac}`);
    return exp >= 0 ? Q.of(digits * 10n ** BigInt(exp)) : Q.of(digits, 10n ** BigInt(-exp));
  }

  /** A measured float (not money), kept to `digits` decimals. */
  static fromMeasured(x: number, digits = 6): Q {
    if (!Number.isFinite(x) || x < 0) throw new RangeError(`a measurement must be a finite number ≥ 0, got ${x}`);
    return Q.parse(x.toFixed(digits));
  }

  add(o: Q): Q {
    return Q.of(this.n * o.d + o.n * this.d, this.d * o.d);
  }
  sub(o: Q): Q {
    return Q.of(this.n * o.d - o.n * this.d, this.d * o.d);
  }
  mul(o: Q | number | bigint): Q {
    const q = o instanceof Q ? o : Q.of(o);
    return Q.of(this.n * q.n, this.d * q.d);
  }
  div(o: Q | number | bigint): Q {
    const q = o instanceof Q ? o : Q.of(o);
    if (q.n === 0n) throw new RangeError("division by zero");
    return Q.of(this.n * q.d, this.d * q.n);
  }
  cmp(o: Q): number {
    const l = this.n * o.d;
    const r = o.n * this.d;
    return l < r ? -1 : l > r ? 1 : 0;
  }
  isZero(): boolean {
    return this.n === 0n;
  }

  /** round(x), half up */
  round(): bigint {
    return divRoundHalfUp(this.n, this.d);
  }
  /** this amount of currency in integer micro-units, rounded half up once */
  toMicros(): bigint {
    return divRoundHalfUp(this.n * 1_000_000n, this.d);
  }
  /** decimal text with `digits` decimals, rounded half up */
  toFixed(digits: number): string {
    const scaled = divRoundHalfUp(this.n * 10n ** BigInt(digits), this.d).toString();
    if (digits === 0) return scaled;
    const padded = scaled.padStart(digits + 1, "0");
    return `${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
  }
  /** for charts and ratios only, never for money */
  toNumber(): number {
    return Number(this.n) / Number(this.d);
  }
}

/** Integer micro-units → decimal text with `digits` decimals (half up), e.g. 139_589n, 4 → "0.1396". */
export function microsToText(micros: bigint, digits: number): string {
  return Q.of(micros, 1_000_000n).toFixed(digits);
}
