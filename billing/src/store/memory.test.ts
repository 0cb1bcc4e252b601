import { createMemoryStores } from "../../../proxy/src/store/memory/index.ts";
import { runBillingStoreContracts } from "./contracts.ts";
import { createMemoryBillingStores, InMemoryUsageSource } from "./memory.ts";

runBillingStoreContracts({
  name: "memory",
  make: (clock) => {
    const proxy = createMemoryStores({ clock });
    const usage = new InMemoryUsageSource();
    return {
      proxy,
      billing: createMemoryBillingStores({ clock, usage }),
      // Through the proxy's ledger, so a repeated request id is counted once, as in SQLite.
      async addUsage(events) {
        const outcomes = await proxy.ledger.append(events);
        usage.add(events.filter((_, i) => outcomes[i]?.inserted));
      },
    };
  },
});
