/**
 * Route definitions for both dialects: each route's zod schemas are registered in the OpenAPI
 * registry (served at /openapi.json) and used to validate the request, with the dialect's own
 * error mapping. OCS parameters come merged from query and body; OpenTalk bodies are JSON.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import type { AppContext, AppEnv } from "./context";
import { OcsError, OpenTalkError, ocsNotLoggedIn, type ValidationEntry } from "./errors";
import { BodyTooLarge, readBodyText } from "./body";
import { renderOcs, ocsFormat, ocsMeta } from "../ocs/envelope";

type Method = "get" | "post" | "put" | "delete" | "patch";
type AnyObject = z.ZodType<Record<string, unknown>>;

function honoPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ":$1");
}

function pathParamsSchema(path: string): z.ZodObject | undefined {
  const names = [...path.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] as string);
  if (names.length === 0) return undefined;
  return z.object(Object.fromEntries(names.map((n) => [n, z.string()])));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.join(".");
  return field ? `${field}: ${issue.message}` : issue.message;
}

// ---------------------------------------------------------------------------------------------
// OCS (Nextcloud)

/** Accepts JSON booleans and the form/query spellings Nextcloud accepts. */
export const ocsBool = () =>
  z.preprocess((v) => {
    if (v === "true" || v === "1" || v === 1) return true;
    if (v === "false" || v === "0" || v === 0 || v === "") return false;
    return v;
  }, z.boolean());

/** Integers given as JSON numbers or decimal strings. */
export const ocsInt = () =>
  z.preprocess((v) => (typeof v === "string" && /^-?\d{1,15}$/.test(v.trim()) ? Number(v.trim()) : v), z.number().int());

export interface OcsResult {
  status?: number;
  data: unknown;
  headers?: Record<string, string>;
}

export interface OcsRouteDef<P extends AnyObject> {
  method: Method;
  path: string;
  summary: string;
  tags: string[];
  /** public: anyone (guests too); user: logged-in users; admin: administrators. */
  auth: "public" | "user" | "admin";
  params?: P;
  /**
   * The `error` a parameter that fails validation answers (400): the operation's own value where
   * the reference has one (`"value"`, or per parameter; `"*"` for an unreadable body), else the
   * parameter's name.
   */
  invalid?: string | Partial<Record<(keyof z.input<P> & string) | "*", string>>;
  /** The whole `data` of that 400 where the reference answers bad input without an error object. */
  invalidData?: unknown;
  description?: string;
}

/**
 * The 400 of a route's bad input: `invalidData`, or `{error, message}` with the `error` that
 * `OcsRouteDef.invalid` names for `field` (undefined: the body could not be read).
 */
function invalidInput(def: OcsRouteDef<AnyObject>, field: PropertyKey | undefined, message: string): OcsError {
  if (def.invalidData !== undefined) return new OcsError(400, def.invalidData);
  const name = typeof field === "string" ? field : undefined;
  const invalid = def.invalid as string | Record<string, string | undefined> | undefined;
  const error = typeof invalid === "string" ? invalid : ((name !== undefined ? invalid?.[name] : invalid?.["*"]) ?? name ?? "value");
  return new OcsError(400, { error, message });
}

export function ocsRoute<P extends AnyObject>(
  app: OpenAPIHono<AppEnv>,
  def: OcsRouteDef<P>,
  handler: (c: AppContext, params: z.output<P>, path: Record<string, string>) => Promise<OcsResult>,
): void {
  const paramsSchema = def.params;
  app.openAPIRegistry.registerPath({
    method: def.method,
    path: def.path,
    summary: def.summary,
    description: def.description,
    tags: def.tags,
    request: {
      params: pathParamsSchema(def.path),
      headers: z.object({ "OCS-APIRequest": z.literal("true") }),
      ...(paramsSchema
        ? def.method === "get" || def.method === "delete"
          ? { query: paramsSchema as unknown as z.ZodObject }
          : {
              body: {
                content: {
                  "application/json": { schema: paramsSchema },
                  "application/x-www-form-urlencoded": { schema: paramsSchema },
                },
              },
            }
        : {}),
    },
    responses: { 200: { description: "OCS envelope `{ocs:{meta,data}}`" } },
  });
  app.on(def.method.toUpperCase(), honoPath(def.path), async (c) => {
    const identity = c.get("identity");
    if (def.auth !== "public" && identity.kind !== "user") throw ocsNotLoggedIn();
    if (def.auth === "admin" && !(identity.kind === "user" && identity.user.isAdmin)) {
      throw new OcsError(403, [], "Logged in account must be an administrator");
    }
    const bodyError = c.get("ocsBodyError");
    if (bodyError !== undefined) throw invalidInput(def as OcsRouteDef<AnyObject>, undefined, bodyError);
    let params = {} as z.output<P>;
    if (paramsSchema) {
      const parsed = paramsSchema.safeParse(c.get("ocsParams"));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw invalidInput(def as OcsRouteDef<AnyObject>, issue?.path[0], issue ? describeIssue(issue) : "");
      }
      params = parsed.data as z.output<P>;
    }
    const result = await handler(c, params, c.req.param() as Record<string, string>);
    const status = result.status ?? 200;
    // "Not modified" has no body (Talk's chat poll answers it when nothing is new).
    if (status === 304) return new Response(null, { status, headers: result.headers });
    return renderOcs(ocsOutputFormat(c), status, result.data ?? null, ocsMeta(status), result.headers);
  });
}

