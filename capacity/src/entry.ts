/** Entry point of `npm run capacity` (all parsing and wiring is in cli.ts). */
import { main } from "./cli.ts";

process.exitCode = await main(process.argv.slice(2));
