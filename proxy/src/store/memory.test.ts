import { runStoreContracts } from "./contracts.ts";
import { createMemoryStores } from "./memory/index.ts";
import { withReadCache } from "./read-cache.ts";

runStoreContracts({ name: "memory", make: (clock) => ({ stores: createMemoryStores({ clock }) }) });

// The read cache the proxy puts in front of every store set must keep every store's contract.
runStoreContracts({
  name: "memory + read cache",
  make: (clock) => ({ stores: withReadCache(createMemoryStores({ clock }), { now: () => clock.now() }) }),
});
