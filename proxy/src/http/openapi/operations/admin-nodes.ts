import { arrayOf, obj, ref } from "../components.ts";
import { type DocumentLimits, json, type OperationSpec } from "../spec.ts";

/** The admin API for GPU nodes and their routing pools. */
export function adminNodeOperations(_limits: DocumentLimits): OperationSpec[] {
  return [
    {
      method: "post",
      path: "/admin/nodes",
      operationId: "addNode",
      tag: "Admin: nodes",
      summary: "Add a GPU node",
      description:
        "A node of pool `shared` serves every customer without a dedicated pool; any other pool serves only the " +
        "customers whose `dedicated_pool` names it.",
      access: "admin",
      body: "NodeRequest",
      ok: { status: 201, description: "The node.", content: json(obj({ node: ref("Node") })) },
      errors: ["CONFLICT"],
    },
    {
      method: "get",
      path: "/admin/nodes",
      operationId: "listNodes",
      tag: "Admin: nodes",
      summary: "List GPU nodes with their live state and breaker",
      access: "admin",
      ok: {
        status: 200,
        description: "Registered nodes, with the proxy's live view (`live`) and circuit breaker (`breaker`), or null.",
        content: json(
          obj({
            nodes: arrayOf({
              allOf: [ref("Node")],
              properties: {
                live: { type: ["object", "null"], description: "load and health as this proxy sees them" },
                breaker: { type: ["object", "null"], description: "the node's circuit breaker" },
              },
            }),
          }),
        ),
      },
    },
    {
      method: "post",
      path: "/admin/nodes/{id}/drain",
      operationId: "drainNode",
      tag: "Admin: nodes",
      summary: "Drain a GPU node",
      description: "The node finishes the requests it has; no new request is routed to it.",
      access: "admin",
      ok: { status: 200, description: "The draining node.", content: json(obj({ node: ref("Node") })) },
      errors: ["NOT_FOUND"],
    },
    {
      method: "post",
      path: "/admin/nodes/{id}/activate",
      operationId: "activateNode",
      tag: "Admin: nodes",
      summary: "Put a drained GPU node back into service",
      access: "admin",
      ok: { status: 200, description: "The active node.", content: json(obj({ node: ref("Node") })) },
      errors: ["NOT_FOUND"],
    },
    {
      method: "delete",
      path: "/admin/nodes/{id}",
      operationId: "removeNode",
      tag: "Admin: nodes",
      summary: "Remove a GPU node",
      access: "admin",
      ok: { status: 200, description: "The node's id.", content: json(obj({ removed: { type: "string" } })) },
      errors: ["NOT_FOUND"],
    },
  ];
}
