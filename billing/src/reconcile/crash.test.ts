import { afterEach, describe, expect, it } from "vitest";
import type { Stores } from "../../../proxy/src/store/ports.ts";
import { type Period, parsePeriod } from "../period.ts";
import type { BillingStores } from "../store/ports.ts";
import type { StripeGateway } from "../stripe/port.ts";
import { addCustomer, createWorld, seedPlans, type World } from "../testing/world.ts";
import { Reconciler } from "./reconciler.ts";

const JAN = parsePeriod("2026-01") as Period;
const sh = (iso: string) => Date.parse(`${iso}+08:00`);

/** Thrown at the chosen step; from then on the "process" is dead: every further write fails too. */
class Crash extends Error {}

interface Fuse {
  /** Writes done so far (Stripe calls and local writes). */
  writes: number;
  /** Die right after this write has taken effect (0: never). */
  crashAfter: number;
  dead: boolean;
  log: string[];
}

/** Wraps an object so that its writing methods count against the fuse, and the chosen one "crashes" after its effect. */
function fused<T extends object>(target: T, name: string, writes: readonly string[], fuse: Fuse): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver);
      if (typeof value !== "function") return value;
      if (!writes.includes(String(prop))) return value.bind(t);
      return async (...args: unknown[]) => {
        if (fuse.dead) throw new Crash("dead");
        const result = await value.apply(t, args);
        fuse.writes++;
        fuse.log.push(`${name}.${String(prop)}`);
        if (fuse.writes === fuse.crashAfter) {
          fuse.dead = true;
          throw new Crash(`crash after ${name}.${String(prop)}`);
        }
        return result;
      };
    },
  });
}

const STRIPE_WRITES = [
  "createCustomer",
  "createProduct",
  "createPrice",
  "createInvoice",
  "createInvoiceItem",
  "finalizeInvoice",
  "createSubscription",
  "updateSubscriptionPrice",
];

function crashingReconciler(w: World, fuse: Fuse): Reconciler {
  const billing: BillingStores = {
    usage: w.billing.usage,
    syncs: fused(w.billing.syncs, "syncs", ["create", "transition", "patch", "setLineItem"], fuse),
    catalog: fused(
      w.billing.catalog,
      "catalog",
      ["setProduct", "setPrice", "putSubscription", "setSubscriptionStatus"],
      fuse,
    ),
    webhooks: w.billing.webhooks,
    dunning: w.billing.dunning,
  };
  const customers: Stores["customers"] = fused(w.proxy.customers, "customers", ["update"], fuse);
  const stripe: StripeGateway = fused(w.gateway, "stripe", STRIPE_WRITES, fuse);
  return new Reconciler({ customers, plans: w.proxy.plans, billing, stripe, clock: w.clock, config: { settleMs: 0 } });
}

async function scenario(): Promise<World> {
  const w = await createWorld({ now: Date.UTC(2026, 0, 1) });
  await seedPlans(w.proxy.plans);
  await addCustomer(w.proxy, "cus_basic", "basic");
  await addCustomer(w.proxy, "cus_ent", "enterprise");
  await w.use("cus_basic", sh("2026-01-05T10:00:00"), 1_234); // peak 37,020
  await w.use("cus_basic", sh("2026-01-05T20:00:00"), 5_777); // off-peak 115,540 → 15 cents, 2,560 carried
  await w.use("cus_ent", sh("2026-01-07T11:00:00"), 1_200_000); // 200,000 overage → 200 cents
  w.clock.set(Date.UTC(2026, 1, 1));
  return w;
}

const EXPECTED_TOTALS: Record<string, number> = { cus_basic: 15, cus_ent: 200 };
const EXPECTED_LINES: Record<string, number> = { cus_basic: 2, cus_ent: 2 };