export function ocsOutputFormat(c: AppContext) {
  return ocsFormat(c.req.query("format"), c.req.header("accept") ?? null, c.get("ocsParams")?.format);
}

/** Reads query + body (JSON, form or multipart) into one parameter map; `key[]` builds arrays. */
export async function readOcsParams(request: Request): Promise<Record<string, unknown>> {
  const query = request.url.indexOf("?");
  const params: Record<string, unknown> = {};
  const put = (key: string, value: unknown) => {
    if (key.endsWith("[]")) {
      const name = key.slice(0, -2);
      const list = Array.isArray(params[name]) ? (params[name] as unknown[]) : [];
      list.push(value);
      params[name] = list;
    } else {
      params[key] = value;
    }
  };
  if (query >= 0) for (const [key, value] of new URLSearchParams(request.url.slice(query + 1))) put(key, value);
  if (request.method === "GET" || request.method === "HEAD") return params;
  const type = request.headers.get("content-type") ?? "";
  let text: string;
  try {
    text = await readBodyText(request);
  } catch (err) {
    if (err instanceof BodyTooLarge) throw new OcsError(413, { error: "body" }, err.message);
    throw err;
  }
  if (!text.trim()) return params;
  if (type.includes("application/json")) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OcsError(400, { error: "body" }, "Malformed JSON body");
    }
    if (body && typeof body === "object" && !Array.isArray(body)) Object.assign(params, body);
    else throw new OcsError(400, { error: "body" }, "JSON body must be an object");
  } else if (type.includes("application/x-www-form-urlencoded") || type === "") {
    for (const [key, value] of new URLSearchParams(text)) put(key, value);
  } else if (type.includes("multipart/form-data")) {
    let form: FormData;
    try {
      form = await new Request(request.url, { method: "POST", headers: { "content-type": type }, body: text }).formData();
    } catch {
      throw new OcsError(400, { error: "body" }, "Malformed multipart body");
    }
    for (const [key, value] of form) if (typeof value === "string") put(key, value);
  } else {
    throw new OcsError(415, { error: "content-type" }, `Unsupported content type ${type}`);
  }
  return params;
}

// ---------------------------------------------------------------------------------------------
// OpenTalk

export interface OtInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
}

export interface OtRouteDef<B extends AnyObject | undefined, Q extends AnyObject | undefined, P extends AnyObject | undefined> {
  method: Method;
  path: string;
  summary: string;
  tags: string[];
  /** none: public; bearer: signed-in user (checked by middleware); others checked in the handler. */
  auth: "none" | "bearer" | "bearer-or-invite" | "service";
  body?: B;
  /** When false, an absent body is treated as `{}`. */
  bodyRequired?: boolean;
  /**
   * Where the document gives the route its own code for a body it cannot read or validate (the
   * sign-in's `bad_request`), every such failure is a 400 with that code instead of the generic ones.
   */
  badBodyCode?: string;
  query?: Q;
  params?: P;
  success?: { status: number; description: string; schema?: z.ZodType };
}

type Out<T> = T extends z.ZodType ? z.output<T> : Record<string, never>;

