import { env } from "cloudflare:workers";
import { runBillingStoreContracts } from "../../billing/src/store/contracts.ts";
import { createSqlBillingStores } from "../../billing/src/store/sql/index.ts";
import { createD1Stores, openD1 } from "../../proxy/src/adapters/workers/d1/index.ts";
import { emptyDatabase } from "./d1.ts";

// Billing's store contracts (the same suites as memory and SQLite on Node) against D1 in workerd.
runBillingStoreContracts({
  name: "d1",
  make: async (clock) => {
    await emptyDatabase(env.DB);
    const db = openD1(env.DB);
    const proxy = createD1Stores(db, { clock });
    return {
      proxy,
      billing: createSqlBillingStores(db, { clock }),
      addUsage: async (events) => {
        await proxy.ledger.append(events);
      },
    };
  },
});
