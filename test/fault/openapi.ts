/**
 * The operations of `/openapi.json` and what the sweeps need from their schemas: a plausible valid
 * value for each field (to fill in the fields a variant does not break), a wrong-typed one, and
 * whether a field can be made too long.
 */
import { request } from "../helpers/http";

export type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
};

export interface Field {
  name: string;
  schema: Schema;
  required: boolean;
}

export interface Operation {
  method: string;
  path: string;
  dialect: "ocs" | "v1" | "other";
  pathParams: string[];
  query: Field[];
  /** Declared body fields; `null` when the operation declares no body. */
  body: Field[] | null;
  bodyRequired: boolean;
}

interface Document {
  paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string; required?: boolean; schema: Schema }>; requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> } }>>;
  components?: { schemas?: Record<string, Schema> };
}

export async function loadOperations(): Promise<Operation[]> {
  const res = await request("GET", "/openapi.json");
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
  const doc = (await res.json()) as Document;
  const resolve = (s: Schema): Schema => {
    if (s.$ref) return resolve(doc.components?.schemas?.[s.$ref.replace("#/components/schemas/", "")] ?? {});
    if (s.allOf) {
      const merged: Schema = { properties: {}, required: [] };
      for (const part of s.allOf.map(resolve)) {
        Object.assign(merged.properties as object, part.properties);
        merged.required?.push(...(part.required ?? []));
        if (part.type) merged.type = part.type;
      }
      return merged;
    }
    return s;
  };
  const deep = (s: Schema): Schema => {
    const r = resolve(s);
    return {
      ...r,
      ...(r.properties ? { properties: Object.fromEntries(Object.entries(r.properties).map(([k, v]) => [k, deep(v)])) } : {}),
      ...(r.items ? { items: deep(r.items) } : {}),
      ...(r.anyOf ? { anyOf: r.anyOf.map(deep) } : {}),
      ...(r.oneOf ? { oneOf: r.oneOf.map(deep) } : {}),
    };
  };
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const bodySchema = op.requestBody?.content["application/json"]?.schema;
      let body: Field[] | null = null;
      if (bodySchema) {
        const s = deep(bodySchema);
        // A union body (e.g. invite by user id or by e-mail): sweep the fields of its first branch.
        const shape = s.properties ? s : ((s.anyOf ?? s.oneOf)?.[0] ?? {});
        body = Object.entries(shape.properties ?? {}).map(([name, schema]) => ({ name, schema, required: shape.required?.includes(name) ?? false }));
      }
      ops.push({
        method: method.toUpperCase(),
        path,
        dialect: path.startsWith("/ocs/") ? "ocs" : path.startsWith("/v1/") ? "v1" : "other",
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
        query: params.filter((p) => p.in === "query").map((p) => ({ name: p.name, schema: deep(p.schema), required: p.required ?? false })),
        body,
        bodyRequired: op.requestBody?.required ?? false,
      });
    }
  }
  return ops;
}

function types(s: Schema): string[] {
  if (s.anyOf ?? s.oneOf) return (s.anyOf ?? s.oneOf ?? []).flatMap(types);
  if (s.enum) return [...new Set(s.enum.map((v) => (v === null ? "null" : typeof v === "number" ? "number" : typeof v)))];
  return s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
}

/** A value the schema accepts (as far as the schema says; handlers may still refuse it). */
export function validValue(s: Schema, fixtures: Record<string, string> = {}): unknown {
  const branch = (s.anyOf ?? s.oneOf)?.find((b) => !types(b).includes("null"));
  if (branch) return validValue(branch, fixtures);
  if (s.enum) return s.enum[0];
  if (s.default !== undefined) return s.default;
  const t = types(s).filter((x) => x !== "null")[0];
  switch (t) {
    case "integer":
    case "number":
      return s.minimum ?? 1;
    case "boolean":
      return false;
    case "array":
      return [];
    case "object":
      return Object.fromEntries(Object.entries(s.properties ?? {}).filter(([k]) => s.required?.includes(k)).map(([k, v]) => [k, validValue(v, fixtures)]));
    case "string":
      if (s.format === "uuid") return fixtures.uuid ?? crypto.randomUUID();
      if (s.format === "email") return "someone@example.test";
      if (s.format === "date-time") return "2030-01-01T10:00:00Z";
      if (s.pattern?.includes("\\d")) return "1";
      return "x".repeat(Math.max(1, s.minLength ?? 1));
    default:
      return "x";
  }
}

/** A JSON value of a type the schema does not accept; undefined when the schema accepts anything. */
export function wrongValue(s: Schema): unknown {
  const accepted = types(s);
  if (accepted.length === 0) return undefined;
  if (!accepted.includes("object")) return { nested: { deeper: [1, 2, 3] } };
  if (!accepted.includes("string")) return "not-of-this-type";
  return 12345;
}

/** The wrong value as a query-string value (everything is a string there). */
export function wrongQueryValue(s: Schema): string | undefined {
  const accepted = types(s);
  if (accepted.some((t) => t === "integer" || t === "number")) return "twelve";
  if (accepted.includes("boolean") || s.enum) return "maybe-not";
  if (s.format === "uuid") return "not-a-uuid";
  return undefined;
}

export function isString(s: Schema): boolean {
  return types(s).includes("string");
}
