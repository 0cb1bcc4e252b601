import { env } from "cloudflare:workers";
import { createD1Stores, openD1 } from "../../proxy/src/adapters/workers/d1/index.ts";
import { D1JobStore } from "../../proxy/src/adapters/workers/d1/jobs.ts";
import { R2ResultStore } from "../../proxy/src/adapters/workers/r2-results.ts";
import { runJobStoreContract } from "../../proxy/src/jobs/queue.contract.ts";
import { runResultStoreContract } from "../../proxy/src/jobs/results.contract.ts";
import { emptyDatabase } from "./d1.ts";

// The batch queue and result store contracts (the same suites as memory, SQLite and disk on Node) against D1 and R2
// in workerd: the stores the Worker serves /v1/jobs with (test/workers/jobs.test.ts runs them end to end).
runJobStoreContract({
  name: "d1",
  make: async (clock, retentionMs) => {
    await emptyDatabase(env.DB);
    const db = openD1(env.DB);
    return { jobs: new D1JobStore(db, { clock, retentionMs }), stores: createD1Stores(db, { clock }) };
  },
});

runResultStoreContract({
  name: "r2",
  make: async () => {
    // A fresh prefix-free bucket per test: delete whatever an earlier test left.
    const listed = await env.TEST_RESULTS.list();
    if (listed.objects.length > 0) await env.TEST_RESULTS.delete(listed.objects.map((o) => o.key));
    return { results: new R2ResultStore(env.TEST_RESULTS) };
  },
});
