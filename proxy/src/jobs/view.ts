/** Jobs as the API shows them (GET /v1/jobs/{id}, callbacks): snake_case, epoch ms, money in integer micro-units. */
import { type JobItem, jobStatus } from "./model.ts";
import type { JobWithCounts } from "./ports.ts";

export function jobView({ job, counts, totals }: JobWithCounts, currency: string) {
  const finished = counts.done + counts.failed + counts.cancelled;
  return {
    id: job.id,
    object: "job" as const,
    status: jobStatus(job, counts),
    created_at: job.createdAt,
    finished_at: job.finishedAt,
    cancelled_at: job.cancelledAt,
    expires_at: job.expiresAt,
    prefer_off_peak: job.preferOffPeak,
    metadata: job.metadata,
    items_total: job.itemCount,
    progress: job.itemCount > 0 ? finished / job.itemCount : 0,
    counts: {
      queued: counts.queued,
      running: counts.running + counts.finishing,
      done: counts.done,
      failed: counts.failed,
      cancelled: counts.cancelled,
    },
    charged: { audio_ms: totals.audioMs, tokens: totals.tokens, amount_micros: totals.amountMicros, currency },
    callback:
      job.callbackUrl === null
        ? null
        : {
            url: job.callbackUrl,
            state: job.callbackState,
            attempts: job.callbackAttempts,
            last_error: job.callbackLastError,
          },
    audio_url: `/v1/jobs/${job.id}/audio`,
  };
}

export function itemView(item: JobItem) {
  const done = item.state === "done";
  return {
    n: item.n,
    state: item.state === "finishing" ? ("running" as const) : item.state,
    attempts: item.attempts,
    chars: [...item.text].length,
    voice: item.voice,
    error: item.errorCode === null ? null : { code: item.errorCode, message: item.errorMessage ?? "" },
    audio_ms: done ? item.audioMs : null,
    tokens: done ? item.tokens : null,
    amount_micros: done ? item.amountMicros : null,
    completed_at: item.completedAt,
    audio_url: done ? `/v1/jobs/${item.jobId}/items/${item.n}/audio` : null,
  };
}
