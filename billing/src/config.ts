import { z } from "zod";
import { type BillingConfig, type BillingDeps, BillingService, defaultBillingConfig } from "./service.ts";
import { createStripeClient, SdkStripeGateway, type StripeConnection } from "./stripe/sdk-gateway.ts";

/**
 * Billing's configuration from environment variables, for every entry (Node proxy, Workers, CLI). Runtime-neutral:
 * the caller passes its environment (`process.env`, the Worker's `env`).
 */
/** An unset variable and an empty one mean the same. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

export const billingEnvSchema = z.object({
  /** Stripe secret key; without it billing runs without Stripe (portal and reconcile answer "not configured"). */
  STRIPE_SECRET_KEY: unsetIfEmpty(z.string().min(1)),
  /** Another Stripe API base, e.g. the local test server: http://127.0.0.1:12111 (host, port and protocol of it). */
  STRIPE_API_BASE: unsetIfEmpty(z.url()),
  STRIPE_WEBHOOK_SECRET: unsetIfEmpty(z.string().min(1)),
  STRIPE_PORTAL_RETURN_URL: unsetIfEmpty(z.url()),
  BILLING_GRACE_PERIOD_HOURS: z.coerce.number().nonnegative().default(72),
  BILLING_SETTLE_MINUTES: z.coerce.number().nonnegative().default(15),
  /** How often the Node entry runs the scheduled job (0: never). */
  BILLING_SCHEDULE_MINUTES: z.coerce.number().nonnegative().default(60),
  BILLING_COLLECTION_METHOD: z.enum(["charge_automatically", "send_invoice"]).default("charge_automatically"),
  BILLING_DAYS_UNTIL_DUE: z.coerce.number().int().positive().default(14),
  BILLING_KEY_PREFIX: z.string().min(1).max(64).default("billing:v1"),
});
export type BillingEnv = z.infer<typeof billingEnvSchema>;

export function parseBillingEnv(env: Record<string, string | undefined>): BillingEnv {
  const parsed = billingEnvSchema.safeParse(env);
  if (!parsed.success) throw new Error(`bad billing configuration: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** host/port/protocol for the SDK from STRIPE_API_BASE (api.stripe.com when unset). */
export function stripeConnection(env: BillingEnv): StripeConnection | null {
  if (!env.STRIPE_SECRET_KEY) return null;
  if (!env.STRIPE_API_BASE) return { secretKey: env.STRIPE_SECRET_KEY };
  const url = new URL(env.STRIPE_API_BASE);
  const protocol = url.protocol === "http:" ? "http" : "https";
  return {
    secretKey: env.STRIPE_SECRET_KEY,
    host: url.hostname,
    port: url.port ? Number(url.port) : protocol === "http" ? 80 : 443,
    protocol,
  };
}

export function billingConfig(env: BillingEnv): BillingConfig {
  return defaultBillingConfig({
    settleMs: env.BILLING_SETTLE_MINUTES * 60_000,
    collectionMethod: env.BILLING_COLLECTION_METHOD,
    daysUntilDue: env.BILLING_DAYS_UNTIL_DUE,
    keyPrefix: env.BILLING_KEY_PREFIX,
    portalReturnUrl: env.STRIPE_PORTAL_RETURN_URL ?? null,
    gracePeriodMs: env.BILLING_GRACE_PERIOD_HOURS * 3_600_000,
  });
}

/** The billing service of an entry: stores and clock from the entry, Stripe and settings from the environment. */
export function createBillingService(
  env: BillingEnv,
  deps: Omit<BillingDeps, "stripe" | "webhookSecret" | "config">,
  options: { httpClient?: StripeConnection["httpClient"] } = {},
): BillingService {
  const connection = stripeConnection(env);
  return new BillingService({
    ...deps,
    stripe: connection
      ? new SdkStripeGateway(
          createStripeClient({ ...connection, ...(options.httpClient ? { httpClient: options.httpClient } : {}) }),
        )
      : null,
    webhookSecret: env.STRIPE_WEBHOOK_SECRET ?? null,
    config: billingConfig(env),
  });
}
