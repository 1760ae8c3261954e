/**
 * Contract checks of every response the test suite receives: Talk's (`/ocs/v2.php/apps/spreed/…`)
 * against spreed's own OpenAPI document (21.0.3, `SPREED_OPENAPI`), OpenTalk's (`/v1/…`) against
 * the seed's OpenTalk spec (frontend_api 2024-02-21, `OPENTALK_OPENAPI`, YAML turned into JSON by
 * vitest.config.ts). `request()` (test/helpers/http.ts) hands each response here; the mismatches
 * collect until test/setup.ts takes them after each test and fails it on any that
 * test/contract-exceptions.json does not allow (its `amendments` change a schema before checking). Validation uses `@cfworker/json-schema`, a JSON
 * Schema validator made for Workers.
 *
 * Spreed's document is OpenAPI 3.0, so two things are translated first:
 * - `nullable: true` becomes "or null";
 * - a map (`type: object` with `additionalProperties` and no `properties`), or an object none of
 *   whose properties is required, also admits `[]`, because that is how PHP encodes an empty array
 *   and how the reference sends empty maps such as `messageParameters` (its `Message::toArray`
 *   passes the PHP array through; only `reactions` is forced to `{}`) and empty answers such as
 *   `addParticipantToRoom`'s for a user: the document describes them as objects, the server sends `[]`.
 * OpenTalk's is OpenAPI 3.1, whose schemas are JSON Schema 2020-12 already.
 */
import { env } from "cloudflare:workers";
import { type Schema, Validator } from "@cfworker/json-schema";
import exceptionsFile from "../contract-exceptions.json";

type OpenApiSchema = Record<string, unknown>;
type Operation = { responses: Record<string, OpenApiSchema> };

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, OpenApiSchema>; responses?: Record<string, OpenApiSchema> };
}

/** One response that does not match its document. */
export interface Mismatch {
  api: "talk" | "opentalk";
  method: string;
  /** The document's path template, e.g. `/ocs/v2.php/apps/spreed/api/{apiVersion}/room/{token}`. */
  template: string;
  status: number;
  /** What differs: an instance location and the validator's message, or a missing operation/status. */
  error: string;
}

interface Api {
  name: Mismatch["api"];
  /** The concrete paths this document covers, and how they map onto its path templates. */
  covers: (path: string) => string | null;
  doc: Document;
  components: Record<string, OpenApiSchema>;
  templates: { template: string; regex: RegExp; literal: number }[];
  draft: "7" | "2020-12";
  translate: (schema: unknown) => OpenApiSchema;
  /** One compiled validator per operation response ("method template status"). */
  validators: Map<string, Validator>;
}

/** Validator errors that only wrap the leaves ("property x does not match", "items do not match"). */
const WRAPPERS = new Set(["properties", "items", "$ref", "allOf", "additionalProperties"]);

const SPREED_PREFIX = "/ocs/v2.php/apps/spreed/api/";

/**
 * A documented decision that changes one of the document's schemas (test/contract-exceptions.json,
 * `amendments`): properties added or replaced, required ones made optional, some admitting null.
 * Narrower than an exception: the rest of the schema is still checked.
 */
interface Amendment {
  api: Mismatch["api"];
  schema: string;
  properties?: Record<string, OpenApiSchema>;
  optional?: string[];
  nullable?: string[];
  reason: string;
}

function amend(schema: OpenApiSchema, a: Amendment): OpenApiSchema {
  const properties = { ...(schema.properties as Record<string, OpenApiSchema>), ...a.properties };
  for (const name of a.nullable ?? []) properties[name] = { anyOf: [properties[name] ?? {}, { type: "null" }] };
  const required = (schema.required as string[] | undefined)?.filter((name) => !a.optional?.includes(name));
  return { ...schema, properties, ...(required ? { required } : {}) };
}

