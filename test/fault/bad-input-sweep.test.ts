/**
 * Fault test (issue 7): a bad-input sweep generated from `/openapi.json`. For every operation it
 * sends, as a caller who may use it and with path parameters naming real fixtures, requests that
 * break the declared contract: a missing required field, a wrong-typed field, a 100 000-character
 * string, unknown fields next to a broken one, malformed JSON, a wrong content type, a body over
 * 1 MB, an unknown or oversized path parameter, and (OCS) no `OCS-APIRequest` header.
 *
 * Every answer must be a 4xx in the dialect's error shape (never a 5xx), and a snapshot of D1 and
 * of the fixture rooms' storage taken before and after must be identical. A second pass sends
 * valid requests with unknown extra fields: those may succeed (unknown fields are ignored) but
 * must not fail with a 5xx.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN, basic, type Credentials, ocs, request } from "../helpers/http";
import { createEvent, createInvite, createRoom, serviceToken, type Signed, signIn, signInAdmin, timedEvent, v1 } from "../helpers/opentalk";
import { type Field, isString, loadOperations, type Operation, validValue, wrongQueryValue, wrongValue } from "./openapi";
import { snapshot } from "./state";
import { randomAddress } from "../helpers/browser";
import { roomStub } from "../../src/room/directory";

const V4 = "/ocs/v2.php/apps/spreed/api/v4";
const OVERSIZED = "x".repeat(100_000);
const PARALLEL = 16;
const HUGE_BODY = `{"padding":"${"y".repeat(1024 * 1024)}"}`;
/** Unknown fields, including the keys that tend to reach object prototypes. */
const EXTRA_JSON = `"unexpectedField":"surprise","__proto__":{"isAdmin":true,"polluted":1},"constructor":{"prototype":{"polluted":1}}`;

interface Fixtures {
  owner: Signed;
  admin: Signed;
  invitee: Signed;
  service: string;
  talkToken: string;
  talkRoomId: string;
  inviteeAttendeeId: number;
  otRoomId: string;
  inviteCode: string;
  eventId: string;
  eventRoomId: string;
  instanceId: string;
  streamingTargetId: string;
  messageId: number;
}

interface Variant {
  op: Operation;
  name: string;
  path: string;
  query?: Record<string, string>;
  /** A raw body with its content type. */
  body?: { text: string; type: string };
  noOcsHeader?: boolean;
}

interface Answer {
  status: number;
  type: string;
  body: any;
}

let fx: Fixtures;
let operations: Operation[];

/**
 * Fixtures: a public Talk room with an invited member, an OpenTalk room with a password, the
 * waiting room and an invite code, and a weekly event (with its own room) with an invitee. The
 * rooms hold no Talk sessions on purpose: session expiry and the end of a call are driven by the
 * clock, and the before/after snapshots must only differ if a request changed something.
 */
beforeAll(async () => {
  const owner = await signIn("owner");
  const invitee = await signIn("invitee");
  const admin = await signInAdmin();
  const ownerCreds: Credentials = { user: owner.login, password: owner.password };

  const talk = await ocs("POST", `${V4}/room`, { auth: ownerCreds, body: { roomType: 3, roomName: "Sweep" } });
  expect(talk.status).toBe(201);
  const talkToken = talk.data.token as string;
  expect((await ocs("POST", `${V4}/room/${talkToken}/participants`, { auth: ownerCreds, body: { newParticipant: invitee.login } })).status).toBe(200);
  const talkRow = await env.DB.prepare("SELECT id FROM rooms WHERE token = ?").bind(talkToken).first<{ id: string }>();
  const members = (await roomStub(env, talkRow?.id as string).snapshot())?.attendees ?? [];
  const inviteeAttendee = members.find((a) => a.actorId === invitee.login);

  expect((await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: "sweepers" } })).status).toBe(200);
  const otRoom = await createRoom(owner, { password: "room-secret", waiting_room: true });
  const inviteCode = await createInvite(owner, otRoom.id);
  const event = await createEvent(owner, timedEvent("2030-03-04T09:00:00Z", 60, "Europe/Berlin", { recurrence_pattern: ["RRULE:FREQ=WEEKLY;COUNT=5"] }));
  expect((await v1("POST", `/v1/events/${event.id}/invites`, { token: owner.token, json: { invitee: invitee.id } })).status).toBe(201);
  const instances = await v1("GET", `/v1/events/${event.id}/instances`, { token: owner.token });
  const target = await v1("POST", `/v1/rooms/${otRoom.id}/streaming_targets`, {
    token: owner.token,
    json: { name: "Live", kind: "custom", streaming_endpoint: "rtmp://live.example.com/app", streaming_key: "key", public_url: "https://example.com/live" },
  });
  expect(target.status).toBe(201);
  expect(instances.status).toBe(200);

  fx = {
    owner,
    admin,
    invitee,
    service: await serviceToken(),
    talkToken,
    talkRoomId: talkRow?.id as string,
    inviteeAttendeeId: inviteeAttendee?.id as number,
    otRoomId: otRoom.id,
    inviteCode,
    eventId: event.id as string,
    eventRoomId: event.room.id as string,
    instanceId: instances.body[0].id as string,
    streamingTargetId: target.body.id as string,
    messageId: (await ocs("POST", `/ocs/v2.php/apps/spreed/api/v1/chat/${talkToken}`, { auth: ownerCreds, body: { message: "sweep" } })).data.id as number,
  };
  operations = await loadOperations();
});

