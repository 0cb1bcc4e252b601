import type { Hono } from "hono";
import { isProxyError } from "../../core/errors.ts";
import { ACTIVE_KEY_LIMITS, createCustomerKey, isActiveKey } from "../../http/customer-keys.ts";
import type { ApiKey, IssuedKey } from "../../store/ports.ts";
import { ActionForm, DataTable, keyColumns } from "../components.tsx";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleContext, ConsoleEnv } from "../env.ts";
import { when } from "../format.ts";
import { formFields } from "../http.ts";
import { Csrf } from "../layout.tsx";
import { customerPage } from "./page.tsx";

type Flash = { kind: "ok" | "err"; text: string } | null;

async function keysPage(d: ConsoleDeps, c: ConsoleContext, flash: Flash, issued: IssuedKey | null, status?: 400 | 409) {
  const { customer, plan, key: current } = c.get("account");
  const now = d.now();
  const keys = await d.proxy.stores.keys.listForCustomer(customer.id);
  const active = keys.filter((k) => isActiveKey(k, now)).length;
  const stateOf = (k: ApiKey) => (k.revokedAt !== null ? "revoked" : isActiveKey(k, now) ? "active" : "expired");
  return customerPage(
    c,
    "API keys",
    "/console/keys",
    <>
      <h1>API keys</h1>
      {issued && (
        <section class="card" aria-labelledby="new-key-h">
          <h2 id="new-key-h">Your new key</h2>
          <p>Copy it now: it is shown only this once (we keep only its SHA-256).</p>
          <p class="secret" id="new-key">
            {issued.key}
          </p>
        </section>
      )}
      <section class="card" aria-labelledby="create-h">
        <h2 id="create-h">Create a key</h2>
        <p class="muted">
          {active} of {ACTIVE_KEY_LIMITS[plan.kind]} active keys on the {plan.name} plan.
        </p>
        <form method="post" action="/console/keys" class="row">
          <Csrf token={c.get("csrf")} />
          <div>
            <label for="key-name">Name</label>
            <input id="key-name" name="name" required maxlength={100} placeholder="production" />
          </div>
          <div>
            <label for="key-expires">
              Expires <span class="hint">(optional, UTC date)</span>
            </label>
            <input id="key-expires" name="expires" type="date" />
          </div>
          <div>
            <button type="submit">Create key</button>
          </div>
        </form>
      </section>
      <DataTable
        caption={`Every key of ${customer.name}, revoked and expired ones included`}
        columns={[
          ...keyColumns<ApiKey>(),
          { head: "Expires", cell: (k) => when(k.expiresAt) },
          {
            head: "State",
            cell: (k) => (
              <>
                <span class={`badge ${stateOf(k) === "active" ? "ok" : "bad"}`}>{stateOf(k)}</span>
                {k.id === current.id && <span class="hint"> (this session)</span>}
              </>
            ),
          },
          {
            head: "",
            cell: (k) =>
              stateOf(k) === "active" && (
                <ActionForm
                  action={`/console/keys/${k.id}/revoke`}
                  csrf={c.get("csrf")}
                  button="Revoke"
                  kind="danger"
                  label={`Revoke key ${k.name ?? k.prefix}`}
                />
              ),
          },
        ]}
        rows={keys}
      />
    </>,
    { flash, ...(status ? { status } : {}) },
  );
}

/** Keys: list (prefix, created, last used), create (named, optional expiry, shown once), revoke. */
export function registerKeyPages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  app.get("/keys", (c) => keysPage(d, c, null, null));
  app.post("/keys", async (c) => {
    const fields = await formFields(c);
    const name = (fields.name ?? "").trim().slice(0, 100);
    if (!name) return keysPage(d, c, { kind: "err", text: "Give the key a name." }, null, 400);
    let expiresAt: number | null = null;
    if (fields.expires) {
      expiresAt = Date.parse(`${fields.expires}T00:00:00Z`);
      if (!Number.isFinite(expiresAt)) return keysPage(d, c, { kind: "err", text: "Invalid expiry date." }, null, 400);
    }
    try {
      const issued = await createCustomerKey(d.proxy.stores, c.get("account"), { name, expiresAt }, d.now());
      return keysPage(d, c, { kind: "ok", text: `Key “${name}” created.` }, issued);
    } catch (e) {
      if (!isProxyError(e)) throw e;
      return keysPage(d, c, { kind: "err", text: e.message }, null, e.status === 409 ? 409 : 400);
    }
  });
  app.post("/keys/:id/revoke", async (c) => {
    const revoked = await d.proxy.stores.keys.revokeOwned(c.get("account").customer.id, c.req.param("id"));
    // Revoking the key this session signed in with ends the session: the next page goes to sign-in.
    if (!revoked) return keysPage(d, c, { kind: "err", text: "No such key." }, null, 400);
    return c.redirect("/console/keys", 303);
  });
}
