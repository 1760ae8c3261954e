/** OpenTalk /v1 test helpers: signed-in users with bearer tokens, /v1 requests, the error shape, fixtures. */
import { expect } from "vitest";
import { ADMIN, createUser, request } from "./http";

export interface Signed {
  login: string;
  password: string;
  id: string;
  token: string;
  email: string;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

export async function bearerFor(username: string, password: string): Promise<{ token: string; id: string }> {
  const res = await request("POST", "/oauth/token", {
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", username, password }).toString(),
  });
  const token = ((await res.json()) as { access_token: string }).access_token;
  const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as { sub: string };
  return { token, id: claims.sub };
}

/** A fresh user with a bearer token for /v1. */
export async function signIn(prefix = "ot", extra: Record<string, unknown> = {}): Promise<Signed> {
  const user = await createUser(prefix, extra);
  const { token, id } = await bearerFor(user.user, user.password);
  return { login: user.user, password: user.password, id, token, email: `${user.user}@example.test` };
}

let adminSession: Promise<Signed> | undefined;
export function signInAdmin(): Promise<Signed> {
  adminSession ??= bearerFor(ADMIN.user, ADMIN.password).then((s) => ({ ...s, login: ADMIN.user, password: ADMIN.password, email: "" }));
  return adminSession;
}

/** A service token from the client_credentials grant (vitest.config.ts: callin-gateway). */
export async function serviceToken(clientId = "callin-gateway", secret = "callin-secret"): Promise<string> {
  const res = await request("POST", "/oauth/token", {
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret }).toString(),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

export async function v1(
  method: string,
  path: string,
  opts: { token?: string | null; auth?: string; json?: unknown; body?: BodyInit; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.auth) headers.Authorization = opts.auth;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers["Content-Type"] ??= "application/json";
    body = JSON.stringify(opts.json);
  }
  const res = await request(method, path, { headers, body });
  const type = res.headers.get("content-type") ?? "";
  // Binary answers (asset downloads) come back as bytes; JSON and text as parsed JSON or text.
  if (type && !type.includes("json") && !type.startsWith("text/")) {
    return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) };
  }
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** The reference error shape: `{code, message}` with `text/json`. */
export function expectError(res: Reply, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type")).toBe("text/json; charset=utf-8");
  expect(res.body).toMatchObject({ code, message: expect.any(String) });
}

export function expectValidation(res: Reply, field: string | undefined, code: string) {
  expectError(res, 422, "validation_failed");
  expect(res.body.message).toBe("Some provided values are invalid");
  expect(res.body.validation_errors).toEqual(expect.arrayContaining([field ? expect.objectContaining({ field, code }) : expect.objectContaining({ code })]));
}

/** Creates a room as `owner` and returns its Room resource. */
export async function createRoom(owner: Signed, json: Record<string, unknown> = {}): Promise<{ id: string; password: string | null; waiting_room: boolean }> {
  const res = await v1("POST", "/v1/rooms", { token: owner.token, json });
  if (res.status !== 201) throw new Error(`createRoom failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function createInvite(owner: Signed, roomId: string, json: Record<string, unknown> = {}): Promise<string> {
  const res = await v1("POST", `/v1/rooms/${roomId}/invites`, { token: owner.token, json });
  if (res.status !== 200) throw new Error(`createInvite failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.invite_code;
}

/** Body of a time-dependent event starting at `start` (UTC ISO) for `minutes`, in `timezone`. */
export function timedEvent(start: string, minutes = 60, timezone = "Europe/Berlin", extra: Record<string, unknown> = {}) {
  const end = new Date(Date.parse(start) + minutes * 60_000).toISOString().replace(".000Z", "Z");
  return {
    title: "Planning",
    description: "Weekly planning",
    is_time_independent: false,
    is_all_day: false,
    starts_at: { datetime: start, timezone },
    ends_at: { datetime: end, timezone },
    ...extra,
  };
}

export async function createEvent(owner: Signed, body: Record<string, unknown>): Promise<any> {
  const res = await v1("POST", "/v1/events", { token: owner.token, json: body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}
