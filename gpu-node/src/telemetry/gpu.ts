/**
 * GPU telemetry: the port the node's /metrics reads, and parsers for both `nvidia-smi` formats the article and the
 * capacity tool use. The sampler that runs the command is a Node adapter (../adapters/nvidia-smi-sampler.ts).
 */
export interface GpuSample {
  index: number;
  name?: string;
  /** SM (compute) utilisation, % */
  smPercent: number;
  /** memory-controller utilisation, % */
  memPercent: number;
  memoryUsedMiB?: number;
  memoryTotalMiB?: number;
  powerWatts?: number;
  /** cumulative energy since driver load, joules (newer drivers) */
  energyJoules?: number;
  at: number;
}

export interface GpuSampler {
  /** the latest sample per GPU; empty when no GPU (or no nvidia-smi) is present */
  latest(): GpuSample[];
  close(): void;
}

export const noGpu: GpuSampler = { latest: () => [], close: () => {} };

/** Query fields in the order `parseQueryGpuCsv` expects. */
export const QUERY_GPU_FIELDS = [
  "index",
  "name",
  "utilization.gpu",
  "utilization.memory",
  "memory.used",
  "memory.total",
  "power.draw",
  "total_energy_consumption",
] as const;

const num = (s: string | undefined): number | undefined => {
  if (s === undefined) return undefined;
  const v = Number.parseFloat(s.trim());
  return Number.isFinite(v) ? v : undefined;
};

/** `nvidia-smi --query-gpu=<QUERY_GPU_FIELDS> --format=csv,noheader,nounits` → samples ("[N/A]" fields dropped). */
export function parseQueryGpuCsv(text: string, at: number): GpuSample[] {
  const samples: GpuSample[] = [];
  for (const line of text.split("\n")) {
    const cols = line.split(",").map((c) => c.trim());
    if (cols.length < 4) continue;
    const index = num(cols[0]);
    const sm = num(cols[2]);
    const mem = num(cols[3]);
    if (index === undefined || sm === undefined || mem === undefined) continue;
    const sample: GpuSample = { index, smPercent: sm, memPercent: mem, at };
    if (cols[1]) sample.name = cols[1];
    const used = num(cols[4]);
    const total = num(cols[5]);
    const power = num(cols[6]);
    const energyMilliJoules = num(cols[7]);
    if (used !== undefined) sample.memoryUsedMiB = used;
    if (total !== undefined) sample.memoryTotalMiB = total;
    if (power !== undefined) sample.powerWatts = power;
    if (energyMilliJoules !== undefined) sample.energyJoules = energyMilliJoules / 1000;
    samples.push(sample);
  }
  return samples;
}

/**
 * The article's `nvidia-smi dmon -s u` (or `-s pu`) output: a `# gpu pwr ... sm mem enc dec` header line, then one
 * line per GPU per interval. Columns are found by header name, so either selection works.
 */
export function parseDmon(text: string, at: number): GpuSample[] {
  let header: string[] | null = null;
  const samples: GpuSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith("#")) {
      const names = line.replace(/^#\s*/, "").split(/\s+/);
      if (names.includes("gpu")) header = names;
      continue;
    }
    if (!header) continue;
    const cols = line.split(/\s+/);
    const get = (name: string) => {
      const i = header?.indexOf(name) ?? -1;
      return i >= 0 ? num(cols[i]) : undefined;
    };
    const index = get("gpu");
    const sm = get("sm");
    const mem = get("mem");
    if (index === undefined || sm === undefined || mem === undefined) continue;
    const sample: GpuSample = { index, smPercent: sm, memPercent: mem, at };
    const power = get("pwr");
    if (power !== undefined) sample.powerWatts = power;
    samples.push(sample);
  }
  return samples;
}
