import { createMemoryStores } from "../store/memory/index.ts";
import { InMemoryJobStore, InMemoryResultStore } from "./memory.ts";
import { runJobStoreContract } from "./queue.contract.ts";
import { runResultStoreContract } from "./results.contract.ts";

runJobStoreContract({
  name: "memory",
  make: (clock, retentionMs) => ({
    jobs: new InMemoryJobStore({ clock, retentionMs }),
    stores: createMemoryStores({ clock }),
  }),
});
runResultStoreContract({ name: "memory", make: () => ({ results: new InMemoryResultStore() }) });
