import { arrayOf, obj, ref } from "../components.ts";
import { type DocumentLimits, json, type OperationSpec } from "../spec.ts";

/** GET/POST/DELETE /v1/keys: a customer's own API keys. */
export function keyOperations(_limits: DocumentLimits): OperationSpec[] {
  return [
    {
      method: "get",
      path: "/v1/keys",
      operationId: "listOwnKeys",
      tag: "Keys",
      summary: "List your API keys",
      description: "Every key of the caller's customer, revoked and expired ones included, by prefix: never the key.",
      access: "customer",
      ok: {
        status: 200,
        description: "The keys, oldest first, and the plan's limit of active keys.",
        content: json(obj({ keys: arrayOf(ref("CustomerKey")), active_key_limit: { type: "integer" } })),
      },
    },
    {
      method: "post",
      path: "/v1/keys",
      operationId: "createOwnKey",
      tag: "Keys",
      summary: "Create an API key",
      description:
        "A named key, optionally expiring at `expires_at` (epoch ms). The plaintext key is in this response only. " +
        "Each plan allows so many active keys (basic 5, batch 10, enterprise 50): over it, 409 `KEY_LIMIT_REACHED`.",
      access: "customer",
      body: "KeyRequest",
      ok: {
        status: 201,
        description: "The new key, shown once.",
        content: json(
          obj({
            id: { type: "string" },
            key: { type: "string" },
            prefix: { type: "string" },
            name: { type: "string" },
            expires_at: { type: ["integer", "null"] },
          }),
        ),
      },
      errors: ["KEY_LIMIT_REACHED"],
    },
    {
      method: "delete",
      path: "/v1/keys/{id}",
      operationId: "revokeOwnKey",
      tag: "Keys",
      summary: "Revoke one of your API keys",
      description: "The key answers 401 from its next request on. Another customer's key id answers 404.",
      access: "customer",
      ok: { status: 200, description: "The revoked key.", content: json(obj({ key: ref("CustomerKey") })) },
      errors: ["NOT_FOUND"],
    },
  ];
}
