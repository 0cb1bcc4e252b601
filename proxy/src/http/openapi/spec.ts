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
  /** descriptions of query parameters (default "epoch milliseconds") */
  queryDescriptions?: Record<string, string>;
  idempotencyKey?: boolean;
  ok: {
    status: number;
    description: string;
    content: Record<string, OpenApiMediaType>;
    headers?: HeaderName[];
  };
  /** error codes beyond those implied by `access` and `body` */
  errors?: ProxyErrorCode[];
}

/** The configured limits that appear in descriptions. */
export interface DocumentLimits {
  maxBodyBytes: number;
  maxTextChars: number;
  tokensPerSecond: number;
}

export const json = (schema: JsonSchema): Record<string, OpenApiMediaType> => ({ "application/json": { schema } });
