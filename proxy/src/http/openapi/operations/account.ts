import { customerUsageQuerySchema } from "../../schemas.ts";
import { ref } from "../components.ts";
import { type DocumentLimits, json, type OperationSpec } from "../spec.ts";

/** GET /v1/voices and GET /v1/usage: the calling key's own account. */
export function accountOperations(_limits: DocumentLimits): OperationSpec[] {
  return [
    {
      method: "get",
      path: "/v1/voices",
      operationId: "listVoices",
      tag: "Account",
      summary: "List the voices",
      access: "customer",
      ok: { status: 200, description: "The voices the GPU nodes offer.", content: json(ref("Voices")) },
    },
    {
      method: "get",
      path: "/v1/usage",
      operationId: "getOwnUsage",
      tag: "Account",
      summary: "The caller's own usage by day and plan",
      description:
        "Usage of the key's customer per local day (in the current plan's time zone) and plan charged under, peak " +
        "and off-peak apart (`days`); totals per plan (`plans`: a plan change within the range shows both) and per " +
        "currency (`totals`). Tokens, and amounts in integer micro-units of `currency`. Defaults to the last 31 days.",
      access: "customer",
      query: customerUsageQuerySchema,
      ok: { status: 200, description: "Usage in `[from, to)`.", content: json(ref("CustomerUsage")) },
      errors: ["INVALID_REQUEST"],
    },
  ];
}