/** Real resources for the path parameters, so requests get past the lookup to validation. */
function pathValue(op: Operation, name: string): string {
  switch (name) {
    case "token":
      return fx.talkToken;
    case "userid":
      return fx.invitee.login;
    case "groupid":
      return "sweepers";
    case "id":
      return op.path.includes("/notifications/") ? "1" : fx.invitee.id;
    case "mode":
      return "default";
    case "attendeeId":
      return String(fx.inviteeAttendeeId);
    case "pin":
      return "1234567890";
    case "messageId":
      return String(fx.messageId);
    case "room_id":
      return fx.otRoomId;
    case "invite_code":
      return fx.inviteCode;
    case "event_id":
      return fx.eventId;
    case "instance_id":
      return fx.instanceId;
    case "user_id":
      return fx.invitee.id;
    case "streaming_target_id":
      return fx.streamingTargetId;
    case "asset_id":
      // No asset exists (only the recorder can make one); validation must still answer first.
      return crypto.randomUUID();
    default:
      throw new Error(`no fixture for path parameter ${name} of ${op.method} ${op.path}`);
  }
}

function fillPath(op: Operation, override: Record<string, string> = {}): string {
  return op.path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => encodeURIComponent(override[name] ?? pathValue(op, name)));
}

function filled(fields: Field[]): Record<string, unknown> {
  return Object.fromEntries(fields.filter((f) => f.required).map((f) => [f.name, validValue(f.schema, { uuid: fx.invitee.id })]));
}

function filledQuery(op: Operation): Record<string, string> {
  return Object.fromEntries(Object.entries(filled(op.query)).map(([k, v]) => [k, String(v)]));
}

const json = (value: unknown) => ({ text: JSON.stringify(value), type: "application/json" });

/** Where the operation's parameters travel: OCS GET/DELETE in the query, everything else in the body. */
function paramsInQuery(op: Operation): boolean {
  return op.dialect === "ocs" ? op.method === "GET" || op.method === "DELETE" : false;
}

