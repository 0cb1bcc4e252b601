/** A trivial HTTP server in its own process, for the generator benchmarks: prints its URL, answers "ok" at once. */
import { startQueueServer, startTrivialServer } from "../src/testing/servers.ts";

const [kind = "trivial", slots = "4", serviceMs = "50"] = process.argv.slice(2);
const server =
  kind === "queue"
    ? await startQueueServer({ slots: Number(slots), serviceMs: Number(serviceMs) })
    : await startTrivialServer();
console.log(`${kind} server listening on ${server.url}`);
process.once("SIGTERM", () => void server.close().then(() => process.exit(0)));
