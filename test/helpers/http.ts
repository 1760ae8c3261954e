/** Request helpers that drive the Worker through `exports.default.fetch`, as a client would. */
import { env, exports } from "cloudflare:workers";
import { recordContract } from "./contract";

export const BASE = "http://localhost";
export const ADMIN = { user: "admin", password: "admin-test-password" };

export interface Credentials {
  user: string;
  password: string;
}

export function basic(creds: Credentials): string {
  return `Basic ${btoa(`${creds.user}:${creds.password}`)}`;
}

/** A cookie jar: one per simulated browser / device. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair?.indexOf("=") ?? -1;
      if (pair && eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
}

export interface OcsOptions {
  auth?: Credentials | { bearer: string } | null;
  body?: Record<string, unknown>;
  form?: Record<string, string>;
  query?: Record<string, string>;
  jar?: CookieJar;
  headers?: Record<string, string>;
  /** Send `OCS-APIRequest: true` (default) */
  ocsHeader?: boolean;
  format?: "json" | "xml";
}

export interface OcsReply<T = any> {
  status: number;
  meta: { status: string; statuscode: number; message: string };
  data: T;
  headers: Headers;
  raw: Response;
}

/** One request through the Worker; Talk and OpenTalk responses are checked against their contracts (contract.ts). */
export async function request(method: string, path: string, init: RequestInit = {}): Promise<Response> {
  const res = await exports.default.fetch(new Request(`${BASE}${path}`, { method, ...init }));
  await recordContract(method, `${BASE}${path}`, res);
  return res;
}

export async function ocs<T = any>(method: string, path: string, opts: OcsOptions = {}): Promise<OcsReply<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.ocsHeader !== false) headers["OCS-APIRequest"] = "true";
  if (opts.format !== "xml") headers.Accept = "application/json";
  if (opts.auth && "bearer" in opts.auth) headers.Authorization = `Bearer ${opts.auth.bearer}`;
  else if (opts.auth) headers.Authorization = basic(opts.auth);
  const cookie = opts.jar?.header();
  if (cookie) headers.Cookie = cookie;
  let body: string | undefined;
  if (opts.body) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.body);
  } else if (opts.form) {
    headers["Content-Type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(opts.form).toString();
  }
  const qs = opts.query ? `?${new URLSearchParams(opts.query)}` : "";
  const res = await request(method, `${path}${qs}`, { headers, body });
  opts.jar?.store(res);
  const text = await res.text();
  let parsed: any = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { ocs: { meta: null, data: text } };
  }
  return { status: res.status, meta: parsed?.ocs?.meta, data: parsed?.ocs?.data, headers: res.headers, raw: res };
}

let counter = 0;
/** A unique id for this test file's run (storage is shared between tests of one file). */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

/** Provisions a user through the Nextcloud provisioning API, as an admin would. */
export async function createUser(prefix = "user", extra: Record<string, unknown> = {}): Promise<Credentials & { id: string }> {
  const userid = unique(prefix);
  const password = `pw-${userid}-secret`;
  const res = await ocs("POST", "/ocs/v2.php/cloud/users", {
    auth: ADMIN,
    body: { userid, password, displayName: `${prefix} ${userid}`, email: `${userid}@example.test`, ...extra },
  });
  if (res.status !== 200) throw new Error(`createUser failed: ${res.status} ${JSON.stringify(res.meta)}`);
  return { user: userid, password, id: userid };
}

export { env };
