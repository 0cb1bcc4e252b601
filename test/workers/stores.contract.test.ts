import { env } from "cloudflare:workers";
import { createD1Stores, openD1 } from "../../proxy/src/adapters/workers/d1/index.ts";
import { runStoreContracts } from "../../proxy/src/store/contracts.ts";
import { emptyDatabase } from "./d1.ts";

// The same store contracts as memory and SQLite on Node, here against D1 in workerd, migrated from migrations/sql.
runStoreContracts({
  name: "d1",
  make: async (clock) => {
    await emptyDatabase(env.DB);
    return { stores: createD1Stores(openD1(env.DB), { clock }) };
  },
});
