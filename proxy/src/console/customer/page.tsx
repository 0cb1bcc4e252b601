import type { Child } from "hono/jsx";
import type { ConsoleContext } from "../env.ts";
import { Layout } from "../layout.tsx";

export const CUSTOMER_NAV = [
  { href: "/console/usage", label: "Usage" },
  { href: "/console/keys", label: "API keys" },
  { href: "/console/playground", label: "Playground" },
  { href: "/console/jobs", label: "Batch jobs" },
  { href: "/console/billing", label: "Billing" },
  { href: "/docs", label: "API reference" },
];

/** A signed-in customer page: the layout with the customer's name and the sign-out form. */
export function customerPage(
  c: ConsoleContext,
  title: string,
  current: string,
  body: Child,
  options: { flash?: { kind: "ok" | "err"; text: string } | null; status?: 200 | 400 | 404 | 409 | 429 } = {},
) {
  const { customer } = c.get("account");
  return c.html(
    <Layout
      title={title}
      area="Console"
      nonce={c.get("nonce")}
      nav={CUSTOMER_NAV}
      current={current}
      who={{ label: `${customer.name} (${customer.id})`, signOutAction: "/console/sign-out", csrf: c.get("csrf") }}
      flash={options.flash ?? null}
    >
      {body}
    </Layout>,
    options.status ?? 200,
  );
}