function compile(api: Mismatch["api"], doc: Document, translate: (s: unknown) => OpenApiSchema) {
  const components: Record<string, OpenApiSchema> = {};
  for (const [name, schema] of Object.entries(doc.components.schemas)) components[name] = translate(schema);
  for (const a of (exceptionsFile.amendments as Amendment[]).filter((a) => a.api === api)) {
    const schema = components[a.schema];
    if (!schema) throw new Error(`contract-exceptions.json amends ${a.schema}, which the ${api} document does not have`);
    components[a.schema] = amend(schema, a);
  }
  const templates = Object.keys(doc.paths).map((template) => ({
    template,
    regex: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`),
    literal: template.replace(/\{[^}]+\}/g, "").length,
  }));
  // The most specific template first: `/room/{token}/participants` before `/room/{token}/{x}`.
  templates.sort((a, b) => b.literal - a.literal);
  return { components, templates, validators: new Map<string, Validator>() };
}

let apis: Api[] | null = null;

function load(): Api[] {
  if (apis) return apis;
  apis = [];
  if (env.SPREED_OPENAPI) {
    const doc = JSON.parse(env.SPREED_OPENAPI) as Document;
    apis.push({ name: "talk", covers: (p) => (p.startsWith(SPREED_PREFIX) ? p : null), doc, draft: "7", translate: translate30, ...compile("talk", doc, translate30) });
  }
  if (env.OPENTALK_OPENAPI) {
    const doc = JSON.parse(env.OPENTALK_OPENAPI) as Document;
    const same = (s: unknown) => s as OpenApiSchema;
    apis.push({ name: "opentalk", covers: (p) => (p.startsWith("/v1/") ? p.slice(3) : null), doc, draft: "2020-12", translate: same, ...compile("opentalk", doc, same) });
  }
  return apis;
}

/** OpenAPI 3.0 schema → JSON Schema, as described above. */
function translate30(schema: unknown): OpenApiSchema {
  if (Array.isArray(schema)) return schema.map(translate30) as unknown as OpenApiSchema;
  if (schema === null || typeof schema !== "object") return schema as OpenApiSchema;
  const { nullable, ...rest } = schema as OpenApiSchema & { nullable?: boolean };
  const out: OpenApiSchema = {};
  for (const [key, value] of Object.entries(rest)) {
    // Nested schemas are translated; `properties` and `enum` hold names and values, not schemas.
    if (key === "properties") out[key] = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, translate30(v)]));
    else if (key === "enum" || key === "required") out[key] = value;
    else out[key] = typeof value === "object" && value !== null ? translate30(value) : value;
  }
  let result: OpenApiSchema = out;
  // PHP's empty array is `[]`: a map, or an object none of whose properties is required, may be one.
  const required = (out.required as unknown[] | undefined)?.length ?? 0;
  if (out.type === "object" && ((out.additionalProperties && !out.properties) || (out.properties && required === 0))) result = { anyOf: [out, { type: "array", maxItems: 0 }] };
  if (nullable) result = { anyOf: [result, { type: "null" }] };
  return result;
}

/** Whether the documents are on this machine (they live with the reference material). */
export const haveSpreedOpenApi = env.SPREED_OPENAPI !== "";
export const haveOpenTalkOpenApi = env.OPENTALK_OPENAPI !== "";

/**
 * The response's mismatches against the document covering `path` (none when no document covers
 * it). `body` is the parsed JSON body, or undefined when the response has none or is not JSON.
 */
export function contractMismatches(method: string, path: string, status: number, body: unknown): Mismatch[] {
  for (const api of load()) {
    const local = api.covers(path);
    if (local === null) continue;
    const m = method.toLowerCase();
    const match = api.templates.find((t) => t.regex.test(local) && api.doc.paths[t.template]?.[m]);
    const template = match ? (api.name === "opentalk" ? `/v1${match.template}` : match.template) : path;
    const mismatch = (error: string): Mismatch => ({ api: api.name, method: method.toUpperCase(), template, status, error });
    if (!match) return [mismatch("the document has no such operation")];
    const operation = api.doc.paths[match.template]?.[m] as Operation;
    let response = operation.responses[String(status)];
    if (!response) {
      const found = [mismatch(`status not documented (documented: ${Object.keys(operation.responses).join(", ")})`)];
      // An error the operation does not list must still come in the dialect's error shape.
      if (status >= 400 && !ERROR_SHAPE[api.name](body)) found.push(mismatch(`not the ${api.name === "talk" ? "OCS envelope" : "error body {code, message}"}: ${JSON.stringify(body)?.slice(0, 120)}`));
      return found;
    }
    const ref = response.$ref as string | undefined;
    if (ref) response = api.doc.components.responses?.[ref.split("/").pop() ?? ""] ?? {};
    const schema = (response.content as Record<string, { schema?: OpenApiSchema }> | undefined)?.["application/json"]?.schema;
    if (!schema) return [];
    if (body === undefined) return [mismatch("the document describes a JSON body; there is none")];
    const key = `${m} ${match.template} ${status}`;
    let validator = api.validators.get(key);
    if (!validator) {
      validator = new Validator({ ...api.translate(schema), components: { schemas: api.components } } as Schema, api.draft, false);
      api.validators.set(key, validator);
    }
    const result = validator.validate(body);
    return result.valid
      ? []
      : result.errors
          .filter((e) => !WRAPPERS.has(e.keyword))
          .map((e) => mismatch(`${e.instanceLocation}: ${e.error}${e.keyword === "enum" ? ` (got ${JSON.stringify(valueAt(body, e.instanceLocation))})` : ""}`));
  }
  return [];
}

/** The value at a JSON pointer of the validator's form (`#/ocs/data/error`). */
function valueAt(body: unknown, pointer: string): unknown {
  let value = body;
  for (const part of pointer.replace(/^#\/?/, "").split("/").filter(Boolean)) {
    value = (value as Record<string, unknown> | undefined)?.[decodeURIComponent(part).replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return value;
}

/** The error shapes of the dialects: Talk's OCS envelope, OpenTalk's error body. */
const ERROR_SHAPE: Record<Mismatch["api"], (body: unknown) => boolean> = {
  talk: (body) => {
    const meta = (body as { ocs?: { meta?: { status?: unknown; statuscode?: unknown } } } | undefined)?.ocs?.meta;
    return typeof meta?.status === "string" && typeof meta.statuscode === "number" && "data" in ((body as { ocs: object }).ocs ?? {});
  },
  opentalk: (body) => typeof (body as { code?: unknown } | undefined)?.code === "string" && typeof (body as { message?: unknown }).message === "string",
};

const found: Mismatch[] = [];

/** Checks one response the suite received (http.ts `request`); JSON bodies are read from a clone. */
export async function recordContract(method: string, url: string, res: Response): Promise<void> {
  const path = new URL(url).pathname;
  if (res.status === 101 || !load().some((api) => api.covers(path) !== null)) return;
  const type = res.headers.get("content-type") ?? "";
  let body: unknown;
  if (type.includes("json")) {
    try {
      body = JSON.parse(await res.clone().text());
    } catch {
      body = undefined;
    }
  } else if (type.includes("xml")) return; // `format=xml`: the documents describe JSON only
  found.push(...contractMismatches(method, path, res.status, body));
}

/** The mismatches recorded since the last call. */
export function takeMismatches(): Mismatch[] {
  return found.splice(0, found.length);
}

interface ContractException {
  kind: "decision" | "defect";
  api?: Mismatch["api"];
  method?: string;
  template?: string;
  status?: number[];
  error: string;
  reason: string;
}

const EXCEPTIONS = (exceptionsFile.exceptions as ContractException[]).map((e) => ({ ...e, templateRe: e.template ? new RegExp(e.template) : null, errorRe: new RegExp(e.error) }));

/** The entry of test/contract-exceptions.json that allows this mismatch, if one does. */
export function allowedBy(m: Mismatch): ContractException | null {
  return (
    EXCEPTIONS.find(
      (e) =>
        (e.api === undefined || e.api === m.api) &&
        (e.method === undefined || e.method === m.method) &&
        (e.templateRe === null || e.templateRe.test(m.template)) &&
        (e.status === undefined || e.status.includes(m.status)) &&
        e.errorRe.test(m.error),
    ) ?? null
  );
}