export function otRoute<B extends AnyObject | undefined, Q extends AnyObject | undefined, P extends AnyObject | undefined>(
  app: OpenAPIHono<AppEnv>,
  def: OtRouteDef<B, Q, P>,
  handler: (c: AppContext, input: OtInput<Out<B>, Out<Q>, Out<P>>) => Promise<Response>,
): void {
  const success = def.success ?? { status: 200, description: "OK" };
  app.openAPIRegistry.registerPath({
    method: def.method,
    path: def.path,
    summary: def.summary,
    tags: def.tags,
    security: def.auth === "none" ? [] : [{ BearerAuth: [] }],
    request: {
      params: (def.params as z.ZodObject | undefined) ?? pathParamsSchema(def.path),
      query: def.query as z.ZodObject | undefined,
      ...(def.body ? { body: { required: def.bodyRequired !== false, content: { "application/json": { schema: def.body } } } } : {}),
    },
    responses: {
      [success.status]: {
        description: success.description,
        ...(success.schema ? { content: { "application/json": { schema: success.schema } } } : {}),
      },
      default: { description: "Error `{code, message}`" },
    },
  });
  app.on(def.method.toUpperCase(), honoPath(def.path), async (c) => {
    if (def.auth === "bearer" && c.get("identity").kind !== "user") throw bearerRequired(c);
    const params = def.params ? def.params.safeParse(c.req.param()) : { success: true as const, data: c.req.param() };
    if (!params.success) throw OpenTalkError.notFound();
    const query = def.query ? def.query.safeParse(Object.fromEntries(new URL(c.req.url).searchParams)) : { success: true as const, data: {} };
    if (!query.success) throw OpenTalkError.badRequest(describeIssue(query.error.issues[0] as z.core.$ZodIssue));
    let body: unknown = {};
    if (def.body) body = await readValidBody(c.req.raw, def.body, def.bodyRequired !== false, def.badBodyCode);
    return handler(c, { body, query: query.data, params: params.data } as OtInput<Out<B>, Out<Q>, Out<P>>);
  });
}

/** The route's body, read and validated; failures in the route's own code where it has one (`badBodyCode`). */
async function readValidBody(request: Request, schema: AnyObject, required: boolean, badBodyCode: string | undefined): Promise<unknown> {
  try {
    const parsed = schema.safeParse(nullAsAbsent(schema, await readOtBody(request, required)));
    if (!parsed.success) throw openTalkValidationError(parsed.error);
    return parsed.data;
  } catch (err) {
    if (badBodyCode && err instanceof OpenTalkError) throw new OpenTalkError(400, badBodyCode, err.message);
    throw err;
  }
}

/**
 * The reference reads bodies with serde, where an optional field (`Option<T>`) is `None` whether
 * it is absent or `null`. So a top-level `null` for a field that may be absent but not null is
 * dropped before validation (the OpenTalk web app always sends `"breakout_room": null`). Fields
 * whose schema accepts `null` keep it: there `null` means something (e.g. remove the password).
 */
export function nullAsAbsent(schema: z.ZodType, value: unknown): unknown {
  const shape = (schema as { shape?: Record<string, z.ZodType> }).shape;
  if (!shape || !value || typeof value !== "object" || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [key, field] of Object.entries(shape)) {
    if (out[key] === null && !field.safeParse(null).success && field.safeParse(undefined).success) delete out[key];
  }
  return out;
}

export function bearerRequired(c: AppContext): OpenTalkError {
  const header = c.req.header("authorization");
  return OpenTalkError.unauthorized(
    header ? "Authentication failed" : "Unable to parse access token or invite code",
    "unauthorized",
    { "WWW-Authenticate": 'Bearer error="invalid_token", error_description="The provided access token is invalid"' },
  );
}

/** Reads a JSON body the way the reference's extractor does: content type, syntax, then shape. */
async function readOtBody(request: Request, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readBodyText(request);
  } catch (err) {
    if (err instanceof BodyTooLarge) throw new OpenTalkError(400, "payload_overflow", err.message);
    throw err;
  }
  if (!text.trim() && !required) return {};
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    throw new OpenTalkError(400, "invalid_content_type", "Content type error: expected application/json");
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw OpenTalkError.invalidJson(`Json deserialize error: ${(err as Error).message}`);
  }
}

const SHAPE_CODES = new Set(["invalid_type", "unrecognized_keys", "invalid_union", "invalid_value", "invalid_key"]);

/** Maps zod issues to the reference's split: shape errors → 400 invalid_json, constraints → 422. */
export function openTalkValidationError(error: z.ZodError): OpenTalkError {
  const shape = error.issues.find(
    (i) => SHAPE_CODES.has(i.code) || (i.code === "invalid_format" && ["uuid", "datetime"].includes((i as { format?: string }).format ?? "")),
  );
  if (shape) return OpenTalkError.invalidJson(`Json deserialize error: ${describeIssue(shape)}`);
  const entries: ValidationEntry[] = error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join(".") : undefined;
    return { ...(field ? { field } : {}), code: validationCode(issue), message: issue.message };
  });
  return OpenTalkError.validation(entries);
}

function validationCode(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "too_big":
    case "too_small":
      return issue.origin === "string" || issue.origin === "array" ? "invalid_length" : "out_of_range";
    case "invalid_format":
      if (issue.format === "email") return "invalid_email";
      if (issue.format === "url") return "invalid_url";
      return "invalid_value";
    case "custom":
      return (issue.params?.code as string | undefined) ?? "invalid_value";
    default:
      return "invalid_value";
  }
}
