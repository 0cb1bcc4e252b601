import type { z } from "zod";
import type { ProxyErrorCode } from "../../core/errors.ts";
import type { RequestBodyName } from "./components.ts";
import type { HeaderName } from "./headers.ts";
import type { HttpMethod, JsonSchema, OpenApiMediaType } from "./types.ts";

/**
 * How an operation is described before it becomes OpenAPI: who may call it, its body and query schemas (the
 * handlers' own zod schemas), its success response and the error codes beyond those its access and body imply.
 * `./build.ts` turns each spec into an operation; `./operations/` holds the specs, one file per API area.
 */

export type Access = "public" | "customer" | "admin";

export interface OperationSpec {
  method: HttpMethod;
  /** OpenAPI path template (`{id}`) */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  access: Access;
  /** a JSON body read with `readJson` (415, 400 INVALID_JSON / INVALID_REQUEST) */
  body?: RequestBodyName;
  /** any other body, documented as is */
  otherBody?: { required: boolean; description: string; schema: JsonSchema };
  query?: z.ZodObject;
  /** descriptions of path parameters (default "the id") */
  pathDescriptions?: Record<string, string>;
  /** descriptions of query parameters (default "epoch milliseconds") */
  queryDescriptions?: Record<string, string>;
  idempotencyKey?: boolean;
  ok: {
    status: number;
    description: string;
    content: Record<string, OpenApiMediaType>;
    headers?: HeaderName[];
  };
  /** other successful statuses with the same content (e.g. 200 for an idempotent replay of a 202) */
  otherOk?: { status: number; description: string; headers?: HeaderName[] }[];
  /** error codes beyond those implied by `access` and `body` */
  errors?: ProxyErrorCode[];
}

/** The configured limits that appear in descriptions. */
export interface DocumentLimits {
  maxBodyBytes: number;
  /** the jobs API's own body cap; null: the proxy serves no jobs API (and the document leaves it out) */
  jobsMaxBodyBytes: number | null;
  maxTextChars: number;
  tokensPerSecond: number;
}

export const json = (schema: JsonSchema): Record<string, OpenApiMediaType> => ({ "application/json": { schema } });
