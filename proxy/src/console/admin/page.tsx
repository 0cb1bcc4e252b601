import type { Child } from "hono/jsx";
import type { ConsoleContext } from "../env.ts";
import { Layout } from "../layout.tsx";

export const ADMIN_NAV = [
  { href: "/admin/console/customers", label: "Customers" },
  { href: "/admin/console/plans", label: "Plans & prices" },
  { href: "/admin/console/capacity", label: "Capacity" },
  { href: "/admin/console/nodes", label: "Nodes" },
  { href: "/admin/console/revenue", label: "Revenue" },
  { href: "/admin/console/billing", label: "Stripe" },
];

export type Flash = { kind: "ok" | "err"; text: string } | null;

export function adminPage(
  c: ConsoleContext,
  title: string,
  current: string,
  body: Child,
  options: { flash?: Flash; status?: 200 | 400 | 404 | 409 } = {},
) {
  return c.html(
    <Layout
      title={title}
      area="Admin"
      nonce={c.get("nonce")}
      nav={ADMIN_NAV}
      current={current}
      who={{ label: "Administrator", signOutAction: "/admin/console/sign-out", csrf: c.get("csrf") }}
      flash={options.flash ?? null}
    >
      {body}
    </Layout>,
    options.status ?? 200,
  );
}

/** A flash message carried across a POST → 303 → GET in the query string (text only; rendered escaped). */
export function flashFrom(c: ConsoleContext): Flash {
  const ok = c.req.query("ok");
  const err = c.req.query("err");
  if (err) return { kind: "err", text: err.slice(0, 300) };
  if (ok) return { kind: "ok", text: ok.slice(0, 300) };
  return null;
}

export const withFlash = (path: string, kind: "ok" | "err", text: string): string =>
  `${path}${path.includes("?") ? "&" : "?"}${kind}=${encodeURIComponent(text)}`;
