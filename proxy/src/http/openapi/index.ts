/** The proxy's OpenAPI document: `openApiDocument(config)`, and the schemas and types it is made of. */

export { openApiDocument } from "./build.ts";
export { errorEnvelopeSchema, REQUEST_BODY_SCHEMAS, RESPONSE_SCHEMAS } from "./components.ts";
export { headerComponentName } from "./headers.ts";
export type { DocumentLimits } from "./spec.ts";
export type {
  HttpMethod,
  JsonSchema,
  OpenApiDocument,
  OpenApiHeader,
  OpenApiMediaType,
  OpenApiOperation,
  OpenApiParameter,
  OpenApiRef,
  OpenApiResponse,
} from "./types.ts";
export { jsonSchemaOf } from "./types.ts";
