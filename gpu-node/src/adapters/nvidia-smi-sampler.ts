import { type ChildProcess, spawn } from "node:child_process";
import { type GpuSample, type GpuSampler, noGpu, parseQueryGpuCsv, QUERY_GPU_FIELDS } from "../telemetry/gpu.ts";

/**
 * Samples the GPUs once per interval with `nvidia-smi --query-gpu ... -lms`. Where nvidia-smi does not exist
 * (a CPU machine), it quietly reports no GPU.
 */
export function startNvidiaSmiSampler(intervalMs = 1000, command = "nvidia-smi"): GpuSampler {
  let latest: GpuSample[] = [];
  let child: ChildProcess;
  try {
    child = spawn(
      command,
      [`--query-gpu=${QUERY_GPU_FIELDS.join(",")}`, "--format=csv,noheader,nounits", `-lms=${intervalMs}`],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
  } catch {
    return noGpu;
  }
  child.on("error", () => {
    latest = [];
  });
  let buffer = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    const samples = parseQueryGpuCsv(lines.join("\n"), Date.now());
    if (samples.length > 0) latest = samples;
  });
  child.unref();
  return {
    latest: () => latest,
    close: () => {
      child.kill();
    },
  };
}
