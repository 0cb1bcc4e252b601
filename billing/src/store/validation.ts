import { PERIOD_RE } from "../period.ts";
import type { NewInvoiceSync, StripePriceRole } from "./ports.ts";

export const PRICE_ROLE_ORDER: Record<StripePriceRole, number> = { offpeak: 0, peak: 1, batch: 2, overage: 3, fee: 4 };

/** Rejects a sync row that would break the money invariants (the SQLite CHECKs say the same). */
export function assertValidSync(sync: NewInvoiceSync): void {
  if (!PERIOD_RE.test(sync.period)) throw new RangeError(`bad period ${sync.period}`);
  const amounts = {
    ledgerMicros: sync.ledgerMicros,
    carryInMicros: sync.carryInMicros,
    carryOutMicros: sync.carryOutMicros,
    billedMicros: sync.billedMicros,
    totalMinor: sync.totalMinor,
    events: sync.events,
    tokens: sync.tokens,
  };
  for (const [name, value] of Object.entries(amounts)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer`);
  }
  if (sync.billedMicros + sync.carryOutMicros !== sync.ledgerMicros + sync.carryInMicros) {
    throw new RangeError("billed + carry-out must equal ledger + carry-in");
  }
}
