/**
 * Which Python runs the model tools (generate_model.py, check_model.py): the first of
 *   1. `$GPU_NODE_PYTHON` (used as given: an error if it cannot import torch, onnx and numpy),
 *   2. `.tools/gpu-node-python/bin/python` (the venv `gpu-node/tools/setup_python.sh` makes from pip's wheels),
 *   3. `/usr/bin/python3` (Debian's python3-torch + python3-onnx),
 *   4. `python3` on the PATH,
 * that imports torch, onnx and numpy. Probing each costs a Python start-up (~1-2 s with torch), paid once per bench.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const VENV_PYTHON = join(REPO, ".tools", "gpu-node-python", "bin", "python");
const PROBE = "import torch, onnx, numpy";

function hasTorch(python: string): boolean {
  return spawnSync(python, ["-c", PROBE], { stdio: "ignore" }).status === 0;
}

export function toolsPython(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.GPU_NODE_PYTHON;
  if (given) {
    if (!hasTorch(given)) throw new Error(`GPU_NODE_PYTHON=${given} cannot \`${PROBE}\``);
    return given;
  }
  for (const candidate of [VENV_PYTHON, "/usr/bin/python3", "python3"]) {
    if ((candidate === "python3" || existsSync(candidate)) && hasTorch(candidate)) return candidate;
  }
  throw new Error(
    `no Python with torch, onnx and numpy: run gpu-node/tools/setup_python.sh (a venv in .tools/gpu-node-python), apt-get install python3-torch python3-onnx, or set GPU_NODE_PYTHON (gpu-node/tools/README.md)`,
  );
}

/** Writes a random-weight model directory (generate_model.py), output on this process's stdout/stderr. */
export function generateModel(size: string, out: string): void {
  const python = toolsPython();
  console.error(`generating the ${size} model (random weights) into ${out} with ${python}…`);
  const run = spawnSync(python, [join(REPO, "gpu-node/tools/generate_model.py"), "--size", size, "--out", out], {
    stdio: "inherit",
  });
  if (run.status !== 0) throw new Error(`generate_model.py exited with ${run.status ?? run.signal}`);
}
