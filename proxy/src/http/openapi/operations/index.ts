import type { DocumentLimits, OperationSpec } from "../spec.ts";
import { accountOperations } from "./account.ts";
import { adminCustomerOperations } from "./admin-customers.ts";
import { adminNodeOperations } from "./admin-nodes.ts";
import { adminPlanOperations } from "./admin-plans.ts";
import { billingOperations } from "./billing.ts";
import { jobOperations } from "./jobs.ts";
import { keyOperations } from "./keys.ts";
import { publicOperations } from "./public.ts";
import { speechOperations } from "./speech.ts";

/** Every documented operation, in document order. A new API area adds its file here. */
export function allOperations(limits: DocumentLimits): OperationSpec[] {
  return [
    ...speechOperations(limits),
    ...accountOperations(limits),
    ...keyOperations(limits),
    ...jobOperations(limits),
    ...adminCustomerOperations(limits),
    ...adminPlanOperations(limits),
    ...adminNodeOperations(limits),
    ...billingOperations(limits),
    ...publicOperations(limits),
  ];
}