function variants(op: Operation): Variant[] {
  const out: Variant[] = [];
  const path = fillPath(op);
  const query = filledQuery(op);
  const bodyFields = op.body ?? [];
  const base = filled(bodyFields);
  const add = (name: string, v: Omit<Variant, "op" | "name" | "path"> & { path?: string }) => out.push({ op, name, path, ...v });

  for (const f of op.query) {
    if (f.required) add(`query ${f.name} missing`, { query: Object.fromEntries(Object.entries(query).filter(([k]) => k !== f.name)) });
    const wrong = wrongQueryValue(f.schema);
    if (wrong !== undefined) add(`query ${f.name} wrong type`, { query: { ...query, [f.name]: wrong } });
    if (isString(f.schema) && !f.schema.enum) add(`query ${f.name} oversized`, { query: { ...query, [f.name]: OVERSIZED } });
  }
  for (const f of bodyFields) {
    if (f.required) {
      const { [f.name]: _gone, ...rest } = base;
      add(`body ${f.name} missing`, { query, body: json(rest) });
    }
    const wrong = wrongValue(f.schema);
    if (wrong !== undefined) add(`body ${f.name} wrong type`, { query, body: json({ ...base, [f.name]: wrong }) });
    if (isString(f.schema) && !f.schema.enum && !CUT_NOT_REFUSED.has(`${op.method} ${op.path} ${f.name}`)) {
      add(`body ${f.name} oversized`, { query, body: json({ ...base, [f.name]: OVERSIZED }) });
    }
  }
  const breakable = bodyFields.find((f) => wrongValue(f.schema) !== undefined);
  if (breakable) {
    const text = JSON.stringify({ ...base, [breakable.name]: wrongValue(breakable.schema) }).replace(/^\{/, `{${EXTRA_JSON},`);
    add(`unknown fields with body ${breakable.name} wrong type`, { query, body: { text, type: "application/json" } });
  }

  const hasBody = op.dialect === "ocs" ? op.method !== "GET" : op.body !== null;
  if (hasBody) {
    add("malformed JSON", { query, body: { text: '{"roomName": "unterminated', type: "application/json" } });
    add("JSON array instead of an object", { query, body: { text: "[1,2,3]", type: "application/json" } });
    add("wrong content type", { query, body: { text: "<xml>not what you think</xml>", type: "application/xml" } });
    add("body over 1 MB", { query, body: { text: HUGE_BODY, type: "application/json" } });
  }
  for (const name of op.pathParams) {
    add(`path ${name} unknown`, { path: fillPath(op, { [name]: "nosuchthing0" }), query, body: hasBody && !paramsInQuery(op) ? json(base) : undefined });
    add(`path ${name} oversized`, { path: fillPath(op, { [name]: "a".repeat(10_000) }), query, body: hasBody && !paramsInQuery(op) ? json(base) : undefined });
  }
  if (op.dialect === "ocs") add("no OCS-APIRequest header", { query, body: hasBody && !paramsInQuery(op) ? json(base) : undefined, noOcsHeader: true });
  return out;
}

/** Operations every answer to which is allowed to be a success whatever the input (reference behaviour). */
/**
 * Fields the reference cuts to length instead of refusing: a chat message's reference id keeps its
 * first 64 characters and the message is sent (spreed chat-3/reference-id.feature, "too long
 * references dont break the api").
 */
const CUT_NOT_REFUSED = new Set(["POST /ocs/v2.php/apps/spreed/api/v1/chat/{token} referenceId"]);

function alwaysSucceeds(op: Operation, v: Variant): boolean {
  // DELETE …/participants/active "always 200 (even if not in the room)" (talk-reference §6.2).
  return op.method === "DELETE" && op.path.endsWith("/participants/active") && v.name.startsWith("path ");
}

/** Server errors the references document for a valid request, here because of the test configuration. */
const DOCUMENTED_5XX: Record<string, number> = {
  // TURN with nothing configured: 500 with a JSON error body (opentalk-reference, decision D9).
  "GET /v1/turn": 500,
  // SIP dial-out not configured: 501 {error: "sip"} (talk-reference §6.3).
  "POST /ocs/v2.php/apps/spreed/api/v4/call/{token}/dialout/{attendeeId}": 501,
};

function authHeaders(op: Operation): Record<string, string> {
  if (op.dialect === "ocs") {
    const admin = /^\/ocs\/v2\.php\/cloud\/(users|groups)/.test(op.path);
    const creds = admin ? ADMIN : { user: fx.owner.login, password: fx.owner.password };
    return { Authorization: basic(creds), Accept: "application/json" };
  }
  if (op.path.startsWith("/v1/admin/")) return { Authorization: `Bearer ${fx.admin.token}` };
  if (op.path.startsWith("/v1/services/")) return { Authorization: `Bearer ${fx.service}` };
  return { Authorization: `Bearer ${fx.owner.token}` };
}

async function send(v: Variant, extraHeaders: Record<string, string> = {}): Promise<Answer> {
  // Each request from an address of its own: variants that send wrong credentials (the token and
  // login endpoints) must not add up to the per-address sign-in throttle, which would then refuse
  // the fixtures' correct password once its cached verification expires during the long sweep.
  const headers: Record<string, string> = { ...authHeaders(v.op), "CF-Connecting-IP": randomAddress(), ...extraHeaders };
  if (v.op.dialect === "ocs" && !v.noOcsHeader) headers["OCS-APIRequest"] = "true";
  if (v.body) headers["Content-Type"] = v.body.type;
  const qs = v.query && Object.keys(v.query).length ? `?${new URLSearchParams(v.query)}` : "";
  const res = await request(v.op.method, `${v.path}${qs}`, { headers, body: v.body?.text });
  const type = res.headers.get("content-type") ?? "";
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the shape check reports it
  }
  return { status: res.status, type, body };
}

