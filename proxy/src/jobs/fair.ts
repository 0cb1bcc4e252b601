/**
 * Fair claiming across customers: which due items a claim takes, so that one customer's 10,000-item job cannot
 * starve the others. Every JobStore applies this same rule (memory here; SQLite and D1 in SQL,
 * ../adapters/sqlite/fair-claim.ts), and the contract suite (./queue.contract.ts) holds them to it.
 *
 * - Each customer's own due items go oldest first (`available_at`, then job id, then n): FIFO within a customer.
 * - Customers take turns, round-robin: the claim takes every waiting customer's first item, then every one's second,
 *   and so on; within a round, the customer served least recently goes first (its unfinished jobs' highest
 *   `served_seq`; 0 = not served since its oldest unfinished job was created), ties by the item's age.
 * - After the claim, every claimed job gets `served_seq = base + k`, where base is the highest `served_seq` of any
 *   unfinished job before the claim and k the number of items its customer got in this claim. So the next claim
 *   starts with the customers this one did not reach, then those it gave fewer items (a round cut short by `limit`).
 */

export interface FairCandidate {
  jobId: string;
  n: number;
  availableAt: number;
  customerId: string;
  /** the customer's last service: the highest `served_seq` of its unfinished jobs */
  customerSeq: number;
}

/** The claim's items in claim order: `limit` of `due`, which holds (at least) each due job's first `limit` items. */
export function fairOrder<T extends FairCandidate>(due: readonly T[], limit: number): T[] {
  const byCustomer = new Map<string, T[]>();
  for (const c of due) {
    const list = byCustomer.get(c.customerId);
    if (list) list.push(c);
    else byCustomer.set(c.customerId, [c]);
  }
  const ranked: { c: T; r: number }[] = [];
  for (const list of byCustomer.values()) {
    list.sort(itemOrder);
    list.forEach((c, i) => {
      ranked.push({ c, r: i + 1 });
    });
  }
  ranked.sort((a, b) => a.r - b.r || a.c.customerSeq - b.c.customerSeq || itemOrder(a.c, b.c));
  return ranked.slice(0, Math.max(0, limit)).map(({ c }) => c);
}

/** The `served_seq` each claimed job gets (see the rule above); `base` is the highest one before the claim. */
export function servedSeqs(claimed: readonly Pick<FairCandidate, "jobId" | "customerId">[], base: number) {
  const perCustomer = new Map<string, number>();
  for (const c of claimed) perCustomer.set(c.customerId, (perCustomer.get(c.customerId) ?? 0) + 1);
  const seqs = new Map<string, number>();
  for (const c of claimed) seqs.set(c.jobId, base + (perCustomer.get(c.customerId) ?? 0));
  return seqs;
}

function itemOrder(a: FairCandidate, b: FairCandidate): number {
  return a.availableAt - b.availableAt || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0) || a.n - b.n;
}
