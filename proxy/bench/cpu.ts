/**
 * CPU accounting for the proxy benchmark (Linux /proc): CPU time used by given processes over a step, and how busy
 * the whole machine was, so a report can say how much of the two cores the proxy, the stub, the load generator and
 * everything else on the machine took.
 */
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every mainstream Linux build

/** utime + stime of a process, in ms (0 when /proc is unavailable). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Busy and total jiffies of all CPUs. */
function machineTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

export interface CpuSample {
  /** ms of CPU per named process over the interval */
  processes: Record<string, number>;
  /** ms of CPU used by the whole machine over the interval (all cores) */
  machineBusyMs: number;
  /** wall ms of the interval */
  wallMs: number;
}

/** Starts measuring; call the returned function at the end of the interval. `self` is this process. */
export function cpuMeter(pids: Record<string, number | "self">): () => CpuSample {
  const read = () => {
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) {
      if (pid === "self") {
        const u = process.cpuUsage();
        out[name] = (u.user + u.system) / 1000;
      } else {
        out[name] = processCpuMs(pid);
      }
    }
    return out;
  };
  const before = read();
  const machineBefore = machineTicks();
  const startedAt = performance.now();
  return () => {
    const after = read();
    const machineAfter = machineTicks();
    const processes: Record<string, number> = {};
    for (const name of Object.keys(pids)) processes[name] = (after[name] ?? 0) - (before[name] ?? 0);
    return {
      processes,
      machineBusyMs: ((machineAfter.busy - machineBefore.busy) * 1000) / TICKS_PER_SECOND,
      wallMs: performance.now() - startedAt,
    };
  };
}
