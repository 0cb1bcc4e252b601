import { formatMicros } from "../../../domain/money.ts";

/** An integer micro amount for people: "12.34 USD" (down to the micro-unit when smaller than a cent). */
export function money(micros: number, currency: string): string {
  const exact = formatMicros(micros);
  const [whole, frac = ""] = exact.split(".");
  const shown = frac.length <= 2 ? `${whole}.${frac.padEnd(2, "0")}` : exact;
  return `${shown} ${currency}`;
}

export const int = (n: number): string => Math.round(n).toLocaleString("en-US");

/** "2026-01-05 14:03 UTC", or an em dash for null. */
export function when(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** A value for a CSV cell: quoted when it holds a separator, quote or line break; formula starts neutralised. */
export function csvCell(value: string | number | boolean): string {
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s) && typeof value === "string") s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
