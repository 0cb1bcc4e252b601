import type { Hono } from "hono";
import type { ApiKey } from "../../store/ports.ts";
import { ActionForm, DataTable, keyColumns, MoneyTable } from "../components.tsx";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleEnv } from "../env.ts";
import { when } from "../format.ts";
import { formFields } from "../http.ts";
import { apiError } from "../internal.ts";
import { Csrf } from "../layout.tsx";
import { SOURCE_LABELS, totalsBySource } from "../usage-sums.ts";
import { adminApi } from "./api.ts";
import { adminPage, flashFrom, withFlash } from "./page.tsx";

const PAGE = 50;
const DAY_MS = 86_400_000;
const BASE = "/admin/console/customers";

/** Customers: list (paged), create, change plan, suspend/restore; a customer's keys and usage. */
export function registerCustomerPages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  const { stores } = d.proxy;

  app.get("/customers", async (c) => {
    const after = c.req.query("after");
    const [customers, plans] = await Promise.all([
      stores.customers.list({ limit: PAGE, ...(after ? { afterId: after } : {}) }),
      stores.plans.listPlans(),
    ]);
    const csrf = c.get("csrf");
    return adminPage(
      c,
      "Customers",
      BASE,
      <>
        <h1>Customers</h1>
        <section class="card" aria-labelledby="new-h">
          <h2 id="new-h">New customer</h2>
          <form method="post" action={BASE} class="row">
            <Csrf token={csrf} />
            <div>
              <label for="c-name">Name</label>
              <input id="c-name" name="name" required maxlength={200} />
            </div>
            <div>
              <label for="c-email">Email</label>
              <input id="c-email" name="email" type="email" required />
            </div>
            <div>
              <label for="c-plan">Plan</label>
              <select id="c-plan" name="plan_id">
                {plans.map((p) => (
                  <option value={p.id}>{p.name}</option>
                ))}
              </select>
            </div>
            <div>
              <button type="submit">Create</button>
            </div>
          </form>
        </section>
        <table>
          <thead>
            <tr>
              <th scope="col">Customer</th>
              <th scope="col">Email</th>
              <th scope="col">Plan</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {customers.map((cu) => (
              <tr>
                <td>
                  <a href={`${BASE}/${cu.id}`}>{cu.name}</a> <span class="hint">{cu.id}</span>
                </td>
                <td>{cu.email}</td>
                <td>{cu.planId}</td>
                <td>
                  <span class={`badge ${cu.status === "active" ? "ok" : "bad"}`}>{cu.status}</span>
                </td>
                <td>{when(cu.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {customers.length === PAGE && (
          <p>
            <a href={`${BASE}?after=${encodeURIComponent(customers.at(-1)?.id ?? "")}`}>Next page →</a>
          </p>
        )}
      </>,
      { flash: flashFrom(c) },
    );
  });

  app.post("/customers", async (c) => {
    const f = await formFields(c);
    const r = await adminApi(d, c, "POST", "/admin/customers", { name: f.name, email: f.email, plan_id: f.plan_id });
    if (r.status !== 201) return c.redirect(withFlash(BASE, "err", apiError(r.json, "not created")), 303);
    const created = (r.json?.customer as { id?: string } | undefined)?.id ?? "";
    return c.redirect(withFlash(`${BASE}/${created}`, "ok", "Customer created."), 303);
  });

  app.get("/customers/:id", async (c) => {
    const customer = await stores.customers.getCustomer(c.req.param("id"));
    if (!customer) return adminPage(c, "Customer", BASE, <p>No such customer.</p>, { status: 404 });
    const now = d.now();
    const range = { customerId: customer.id, fromMs: now - 30 * DAY_MS, toMs: now + 1 };
    const [keys, plans, totals, days] = await Promise.all([
      stores.keys.listForCustomer(customer.id),
      stores.plans.listPlans(),
      stores.ledger.totals({ ...range, byPlan: true }),
      stores.ledger.usageByDay({ ...range, bySource: true }),
    ]);
    const bySource = totalsBySource(days);
    const csrf = c.get("csrf");
    const path = `${BASE}/${customer.id}`;
    return adminPage(
      c,
      customer.name,
      BASE,
      <>
        <h1>
          {customer.name} <span class="hint">{customer.id}</span>
        </h1>
        <section class="card row">
          <form method="post" action={`${path}/plan`} class="row">
            <Csrf token={csrf} />
            <div>
              <label for="cu-plan">Plan</label>
              <select id="cu-plan" name="plan_id">
                {plans.map((p) => (
                  <option value={p.id} selected={p.id === customer.planId}>
                    {p.name}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit">Change plan</button>
          </form>
          {customer.status === "active" ? (
            <form method="post" action={`${path}/suspend`} class="row">
              <Csrf token={csrf} />
              <div>
                <label for="cu-reason">Reason</label>
                <input id="cu-reason" name="reason" maxlength={500} placeholder="unpaid invoice" />
              </div>
              <button type="submit" class="danger">
                Suspend
              </button>
            </form>
          ) : (
            <form method="post" action={`${path}/restore`}>
              <Csrf token={csrf} />
              <p>
                Suspended: {customer.suspendedReason ?? "no reason given"} <button type="submit">Restore</button>
              </p>
            </form>
          )}
        </section>
        <h2>Keys</h2>
        <ActionForm action={`${path}/keys`} csrf={csrf} button="Issue a key" kind="secondary" />
        <DataTable
          columns={[
            ...keyColumns<ApiKey>(),
            { head: "Revoked", cell: (k) => when(k.revokedAt) },
            {
              head: "",
              cell: (k) =>
                k.revokedAt === null && (
                  <ActionForm
                    action={`${path}/keys/${k.id}/revoke`}
                    csrf={csrf}
                    button="Revoke"
                    kind="danger"
                    label={`Revoke key ${k.prefix}`}
                  />
                ),
            },
          ]}
          rows={keys}
          empty="No keys."
        />
        <h2>Usage, last 30 days</h2>
        <MoneyTable head="Plan" label={(t) => t.planId} rows={totals} empty="No usage." />
        <MoneyTable
          caption="By source: the API, the console's playground, batch jobs"
          head="Source"
          label={(t) => SOURCE_LABELS[t.source]}
          rows={bySource}
        />
        <p class="muted">
          <a href={`/admin/console/revenue`}>Revenue of every customer</a>
        </p>
      </>,
      { flash: flashFrom(c) },
    );
  });

  app.post("/customers/:id/plan", async (c) => {
    const id = c.req.param("id");
    const f = await formFields(c);
    // No admin API route changes a plan yet: the store is the one writer (through the app's cached stores).
    const r = await stores.customers.update(id, { planId: f.plan_id ?? "" });
    const path = `${BASE}/${id}`;
    return c.redirect(r.ok ? withFlash(path, "ok", "Plan changed.") : withFlash(path, "err", r.message), 303);
  });
  app.post("/customers/:id/suspend", async (c) => {
    const id = c.req.param("id");
    const f = await formFields(c);
    const r = await adminApi(d, c, "POST", `/admin/customers/${encodeURIComponent(id)}/suspend`, {
      ...(f.reason ? { reason: f.reason } : {}),
    });
    return c.redirect(
      withFlash(
        `${BASE}/${id}`,
        r.status === 200 ? "ok" : "err",
        r.status === 200 ? "Suspended." : apiError(r.json, "failed"),
      ),
      303,
    );
  });
  app.post("/customers/:id/restore", async (c) => {
    const id = c.req.param("id");
    const r = await adminApi(d, c, "POST", `/admin/customers/${encodeURIComponent(id)}/restore`);
    return c.redirect(
      withFlash(
        `${BASE}/${id}`,
        r.status === 200 ? "ok" : "err",
        r.status === 200 ? "Restored." : apiError(r.json, "failed"),
      ),
      303,
    );
  });
  app.post("/customers/:id/keys", async (c) => {
    const id = c.req.param("id");
    const r = await adminApi(d, c, "POST", `/admin/customers/${encodeURIComponent(id)}/keys`);
    if (r.status !== 201) return c.redirect(withFlash(`${BASE}/${id}`, "err", apiError(r.json, "failed")), 303);
    return adminPage(
      c,
      "New key",
      BASE,
      <section class="card">
        <h1>New key for {id}</h1>
        <p>Hand it to the customer now: it is shown only this once.</p>
        <p class="secret">{String(r.json?.key ?? "")}</p>
        <p>
          <a href={`${BASE}/${id}`}>Back to the customer</a>
        </p>
      </section>,
    );
  });
  app.post("/customers/:id/keys/:key/revoke", async (c) => {
    const id = c.req.param("id");
    // Only a key of this customer: the store checks ownership (a swapped key id changes nothing).
    const revoked = await stores.keys.revokeOwned(id, c.req.param("key"));
    return c.redirect(
      withFlash(`${BASE}/${id}`, revoked ? "ok" : "err", revoked ? "Key revoked." : "No such key."),
      303,
    );
  });
}
