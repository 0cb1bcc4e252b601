// Entry of the engine's worker thread. Plain JavaScript so that it loads the same way under `tsx`, vitest and the
// bench: it registers tsx's loader inside this thread, then runs the TypeScript worker.
import { register } from "tsx/esm/api";

register();
await import("./engine-worker.ts");
