/**
 * Validates Talk responses against Talk's own OpenAPI document (spreed 21.0.3, passed in by
 * vitest.config.ts as `SPREED_OPENAPI`), with a JSON Schema validator made for Workers
 * (`@cfworker/json-schema`). The document is OpenAPI 3.0, so two things are translated first:
 * - `nullable: true` becomes "or null";
 * - a map (`type: object` with `additionalProperties` and no `properties`) also admits `[]`, because
 *   that is how PHP encodes an empty array and how the reference sends empty maps such as
 *   `messageParameters` (its `Message::toArray` passes the PHP array through; only `reactions` is
 *   forced to `{}`): the document describes them as objects, the server sends `[]`.
 */
import { env } from "cloudflare:workers";
import { type Schema, Validator } from "@cfworker/json-schema";
import type { OcsReply } from "./http";

type OpenApiSchema = Record<string, unknown>;

interface Document {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: OpenApiSchema }> }> }>>;
  components: { schemas: Record<string, OpenApiSchema> };
}

/** Whether Talk's OpenAPI document is on this machine (it lives with the reference material). */
export const haveSpreedOpenApi = env.SPREED_OPENAPI !== "";

let loaded: { doc: Document; components: Record<string, OpenApiSchema> } | null = null;

function load() {
  if (!loaded) {
    const doc = JSON.parse(env.SPREED_OPENAPI) as Document;
    const components: Record<string, OpenApiSchema> = {};
    for (const [name, schema] of Object.entries(doc.components.schemas)) components[name] = translate(schema);
    loaded = { doc, components };
  }
  return loaded;
}

/** OpenAPI 3.0 schema → JSON Schema, as described above. */
function translate(schema: unknown): OpenApiSchema {
  if (Array.isArray(schema)) return schema.map(translate) as unknown as OpenApiSchema;
  if (schema === null || typeof schema !== "object") return schema as OpenApiSchema;
  const { nullable, ...rest } = schema as OpenApiSchema & { nullable?: boolean };
  const out: OpenApiSchema = {};
  for (const [key, value] of Object.entries(rest)) {
    // Nested schemas are translated; `properties` and `enum` hold names and values, not schemas.
    if (key === "properties") out[key] = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, translate(v)]));
    else if (key === "enum" || key === "required") out[key] = value;
    else out[key] = typeof value === "object" && value !== null ? translate(value) : value;
  }
  let result: OpenApiSchema = out;
  if (out.type === "object" && out.additionalProperties && !out.properties) result = { anyOf: [out, { type: "array", maxItems: 0 }] };
  if (nullable) result = { anyOf: [result, { type: "null" }] };
  return result;
}

/**
 * The response's errors against the document's schema for `method path` and its status (a status
 * the document does not list for the operation is an error too). Empty when it conforms.
 */
export function contractErrors(method: string, path: string, reply: OcsReply): string[] {
  const { doc, components } = load();
  const operation = doc.paths[path]?.[method.toLowerCase()];
  if (!operation) return [`the document has no ${method} ${path}`];
  const response = operation.responses[String(reply.status)];
  if (!response) return [`${method} ${path} does not document status ${reply.status} (documented: ${Object.keys(operation.responses).join(", ")})`];
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) return [];
  const root = { ...translate(schema), components: { schemas: components } } as Schema;
  const result = new Validator(root, "7", false).validate({ ocs: { meta: reply.meta, data: reply.data } });
  return result.valid ? [] : result.errors.map((e) => `${e.instanceLocation}: ${e.error}`);
}
