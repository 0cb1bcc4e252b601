import { runStoreContracts } from "./contracts.ts";
import { createMemoryStores } from "./memory/index.ts";

runStoreContracts({ name: "memory", make: (clock) => ({ stores: createMemoryStores({ clock }) }) });
