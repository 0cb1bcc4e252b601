import type { Hono } from "hono";
import { ActionForm, DataTable } from "../components.tsx";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleEnv } from "../env.ts";
import { formFields } from "../http.ts";
import { apiError } from "../internal.ts";
import { Csrf } from "../layout.tsx";
import { adminApi } from "./api.ts";
import { adminPage, flashFrom, withFlash } from "./page.tsx";

const BASE = "/admin/console/nodes";

interface NodeRowView {
  id: string;
  url: string;
  pool: string;
  weight: number;
  state: string;
  live: Record<string, unknown> | null;
  breaker: Record<string, unknown> | null;
}

const show = (v: unknown): string => (v === undefined || v === null ? "—" : String(v));

/** GPU nodes: health, breaker, in flight, queue depth; drain/undrain, add, remove (through the admin API). */
export function registerNodePages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  app.get("/nodes", async (c) => {
    const r = await adminApi(d, c, "GET", "/admin/nodes");
    const nodes = (r.json?.nodes ?? []) as NodeRowView[];
    const csrf = c.get("csrf");
    return adminPage(
      c,
      "Nodes",
      BASE,
      <>
        <h1>GPU nodes</h1>
        <DataTable
          columns={[
            {
              head: "Node",
              cell: (n) => (
                <>
                  {n.id} <span class="hint">{n.url}</span>
                </>
              ),
            },
            { head: "Pool", cell: (n) => n.pool },
            {
              head: "State",
              cell: (n) => <span class={`badge ${n.state === "active" ? "ok" : "bad"}`}>{n.state}</span>,
            },
            {
              head: "Health",
              cell: (n) => (n.live ? `${n.live.up ? "up" : "down"}${n.live.ready ? "" : ", not ready"}` : "—"),
            },
            { head: "Breaker", cell: (n) => show(n.breaker?.state) },
            { head: "In flight", numeric: true, cell: (n) => show(n.live?.localInFlight) },
            { head: "Queue", numeric: true, cell: (n) => show(n.live?.queueDepth) },
            {
              head: "",
              cell: (n) => (
                <>
                  <ActionForm
                    action={`${BASE}/${n.id}/${n.state === "draining" ? "activate" : "drain"}`}
                    csrf={csrf}
                    button={n.state === "draining" ? "Undrain" : "Drain"}
                    kind="secondary"
                    label={`${n.state === "draining" ? "Undrain" : "Drain"} node ${n.id}`}
                  />{" "}
                  <ActionForm
                    action={`${BASE}/${n.id}/remove`}
                    csrf={csrf}
                    button="Remove"
                    kind="danger"
                    label={`Remove node ${n.id}`}
                  />
                </>
              ),
            },
          ]}
          rows={nodes}
          empty="No nodes."
        />
        <section class="card" aria-labelledby="add-h">
          <h2 id="add-h">Add a node</h2>
          <form method="post" action={BASE} class="row">
            <Csrf token={csrf} />
            <div>
              <label for="n-url">URL</label>
              <input id="n-url" name="url" type="url" required placeholder="http://10.0.0.5:8000" />
            </div>
            <div>
              <label for="n-pool">Pool</label>
              <input id="n-pool" name="pool" value="shared" />
            </div>
            <div>
              <label for="n-weight">Weight</label>
              <input id="n-weight" name="weight" type="number" min="1" value="1" />
            </div>
            <div>
              <button type="submit">Add</button>
            </div>
          </form>
        </section>
      </>,
      { flash: flashFrom(c) },
    );
  });
  app.post("/nodes", async (c) => {
    const f = await formFields(c);
    const r = await adminApi(d, c, "POST", "/admin/nodes", {
      url: f.url,
      pool: f.pool || "shared",
      weight: Number(f.weight || 1),
    });
    return c.redirect(
      withFlash(
        BASE,
        r.status === 201 ? "ok" : "err",
        r.status === 201 ? "Node added." : apiError(r.json, "not added"),
      ),
      303,
    );
  });
  for (const action of ["drain", "activate", "remove"] as const) {
    app.post(`/nodes/:id/${action}`, async (c) => {
      const id = encodeURIComponent(c.req.param("id"));
      const r =
        action === "remove"
          ? await adminApi(d, c, "DELETE", `/admin/nodes/${id}`)
          : await adminApi(d, c, "POST", `/admin/nodes/${id}/${action}`);
      const ok = r.status < 300;
      return c.redirect(
        withFlash(
          BASE,
          ok ? "ok" : "err",
          ok
            ? `Node ${action === "activate" ? "undrained" : `${action === "remove" ? "removed" : "draining"}`}.`
            : apiError(r.json, "failed"),
        ),
        303,
      );
    });
  }
}
