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
      summary: "The caller's own usage by day",
      description:
        "Usage of the key's customer per local day (plan time zone), peak and off-peak apart, and totals per " +
        "currency. Defaults to the last 31 days.",
      access: "customer",
      query: customerUsageQuerySchema,
      ok: { status: 200, description: "Usage in `[from, to)`.", content: json(ref("CustomerUsage")) },
      errors: ["INVALID_REQUEST"],
    },
  ];
}
