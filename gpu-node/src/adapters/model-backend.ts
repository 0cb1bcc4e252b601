import { checkGraphs } from "../model/graph-contract.ts";
import type { ModelFiles } from "./model-dir.ts";
import { OrtBackend, type OrtOptions } from "./ort-backend.ts";

/**
 * Open a model directory's graphs and check them against its manifest (model/graph-contract.ts) before the node
 * serves anything: a graph whose names or widths disagree would otherwise fail every request with a 500.
 */
export async function openModelBackend(files: ModelFiles, runtime: OrtOptions): Promise<OrtBackend> {
  const backend = await OrtBackend.create(files.graphPaths, runtime);
  const problems = checkGraphs(files.manifest, (graph) => backend.metadata(graph));
  if (problems.length > 0) {
    await backend.close();
    throw new Error(
      `the graphs of ${files.dir} do not match its manifest.json (gpu-node/MODEL.md):\n  ${problems.join("\n  ")}`,
    );
  }
  return backend;
}
