/**
 * Money at the boundary with Stripe. Inside the product every amount is an integer count of micro-units (1 USD =
 * 1,000,000 micros); Stripe takes integers in the currency's minor unit (cents for USD, yen for JPY, fils for KWD),
 * and for some currencies only multiples of a step (three-decimal currencies: the last digit must be 0; ISK: whole
 * krónur, i.e. multiples of 100 of its two-decimal minor unit).
 *
 * A ledger total is generally not a whole number of chargeable steps (2.34567 USD). Nothing here rounds money away:
 * `apportion` bills the largest whole number of steps and returns the remainder, which the reconciler carries into
 * the customer's next period. Over any run of periods, billed + final remainder = ledger, to the micro-unit.
 */

export const MICROS_PER_UNIT = 1_000_000;

/** Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal). */
const ZERO_DECIMAL = new Set([
  "BIF",
  "CLP",
  "DJF",
  "GNF",
  "JPY",
  "KMF",
  "KRW",
  "MGA",
  "PYG",
  "RWF",
  "UGX",
  "VND",
  "VUV",
  "XAF",
  "XOF",
  "XPF",
]);
/** Three-decimal currencies: amounts are in thousandths, and must be multiples of 10 (rounded to the nearest ten). */
const THREE_DECIMAL = new Set(["BHD", "JOD", "KWD", "OMR", "TND"]);
/** Two-decimal in the API but charged in whole units only: amounts must be multiples of 100. */
const WHOLE_UNITS_ONLY = new Set(["ISK"]);

export interface CurrencyRules {
  /** ISO 4217, upper case. */
  code: string;
  /** Minor units per major unit as Stripe counts them: 100 (USD), 1 (JPY), 1000 (KWD). */
  minorPerUnit: number;
  /** Micro-units per Stripe minor unit: 10,000 (USD), 1,000,000 (JPY), 1,000 (KWD). */
  microsPerMinor: number;
  /** Minor units per chargeable step: 1 (USD, JPY), 10 (KWD), 100 (ISK). */
  minorStep: number;
  /** Micro-units per chargeable step: the granularity every invoice amount must have. */
  microsPerStep: number;
}

export function currencyRules(currency: string): CurrencyRules {
  const code = currency.toUpperCase();
  if (!/^[A-Z]{3}$/.test(code)) throw new RangeError(`not an ISO 4217 currency code: ${currency}`);
  const minorPerUnit = ZERO_DECIMAL.has(code) ? 1 : THREE_DECIMAL.has(code) ? 1000 : 100;
  const minorStep = THREE_DECIMAL.has(code) ? 10 : WHOLE_UNITS_ONLY.has(code) ? 100 : 1;
  const microsPerMinor = MICROS_PER_UNIT / minorPerUnit;
  return { code, minorPerUnit, microsPerMinor, minorStep, microsPerStep: microsPerMinor * minorStep };
}

function assertMicros(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a safe integer of micro-units, got ${value}`);
}

/** Exact conversion of a micro amount that is a whole number of minor units; throws otherwise (never rounds). */
export function microsToMinor(micros: number, currency: string): number {
  assertMicros("micros", micros);
  const { microsPerMinor } = currencyRules(currency);
  if (micros % microsPerMinor !== 0) {
    throw new RangeError(`${micros} micros is not a whole number of ${currency} minor units`);
  }
  return micros / microsPerMinor;
}

export function minorToMicros(minor: number, currency: string): number {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`minor must be a safe integer, got ${minor}`);
  const micros = minor * currencyRules(currency).microsPerMinor;
  assertMicros("micros", micros);
  return micros;
}

export interface Apportioned {
  /** Per input line, in Stripe minor units; each a multiple of the currency's step. Sum = `totalMinor`. */
  linesMinor: number[];
  totalMinor: number;
  /** `totalMinor` in micros. */
  billedMicros: number;
  /** What could not be billed in whole steps (0 ≤ carryOut < microsPerStep); carried to the next period. */
  carryOutMicros: number;
}

/**
 * Splits `carryInMicros + Σ linesMicros` into whole chargeable steps per line, exactly. Line j gets
 * floor(S_j / step) − floor(S_{j−1} / step) steps, where S_j = carry-in + lines 1..j: so the lines sum to
 * floor(total / step) steps, each line is within one step of its own amount, and the remainder (< one step) is
 * returned, not lost. Deterministic: the same input always gives the same split.
 *
 * @example
 * apportion([12_345, 20_000], 0, "USD") // { linesMinor: [1, 2], totalMinor: 3, billedMicros: 30_000, carryOutMicros: 2_345 }
 */
export function apportion(linesMicros: readonly number[], carryInMicros: number, currency: string): Apportioned {
  const { microsPerStep, minorStep, microsPerMinor } = currencyRules(currency);
  assertMicros("carryInMicros", carryInMicros);
  if (carryInMicros < 0 || carryInMicros >= microsPerStep) {
    throw new RangeError(`carry-in must be in [0, ${microsPerStep}), got ${carryInMicros}`);
  }
  let running = carryInMicros;
  let stepsSoFar = 0;
  const linesMinor = linesMicros.map((micros) => {
    assertMicros("line", micros);
    if (micros < 0) throw new RangeError(`line amounts must be ≥ 0, got ${micros}`);
    running += micros;
    assertMicros("running total", running);
    const steps = Math.floor(running / microsPerStep);
    const line = (steps - stepsSoFar) * minorStep;
    stepsSoFar = steps;
    return line;
  });
  const totalMinor = stepsSoFar * minorStep;
  const billedMicros = totalMinor * microsPerMinor;
  return { linesMinor, totalMinor, billedMicros, carryOutMicros: running - billedMicros };
}

/** A micro amount as an exact decimal string in major units: 2_345 micros USD → "0.002345". */
export function formatMicros(micros: number): string {
  assertMicros("micros", micros);
  const sign = micros < 0 ? "-" : "";
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS_PER_UNIT);
  const frac = String(abs % MICROS_PER_UNIT)
    .padStart(6, "0")
    .replace(/0+$/, "");
  return `${sign}${whole}${frac ? `.${frac}` : ""}`;
}

/**
 * A micro amount as an exact decimal string in the currency's minor unit, for Stripe's `unit_amount_decimal`
 * (at most 12 decimals; micros give at most 6): 20_000 micros per unit of USD → "2" (cents), 15_001 → "1.5001".
 */
export function microsToMinorDecimal(micros: number, currency: string): string {
  assertMicros("micros", micros);
  if (micros < 0) throw new RangeError("negative price");
  const { microsPerMinor } = currencyRules(currency);
  const whole = Math.floor(micros / microsPerMinor);
  const rest = micros % microsPerMinor;
  if (rest === 0) return String(whole);
  const digits = String(microsPerMinor).length - 1; // microsPerMinor is a power of ten
  return `${whole}.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
}
