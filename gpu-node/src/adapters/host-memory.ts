import { readFileSync } from "node:fs";
import { totalmem } from "node:os";

/**
 * The memory this process may use: the host's, or the container's limit when one is set (cgroup v2 `memory.max`,
 * v1 `memory.limit_in_bytes`). `os.totalmem()` alone reports the whole host inside a container, and a budget derived
 * from it would let a pod be OOM-killed.
 */
export function availableMemoryBytes(): number {
  const host = totalmem();
  for (const path of ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]) {
    try {
      const limit = Number(readFileSync(path, "utf8").trim());
      if (Number.isFinite(limit) && limit > 0 && limit < host) return limit;
    } catch {
      // no such controller here
    }
  }
  return host;
}
