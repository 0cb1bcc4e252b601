import type { Hono } from "hono";
import type { jobView } from "../../jobs/view.ts";
import { ActionForm, type Column, DataTable } from "../components.tsx";
import type { ConsoleDeps } from "../deps.ts";
import type { ConsoleContext, ConsoleEnv } from "../env.ts";
import { int, money, when } from "../format.ts";
import { apiError, callApi } from "../internal.ts";
import { customerPage } from "./page.tsx";

type JobView = ReturnType<typeof jobView>;
const JOB_ID = /^[A-Za-z0-9_-]{1,64}$/;

async function keyOf(d: ConsoleDeps, c: ConsoleContext): Promise<string | null> {
  return d.signer.unseal(c.get("session"));
}

/** A job's columns, in the list and on its own page: id, status, created, items done, charged, download and cancel. */
function jobColumns(csrf: string): Column<JobView>[] {
  return [
    { head: "Job", cell: (j) => <a href={`/console/jobs/${j.id}`}>{j.id}</a> },
    { head: "Status", cell: (j) => <span class="badge">{j.status}</span> },
    { head: "Created", cell: (j) => when(j.created_at) },
    {
      head: "Done",
      numeric: true,
      cell: (j) => (
        <>
          {j.counts.done}/{j.items_total}
        </>
      ),
    },
    { head: "Charged", numeric: true, cell: (j) => money(j.charged.amount_micros, j.charged.currency) },
    {
      head: "",
      cell: (j) => (
        <>
          {j.counts.done > 0 && <a href={`/console/jobs/${j.id}/audio`}>Download</a>}{" "}
          {j.finished_at === null && (
            <ActionForm
              action={`/console/jobs/${j.id}/cancel`}
              csrf={csrf}
              button="Cancel"
              kind="danger"
              label={`Cancel job ${j.id}`}
            />
          )}
        </>
      ),
    },
  ];
}

/** Batch jobs through the jobs API: list, status, downloads, cancel (only the signed-in customer's, as the API). */
export function registerJobPages(app: Hono<ConsoleEnv>, d: ConsoleDeps): void {
  app.get("/jobs", async (c) => {
    const key = await keyOf(d, c);
    if (!key) return c.redirect("/console/sign-in", 303);
    const r = d.proxy.jobs ? await callApi(d.app, c, key, "GET", "/v1/jobs?limit=100") : null;
    const jobs = r?.status === 200 ? ((r.json?.jobs ?? []) as JobView[]) : [];
    const note = !r
      ? "This deployment serves no jobs API."
      : r.status !== 200
        ? apiError(r.json, `the jobs API answered ${r.status}`)
        : null;
    return customerPage(
      c,
      "Batch jobs",
      "/console/jobs",
      <>
        <h1>Batch jobs</h1>
        {note && <p class="muted">{note}</p>}
        <p class="muted">
          Submit jobs with <code>POST /v1/jobs</code> (see the <a href="/docs">API reference</a>); follow them here.
        </p>
        <DataTable columns={jobColumns(c.get("csrf"))} rows={jobs} empty="No jobs." />
      </>,
    );
  });

  app.get("/jobs/:id", async (c) => {
    const key = await keyOf(d, c);
    const id = c.req.param("id");
    if (!key) return c.redirect("/console/sign-in", 303);
    const r = JOB_ID.test(id) ? await callApi(d.app, c, key, "GET", `/v1/jobs/${id}?limit=200`) : null;
    if (r?.status !== 200 || !r.json) {
      return customerPage(c, "Job", "/console/jobs", <p>No such job.</p>, { status: 404 });
    }
    const job = r.json as unknown as JobView & {
      items: { n: number; state: string; chars: number; tokens: number | null; error: { message: string } | null }[];
    };
    return customerPage(
      c,
      `Job ${job.id}`,
      "/console/jobs",
      <>
        <h1>Job {job.id}</h1>
        <DataTable columns={jobColumns(c.get("csrf"))} rows={[job]} />
        <h2>Items</h2>
        <DataTable
          columns={[
            { head: "#", cell: (i) => i.n },
            { head: "State", cell: (i) => i.state },
            { head: "Characters", numeric: true, cell: (i) => int(i.chars) },
            { head: "Tokens", numeric: true, cell: (i) => (i.tokens === null ? "—" : int(i.tokens)) },
            { head: "Error", cell: (i) => i.error?.message ?? "" },
          ]}
          rows={job.items}
        />
      </>,
    );
  });

  app.get("/jobs/:id/audio", async (c) => {
    const key = await keyOf(d, c);
    const id = c.req.param("id");
    if (!key || !JOB_ID.test(id)) return c.redirect("/console/jobs", 303);
    const r = await callApi(d.app, c, key, "GET", `/v1/jobs/${id}/audio?skip_missing=true`);
    if (r.status !== 200)
      return customerPage(c, "Job", "/console/jobs", <p>{apiError(r.json, "no audio")}</p>, { status: 404 });
    return r.response;
  });

  app.post("/jobs/:id/cancel", async (c) => {
    const key = await keyOf(d, c);
    const id = c.req.param("id");
    if (!key || !JOB_ID.test(id)) return c.redirect("/console/jobs", 303);
    await callApi(d.app, c, key, "DELETE", `/v1/jobs/${id}`);
    return c.redirect(`/console/jobs/${id}`, 303);
  });
}