/** What is wrong with an error answer, in the dialect's terms; null when it is a proper error. */
function shapeProblem(v: Variant, a: Answer): string | null {
  if (a.status >= 500) return `server error ${a.status}`;
  if (a.status < 400) return alwaysSucceeds(v.op, v) ? null : `accepted with ${a.status}`;
  if (v.noOcsHeader) {
    return a.status === 412 && a.body?.message === "CSRF check failed" ? null : `CSRF answer ${a.status} ${JSON.stringify(a.body)}`;
  }
  if (v.op.dialect === "ocs") {
    const meta = a.body?.ocs?.meta;
    if (!a.type.startsWith("application/json")) return `OCS error with content type ${a.type}`;
    if (meta?.status !== "failure" || typeof meta.statuscode !== "number" || !("data" in a.body.ocs)) return `not an OCS failure envelope: ${JSON.stringify(a.body)}`;
    return null;
  }
  if (a.type !== "text/json; charset=utf-8") return `OpenTalk error with content type ${a.type}`;
  if (typeof a.body?.code !== "string" || typeof a.body?.message !== "string") return `not {code, message}: ${JSON.stringify(a.body)}`;
  return null;
}

describe("bad-input sweep over /openapi.json", () => {
  it("covers every operation of the document", () => {
    expect(operations.length).toBeGreaterThan(90);
    // Every path parameter has a fixture (this throws otherwise).
    for (const op of operations) fillPath(op);
  });

  it("answers every malformed request with a 4xx in the dialect's shape and changes nothing", { timeout: 300_000 }, async () => {
    const rooms = [fx.talkRoomId, fx.otRoomId, fx.eventRoomId];
    const before = await snapshot(rooms);
    const all = operations.filter((op) => op.dialect !== "other").flatMap(variants);
    const problems: string[] = [];
    // None of these may change anything, so they can run side by side.
    for (let i = 0; i < all.length; i += PARALLEL) {
      await Promise.all(
        all.slice(i, i + PARALLEL).map(async (v) => {
          const problem = shapeProblem(v, await send(v));
          if (problem) problems.push(`${v.op.method} ${v.op.path} [${v.name}]: ${problem}`);
        }),
      );
    }
    expect(problems.sort()).toEqual([]);
    expect(all.length).toBeGreaterThan(500);
    expect(await snapshot(rooms)).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it("GET /signaling without a WebSocket upgrade is a 4xx {code, message}", async () => {
    const res = await request("GET", "/signaling");
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get("content-type")).toBe("text/json; charset=utf-8");
    expect(await res.json()).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });

  it("ignores unknown fields on otherwise valid requests (never a 5xx)", { timeout: 300_000 }, async () => {
    // Reads first, then writes, deletions last: each request still finds the fixtures.
    const order = (op: Operation) => (op.method === "GET" ? 0 : op.method === "DELETE" ? 2 : 1);
    const problems: string[] = [];
    for (const op of [...operations].sort((a, b) => order(a) - order(b))) {
      if (op.dialect === "other") continue;
      const base = { ...filled(op.body ?? []) };
      const text = JSON.stringify(base).replace(/^\{/, `{${EXTRA_JSON}${Object.keys(base).length ? "," : ""}`);
      const v: Variant = {
        op,
        name: "unknown fields",
        path: fillPath(op),
        query: filledQuery(op),
        body: op.method === "GET" || paramsInQuery(op) ? undefined : { text, type: "application/json" },
      };
      const answer = await send(v);
      if (answer.status >= 500 && DOCUMENTED_5XX[`${op.method} ${op.path}`] === answer.status) continue;
      if (answer.status >= 500) problems.push(`${op.method} ${op.path}: ${answer.status} ${JSON.stringify(answer.body)}`);
      else if (answer.status >= 400 && !v.noOcsHeader) {
        const problem = shapeProblem(v, answer);
        if (problem) problems.push(`${op.method} ${op.path}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
