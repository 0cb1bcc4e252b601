import { arrayOf, obj, ref } from "../components.ts";
import { type DocumentLimits, json, type OperationSpec } from "../spec.ts";

/** The admin API for plans and their versioned prices. */
export function adminPlanOperations(_limits: DocumentLimits): OperationSpec[] {
  return [
    {
      method: "put",
      path: "/admin/plans/{id}",
      operationId: "upsertPlan",
      tag: "Admin: plans",
      summary: "Create or update a plan",
      description: "Name, limits, currency and time zone. Prices are versioned separately.",
      access: "admin",
      body: "PlanRequest",
      ok: { status: 200, description: "The plan.", content: json(obj({ plan: ref("Plan") })) },
    },
    {
      method: "get",
      path: "/admin/plans",
      operationId: "listPlans",
      tag: "Admin: plans",
      summary: "List plans",
      access: "admin",
      ok: { status: 200, description: "All plans.", content: json(obj({ plans: arrayOf(ref("Plan")) })) },
    },
    {
      method: "get",
      path: "/admin/plans/{id}/prices",
      operationId: "listPriceVersions",
      tag: "Admin: plans",
      summary: "List a plan's price versions",
      access: "admin",
      ok: {
        status: 200,
        description: "The plan's price versions, ascending (empty for an unknown plan).",
        content: json(obj({ versions: arrayOf(ref("PriceVersion")) })),
      },
    },
    {
      method: "post",
      path: "/admin/plans/{id}/prices",
      operationId: "addPriceVersion",
      tag: "Admin: plans",
      summary: "Add a price version",
      description:
        "Takes effect at `effective_from` (now when omitted), which may not be in the past nor before the latest " +
        "version's: usage already rated keeps its price.",
      access: "admin",
      body: "PriceVersionRequest",
      ok: { status: 201, description: "The new version.", content: json(obj({ version: ref("PriceVersion") })) },
      errors: ["NOT_FOUND"],
    },
  ];
}
