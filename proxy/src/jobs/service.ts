import type { JobsConfig } from "./config.ts";
import type { JobStore, ResultStore } from "./ports.ts";

/** What the jobs API needs (ProxyDeps.jobs): the queue, the audio, the settings, and a nudge for the feeder. */
export interface JobsService {
  store: JobStore;
  results: ResultStore;
  config: JobsConfig;
  /** a job was queued: the feeder may look now instead of at its next round */
  wake?: () => void;
}