/** The invariants after any crash and one clean re-run: exactly one correct invoice per customer and period. */
async function assertExactlyOneCorrectInvoice(w: World, label: string) {
  const report = await w.reconciler().reconcile(JAN);
  expect(report.ok, `${label}: ${JSON.stringify(report.customers.map((c) => [c.customer_id, c.state, c.error]))}`).toBe(
    true,
  );
  const state = w.stripe.state;
  for (const [customerId, total] of Object.entries(EXPECTED_TOTALS)) {
    const invoices = [...state.invoices.values()].filter((i) => i.metadata.billing_key === `${customerId}:2026-01`);
    expect(invoices.length, `${label}: invoices of ${customerId}`).toBe(1);
    const invoice = invoices[0];
    expect(invoice?.status, label).toBe("open");
    expect(invoice?.total, label).toBe(total);
    expect(state.itemsOf(invoice?.id ?? "").length, `${label}: lines of ${customerId}`).toBe(
      EXPECTED_LINES[customerId],
    );
    const stripeCustomers = [...state.customers.values()].filter((c) => c.metadata.customer_id === customerId);
    expect(stripeCustomers.length, `${label}: Stripe customers of ${customerId}`).toBe(1);
  }
  // Nothing left pending to be swept into some later invoice, and one fee subscription.
  expect(
    [...state.invoiceItems.values()].filter((i) => i.invoice === null),
    label,
  ).toEqual([]);
  expect([...state.subscriptions.values()].filter((s) => s.status !== "canceled").length, label).toBe(1);
  return report;
}

describe("crash injection: stop the reconciler at each step in turn, re-run, exactly one correct invoice", () => {
  let w: World | null = null;
  afterEach(async () => {
    await w?.close();
    w = null;
  });

  it("counts the steps of a clean run (the crash points)", async () => {
    w = await scenario();
    const fuse: Fuse = { writes: 0, crashAfter: 0, dead: false, log: [] };
    const report = await crashingReconciler(w, fuse).reconcile(JAN);
    expect(report.ok).toBe(true);
    // Every kind of step is a crash point: Stripe calls and the local writes that record them.
    for (const step of [
      "stripe.createProduct",
      "catalog.setProduct",
      "stripe.createPrice",
      "catalog.setPrice",
      "stripe.createCustomer",
      "customers.update",
      "stripe.createSubscription",
      "catalog.putSubscription",
      "syncs.create",
      "stripe.createInvoice",
      "syncs.transition",
      "stripe.createInvoiceItem",
      "syncs.setLineItem",
      "stripe.finalizeInvoice",
    ]) {
      expect(fuse.log).toContain(step);
    }
    expect(fuse.writes).toBeGreaterThan(30);
  });

  for (const prune of [false, true]) {
    it(prune
      ? "… even when Stripe has forgotten the idempotency keys by the re-run (objects are found by metadata)"
      : "after every step, with Stripe's stored idempotent results", async () => {
      const clean = await scenario();
      const counter: Fuse = { writes: 0, crashAfter: 0, dead: false, log: [] };
      await crashingReconciler(clean, counter).reconcile(JAN);
      await clean.close();
      const steps = counter.writes;
      for (let n = 1; n <= steps; n++) {
        w = await scenario();
        const fuse: Fuse = { writes: 0, crashAfter: n, dead: false, log: [] };
        await crashingReconciler(w, fuse).reconcile(JAN);
        expect(fuse.dead, `step ${n} was reached`).toBe(true);
        if (prune) w.stripe.pruneIdempotencyKeys();
        const label = `crash after step ${n} (${fuse.log.at(-1)})${prune ? ", keys pruned" : ""}`;
        await assertExactlyOneCorrectInvoice(w, label);
        // And a further run changes nothing at all.
        const mutations = w.stripe.mutations().length;
        await w.reconciler().reconcile(JAN);
        expect(w.stripe.mutations().length, label).toBe(mutations);
        await w.close();
        w = null;
      }
    }, 240_000);
  }

  it("a response lost in transit is retried by the SDK under the same key and Stripe replays it", async () => {
    w = await scenario();
    const world = w;
    world.stripe.injectFault("POST", /^\/v1\/invoices$/, { times: 1 });
    world.stripe.injectFault("POST", /^\/v1\/invoiceitems$/, { times: 2 });
    const { SdkStripeGateway } = await import("../stripe/sdk-gateway.ts");
    const retrying = new SdkStripeGateway(world.stripe.client({ maxNetworkRetries: 3 }));
    const report = await world.reconciler({ gateway: retrying }).reconcile(JAN);
    expect(report.ok).toBe(true);
    expect(world.stripe.requests.filter((r) => r.replayed).length).toBeGreaterThanOrEqual(3);
    await assertExactlyOneCorrectInvoice(world, "lost responses");
  });
});
