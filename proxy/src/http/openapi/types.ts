import { z } from "zod";
import type { ProxyErrorCode } from "../../core/errors.ts";

/** The slice of OpenAPI 3.1 the proxy's document uses. */

export type JsonSchema = { [keyword: string]: unknown };

export interface OpenApiHeader {
  description: string;
  schema: JsonSchema;
}

export interface OpenApiRef {
  $ref: string;
}

export interface OpenApiParameter {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface OpenApiMediaType {
  schema: JsonSchema;
  example?: unknown;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, OpenApiRef>;
  content?: Record<string, OpenApiMediaType>;
  /** the error codes this response carries (a vendor extension the HTML reference renders) */
  "x-error-codes"?: ProxyErrorCode[];
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; description?: string; content: Record<string, OpenApiMediaType> };
  responses: Record<string, OpenApiResponse>;
}

export type HttpMethod = "get" | "post" | "put" | "delete";

export interface OpenApiDocument {
  openapi: "3.1.0";
  jsonSchemaDialect: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    headers: Record<string, OpenApiHeader>;
    securitySchemes: Record<string, Record<string, string>>;
  };
}

/** JSON Schema 2020-12 of a zod schema, without `$schema` (the document's `jsonSchemaDialect` states it once). */
export function jsonSchemaOf(schema: z.ZodType, io: "input" | "output" = "input"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io }) as JsonSchema;
  return rest;
}
