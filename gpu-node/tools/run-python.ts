/**
 * `npm run model:generate -- --size small --out DIR` and `npm run model:check -- DIR`: a model tool run with the
 * Python `toolsPython()` picks (python.ts), arguments passed through.
 *
 *   npx tsx gpu-node/tools/run-python.ts generate_model.py --size tiny --out /tmp/tiny
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { toolsPython } from "./python.ts";

const [script, ...args] = process.argv.slice(2);
if (!script || !/^[a-z_]+\.py$/.test(script)) {
  console.error("usage: tsx gpu-node/tools/run-python.ts <tool>.py [args…]");
  process.exit(2);
}
let python: string;
try {
  python = toolsPython();
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
const run = spawnSync(python, [join(dirname(fileURLToPath(import.meta.url)), script), ...args], {
  stdio: "inherit",
});
process.exit(run.status ?? 1);
