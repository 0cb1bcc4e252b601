import { adminUsageQuerySchema, suspendBodySchema } from "../../schemas.ts";
import { arrayOf, obj, ref } from "../components.ts";
import { type DocumentLimits, json, type OperationSpec } from "../spec.ts";
import { jsonSchemaOf } from "../types.ts";

/** The admin API for customers, their API keys and their usage. */
export function adminCustomerOperations(_limits: DocumentLimits): OperationSpec[] {
  return [
    {
      method: "post",
      path: "/admin/customers",
      operationId: "createCustomer",
      tag: "Admin: customers",
      summary: "Create a customer",
      description: "`dedicated_pool` routes every request of the customer to the nodes of that pool only (enterprise).",
      access: "admin",
      body: "CustomerRequest",
      ok: { status: 201, description: "The new customer.", content: json(obj({ customer: ref("Customer") })) },
      errors: ["CONFLICT"],
    },
    {
      method: "get",
      path: "/admin/customers",
      operationId: "listCustomers",
      tag: "Admin: customers",
      summary: "List customers",
      access: "admin",
      ok: { status: 200, description: "All customers.", content: json(obj({ customers: arrayOf(ref("Customer")) })) },
    },
    {
      method: "get",
      path: "/admin/customers/{id}",
      operationId: "getCustomer",
      tag: "Admin: customers",
      summary: "A customer and its keys",
      access: "admin",
      ok: {
        status: 200,
        description: "The customer and its API keys (never the keys themselves).",
        content: json(obj({ customer: ref("Customer"), keys: arrayOf(ref("ApiKey")) })),
      },
      errors: ["NOT_FOUND"],
    },
    {
      method: "post",
      path: "/admin/customers/{id}/suspend",
      operationId: "suspendCustomer",
      tag: "Admin: customers",
      summary: "Suspend a customer",
      description: "Every key of the customer answers 403 `CUSTOMER_SUSPENDED` until it is restored.",
      access: "admin",
      otherBody: {
        required: false,
        description: "Optional; read as JSON whatever its content type, and ignored when it is not JSON.",
        schema: jsonSchemaOf(suspendBodySchema),
      },
      ok: { status: 200, description: "The suspended customer.", content: json(obj({ customer: ref("Customer") })) },
      errors: ["NOT_FOUND", "INVALID_REQUEST"],
    },
    {
      method: "post",
      path: "/admin/customers/{id}/restore",
      operationId: "restoreCustomer",
      tag: "Admin: customers",
      summary: "Restore a suspended customer",
      access: "admin",
      ok: { status: 200, description: "The restored customer.", content: json(obj({ customer: ref("Customer") })) },
      errors: ["NOT_FOUND"],
    },
    {
      method: "post",
      path: "/admin/customers/{id}/keys",
      operationId: "issueKey",
      tag: "Admin: customers",
      summary: "Issue an API key",
      description: "The plaintext key is in this response only: the proxy stores its SHA-256.",
      access: "admin",
      ok: { status: 201, description: "The new key.", content: json(ref("IssuedKey")) },
      errors: ["NOT_FOUND"],
    },
    {
      method: "get",
      path: "/admin/customers/{id}/keys",
      operationId: "listKeys",
      tag: "Admin: customers",
      summary: "List a customer's API keys",
      description: "Every key, revoked ones included (`revokedAt`), by its display prefix: never the key itself.",
      access: "admin",
      ok: { status: 200, description: "The customer's keys.", content: json(obj({ keys: arrayOf(ref("ApiKey")) })) },
      errors: ["NOT_FOUND"],
    },
    {
      method: "delete",
      path: "/admin/keys/{id}",
      operationId: "revokeKey",
      tag: "Admin: customers",
      summary: "Revoke an API key",
      description: "The key answers 401 `INVALID_API_KEY` from the next request on.",
      access: "admin",
      ok: { status: 200, description: "The revoked key.", content: json(obj({ key: ref("ApiKey") })) },
      errors: ["NOT_FOUND"],
    },
    {
      method: "get",
      path: "/admin/usage",
      operationId: "getUsage",
      tag: "Admin: usage",
      summary: "Usage across customers",
      description:
        "Totals of every customer per currency and per plan (`plans`: the plan the usage was charged under, so a " +
        "customer whose plan changed has a row for each), and the same per customer: one page of customers with " +
        "usage in the range (`limit`, `after`), or one customer with its days by plan (`customer_id`). Amounts are " +
        "integer micro-units of `currency`.",
      access: "admin",
      query: adminUsageQuerySchema,
      queryDescriptions: {
        customer_id: "only this customer (with usage per local day)",
        limit: "customers per page",
        after: "the `next_after` of the previous page",
      },
      ok: { status: 200, description: "Usage in `[from, to)`.", content: json(ref("AdminUsage")) },
      errors: ["INVALID_REQUEST", "NOT_FOUND"],
    },
  ];
}
