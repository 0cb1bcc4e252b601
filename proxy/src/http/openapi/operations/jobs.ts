import type { ProxyErrorCode } from "../../../core/errors.ts";
import { jobAudioQuerySchema, jobListQuerySchema, jobQuerySchema } from "../../../jobs/schemas.ts";
import { ref } from "../components.ts";
import { type DocumentLimits, json, type OperationSpec } from "../spec.ts";

/** The batch plan's jobs API (../../routes/jobs.ts); absent from the document when the proxy serves none. */

/** Every jobs route is behind the batch-plan gate. */
const GATED: ProxyErrorCode[] = ["BATCH_PLAN_REQUIRED"];
const ID = { id: "the job's id (`job_…`)" };
const wav = { "audio/wav": { schema: { type: "string", contentMediaType: "audio/wav" } } };

export function jobOperations(limits: DocumentLimits): OperationSpec[] {
  if (limits.jobsMaxBodyBytes === null) return [];
  return [
    {
      method: "post",
      path: "/v1/jobs",
      operationId: "createJob",
      tag: "Batch jobs",
      summary: "Queue a batch job",
      description:
        "For keys of the batch plan (others get 403 `BATCH_PLAN_REQUIRED`, whose `details.required_plan` names it). " +
        "Give `items` (each a synthesis: text, voice, emotion, speed, seed; the job's own settings are their " +
        "defaults) or one long `text`, split at sentence ends into segments of at most `segment_max_chars`. Each " +
        `item's text is at most ${limits.maxTextChars} characters; the body is at most ${limits.jobsMaxBodyBytes} ` +
        "bytes (its own cap, not the proxy's). Items, characters and unfinished work are limited per plan " +
        "(429 `JOB_QUOTA_EXCEEDED`, with `details.limit`). Each item is charged once, when done, at the batch price " +
        "(never a peak surcharge); what fails or is cancelled is not charged. With `callback_url`, the finished job " +
        "is POSTed there, signed with HMAC-SHA256 under the `callback_secret` of this answer.",
      access: "customer",
      body: "JobRequest",
      idempotencyKey: true,
      ok: {
        status: 202,
        description: "The job, queued.",
        content: json(ref("Job")),
        headers: ["Location"],
      },
      otherOk: [
        {
          status: 200,
          description:
            "An idempotent replay: the job an earlier POST with this `Idempotency-Key` created, as it is now. " +
            "Nothing new was queued.",
          headers: ["Location", "Idempotent-Replayed"],
        },
      ],
      errors: [
        ...GATED,
        "EMPTY_TEXT",
        "TEXT_TOO_LONG",
        "UNKNOWN_VOICE",
        "UNKNOWN_EMOTION",
        "JOB_QUOTA_EXCEEDED",
        "IDEMPOTENCY_KEY_IN_USE",
        "IDEMPOTENCY_KEY_REUSED",
        // edge: the Cloudflare Queue did not take the items (nothing accepted)
        "JOBS_QUEUE_UNAVAILABLE",
        // a replay of a key whose job the customer has deleted
        "NOT_FOUND",
      ],
    },
    {
      method: "get",
      path: "/v1/jobs",
      operationId: "listJobs",
      tag: "Batch jobs",
      summary: "List the caller's jobs, newest first",
      access: "customer",
      query: jobListQuerySchema,
      queryDescriptions: { limit: "jobs per page", before: "the `next_before` of the previous page" },
      ok: { status: 200, description: "One page of jobs (without their items).", content: json(ref("JobList")) },
      errors: [...GATED, "INVALID_REQUEST"],
    },
    {
      method: "get",
      path: "/v1/jobs/{id}",
      operationId: "getJob",
      tag: "Batch jobs",
      summary: "A job's status, progress and items",
      description: "Another customer's job is 404, like one that does not exist.",
      access: "customer",
      pathDescriptions: ID,
      query: jobQuerySchema,
      queryDescriptions: { from: "items from this position", limit: "items shown (0: the job without its items)" },
      ok: { status: 200, description: "The job and a page of its items.", content: json(ref("JobDetail")) },
      errors: [...GATED, "INVALID_REQUEST", "NOT_FOUND"],
    },
    {
      method: "get",
      path: "/v1/jobs/{id}/items/{n}/audio",
      operationId: "getJobItemAudio",
      tag: "Batch jobs",
      summary: "One item's audio",
      description:
        "409 `ITEM_NOT_READY` until the item is done (with `Retry-After` while it may still be; " +
        "`details.state` says where it is).",
      access: "customer",
      pathDescriptions: { ...ID, n: "the item's 0-based position" },
      ok: {
        status: 200,
        description: "The item's WAV, and what it was charged.",
        content: wav,
        headers: ["X-Audio-Duration-Ms", "X-Tokens", "X-Amount-Micros"],
      },
      errors: [...GATED, "NOT_FOUND", "ITEM_NOT_READY"],
    },
    {
      method: "get",
      path: "/v1/jobs/{id}/audio",
      operationId: "getJobAudio",
      tag: "Batch jobs",
      summary: "The whole job as one WAV",
      description:
        "The done items' audio in item order, streamed as one WAV. 409 `JOB_NOT_COMPLETE` while items are " +
        "missing, unless `skip_missing=true`.",
      access: "customer",
      pathDescriptions: ID,
      query: jobAudioQuerySchema,
      queryDescriptions: { skip_missing: "leave out items that are not done instead of refusing the download" },
      ok: {
        status: 200,
        description: "One WAV of every done item.",
        content: wav,
        headers: ["X-Job-Items", "X-Audio-Duration-Ms", "Content-Disposition"],
      },
      errors: [...GATED, "INVALID_REQUEST", "NOT_FOUND", "JOB_NOT_COMPLETE", "JOB_AUDIO_TOO_LARGE"],
    },
    {
      method: "delete",
      path: "/v1/jobs/{id}",
      operationId: "deleteJob",
      tag: "Batch jobs",
      summary: "Cancel an unfinished job, or delete a finished one",
      description:
        "Unfinished: cancelled; items not yet run are never charged (one already finishing completes and is " +
        "charged). Finished: its rows and audio are deleted now rather than at the end of retention; its usage " +
        "stays in the ledger.",
      access: "customer",
      pathDescriptions: ID,
      ok: {
        status: 200,
        description: "The cancelled job (`cancelled: true`) or the deletion (`deleted: true`).",
        content: json(ref("JobDeleted")),
      },
      errors: [...GATED, "NOT_FOUND"],
    },
  ];
}
