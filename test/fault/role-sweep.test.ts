/**
 * Fault test (issue 7): a role sweep. For every mutating route of both dialects (taken from
 * `/openapi.json`, so a new route without an entry here fails the test) and each caller role, the
 * table below says what the reference allows: Talk guards from talk-reference §5/§6 ([L] login,
 * [P] public, [Mod]/[LMod] moderator, participant), OpenTalk grants from opentalk-reference §1.4
 * (creator, invitee, everyone signed in) with EdgeTalk's decision D18 (404 where the caller cannot
 * see the resource, 403 where they can). Every forbidden call must get its documented 401/403/404
 * and leave D1 and the fixture rooms' storage exactly as they were. Allowed calls are not made
 * here (they change state; the feature tests cover them).
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { roomStub } from "../../src/room/directory";
import { CookieJar, type Credentials, ocs } from "../helpers/http";
import { createEvent, createInvite, type Signed, signIn, timedEvent, v1 } from "../helpers/opentalk";
import { loadOperations } from "./openapi";
import { snapshot } from "./state";

const V4 = "/ocs/v2.php/apps/spreed/api/v4";
const CHAT = "/ocs/v2.php/apps/spreed/api/v1/chat/{token}";
const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// ---------------------------------------------------------------------------------------------
// Talk

type TalkRole = "anonymous" | "stranger" | "guest" | "user" | "moderator" | "owner";
const TALK_ROLES: TalkRole[] = ["anonymous", "stranger", "guest", "user", "moderator", "owner"];

interface TalkRoute {
  /** [L] login required, [P] public (guests allowed), admin: administrators only. */
  guard: "L" | "P" | "admin";
  /** The route acts on the room in the path: callers must be participants (anonymous/strangers 404). */
  room?: boolean;
  /** Anyone may call it on a public room (joining and leaving). */
  open?: boolean;
  /** [Mod]/[LMod]: moderators and owners only (403 for others). */
  mod?: boolean;
  /** Only guests may call it (403 for users). */
  guestOnly?: boolean;
  body?: Record<string, unknown>;
  query?: Record<string, string>;
}

/** Keyed by `METHOD path` exactly as /openapi.json lists it. `target` is an invited member's attendee id. */
function talkTable(target: number): Record<string, TalkRoute> {
  const room = `${V4}/room/{token}`;
  return {
    [`POST ${V4}/room`]: { guard: "L", body: { roomType: 2, roomName: "Mine" } },
    [`PUT ${room}`]: { guard: "P", room: true, mod: true, body: { roomName: "Renamed" } },
    [`DELETE ${room}`]: { guard: "P", room: true, mod: true },
    [`PUT ${room}/description`]: { guard: "P", room: true, mod: true, body: { description: "Described" } },
    [`POST ${room}/public`]: { guard: "L", room: true, mod: true },
    [`DELETE ${room}/public`]: { guard: "L", room: true, mod: true },
    [`PUT ${room}/read-only`]: { guard: "L", room: true, mod: true, body: { state: 1 } },
    [`PUT ${room}/listable`]: { guard: "L", room: true, mod: true, body: { scope: 1 } },
    [`PUT ${room}/password`]: { guard: "P", room: true, mod: true, body: { password: "a-new-password-123" } },
    [`POST ${room}/favorite`]: { guard: "L", room: true },
    [`DELETE ${room}/favorite`]: { guard: "L", room: true },
    [`POST ${room}/notify`]: { guard: "L", room: true, body: { level: 3 } },
    [`POST ${room}/notify-calls`]: { guard: "L", room: true, body: { level: 0 } },
    [`PUT ${room}/permissions/{mode}`]: { guard: "P", room: true, mod: true, body: { permissions: 1 } },
    [`POST ${room}/participants/active`]: { guard: "P", room: true, open: true },
    [`DELETE ${room}/participants/active`]: { guard: "P", room: true, open: true },
    [`POST ${room}/participants`]: { guard: "L", room: true, mod: true, body: { newParticipant: "admin" } },
    [`DELETE ${room}/attendees`]: { guard: "P", room: true, mod: true, query: { attendeeId: String(target) } },
    [`DELETE ${room}/participants/self`]: { guard: "L", room: true },
    [`POST ${room}/moderators`]: { guard: "P", room: true, mod: true, body: { attendeeId: target } },
    [`DELETE ${room}/moderators`]: { guard: "P", room: true, mod: true, query: { attendeeId: String(target) } },
    [`PUT ${room}/attendees/permissions`]: { guard: "P", room: true, mod: true, body: { attendeeId: target, method: "set", permissions: 1 } },
    [`PUT ${room}/attendees/permissions/all`]: { guard: "P", room: true, mod: true, body: { method: "set", permissions: 1 } },
    [`POST ${room}/participants/resend-invitations`]: { guard: "L", room: true, mod: true },
    [`POST /ocs/v2.php/apps/spreed/api/v1/guest/{token}/name`]: { guard: "P", room: true, guestOnly: true, body: { displayName: "Renamed guest" } },
    [`POST ${V4}/call/{token}`]: { guard: "P", room: true, body: { flags: 3 } },
    [`PUT ${V4}/call/{token}`]: { guard: "P", room: true, body: { flags: 3 } },
    [`DELETE ${V4}/call/{token}`]: { guard: "P", room: true, query: { all: "true" } },
    [`POST ${V4}/call/{token}/ring/{attendeeId}`]: { guard: "P", room: true },
    [`POST ${V4}/call/{token}/dialout/{attendeeId}`]: { guard: "P", room: true },
    [`PUT ${room}/webinar/lobby`]: { guard: "L", room: true, mod: true, body: { state: 1 } },
    [`PUT ${room}/webinar/sip`]: { guard: "L", room: true, mod: true, body: { state: 1 } },
    [`POST /ocs/v2.php/apps/spreed/api/v3/signaling/{token}`]: { guard: "P", room: true, body: { messages: "[]" } },
    [`DELETE /ocs/v2.php/apps/notifications/api/v2/notifications`]: { guard: "L" },
    [`DELETE /ocs/v2.php/apps/notifications/api/v2/notifications/{id}`]: { guard: "L" },
    [`POST /ocs/v2.php/cloud/users`]: { guard: "admin", body: { userid: "intruder", password: "intruder-password-1" } },
    [`DELETE /ocs/v2.php/cloud/users/{userid}`]: { guard: "admin" },
    [`POST /ocs/v2.php/cloud/groups`]: { guard: "admin", body: { groupid: "intruders" } },
    [`POST /ocs/v2.php/cloud/users/{userid}/groups`]: { guard: "admin", body: { groupid: "intruders" } },
    [`DELETE /ocs/v2.php/cloud/users/{userid}/groups`]: { guard: "admin", query: { groupid: "intruders" } },
    // Another user's profile: only administrators (the caller's own is allowed, not swept here).
    [`PUT /ocs/v2.php/cloud/users/{userid}`]: { guard: "admin", body: { key: "displayname", value: "Hijacked" } },
    [`PUT /ocs/v2.php/cloud/groups/{groupid}`]: { guard: "admin", body: { key: "displayname", value: "Hijacked" } },
    [`DELETE /ocs/v2.php/cloud/groups/{groupid}`]: { guard: "admin" },
    [`DELETE /ocs/v2.php/core/apppassword`]: { guard: "L" },
    [`PUT ${room}/participants/state`]: { guard: "P", room: true, body: { state: 0 } },
    [`PUT /ocs/v2.php/apps/user_status/api/v1/user_status/status`]: { guard: "L", body: { statusType: "dnd" } },
    [`PUT /ocs/v2.php/apps/user_status/api/v1/user_status/message/custom`]: { guard: "L", body: { message: "Away" } },
    [`DELETE /ocs/v2.php/apps/user_status/api/v1/user_status/message`]: { guard: "L" },
    [`PUT /ocs/v2.php/apps/user_status/api/v1/heartbeat`]: { guard: "L", body: { status: "online" } },
    [`POST /ocs/v2.php/apps/notifications/api/v2/push`]: { guard: "L", body: { pushTokenHash: "0".repeat(128), devicePublicKey: "x", proxyServer: "https://push.example" } },
    [`DELETE /ocs/v2.php/apps/notifications/api/v2/push`]: { guard: "L" },
    // Chat: participants write and set their read marker; the message in the path is the owner's,
    // which only its author and moderators may edit or delete; moderators clear the history.
    [`POST /ocs/v2.php/apps/spreed/api/v1/settings/user`]: { guard: "L", body: { key: "read_status_privacy", value: 1 } },
    [`POST ${CHAT}`]: { guard: "P", room: true, body: { message: "Hello" } },
    [`PUT ${CHAT}/{messageId}`]: { guard: "P", room: true, mod: true, body: { message: "Edited" } },
    [`DELETE ${CHAT}/{messageId}`]: { guard: "P", room: true, mod: true },
    [`DELETE ${CHAT}`]: { guard: "P", room: true, mod: true },
    [`POST ${CHAT}/read`]: { guard: "P", room: true, body: { lastReadMessage: 0 } },
    [`DELETE ${CHAT}/read`]: { guard: "P", room: true },
  };
}

/** The reference's answer for a forbidden role, or "allowed" (talk-reference §5, first failure wins). */
function talkVerdict(route: TalkRoute, role: TalkRole): number | "allowed" {
  const signedIn = role !== "anonymous" && role !== "guest";
  if (route.guard === "admin") return signedIn ? 403 : 401;
  if (route.guard === "L" && !signedIn) return 401;
  if (route.room && !route.open && (role === "anonymous" || role === "stranger")) return 404;
  if (route.mod && (role === "guest" || role === "user")) return 403;
  if (route.guestOnly && role !== "guest") return 403;
  return "allowed";
}

interface TalkCaller {
  auth?: Credentials;
  jar?: CookieJar;
}

describe("role sweep: Talk", () => {
  let callers: Record<TalkRole, TalkCaller>;
  let token: string;
  let roomId: string;
  let target: number;
  let victim: string;
  let messageId: number;

  beforeAll(async () => {
    const make = async (prefix: string) => {
      const s = await signIn(prefix);
      return { user: s.login, password: s.password };
    };
    const [owner, moderator, user, stranger, member, other] = await Promise.all(["owner", "mod", "user", "stranger", "member", "victim"].map(make));
    const created = await ocs("POST", `${V4}/room`, { auth: owner, body: { roomType: 3, roomName: "Roles" } });
    expect(created.status).toBe(201);
    token = created.data.token as string;
    for (const u of [moderator, user, member]) {
      expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: owner, body: { newParticipant: u?.user } })).status).toBe(200);
    }
    roomId = (await env.DB.prepare("SELECT id FROM rooms WHERE token = ?").bind(token).first<{ id: string }>())?.id as string;
    const attendees = (await roomStub(env, roomId).snapshot())?.attendees ?? [];
    const idOf = (c?: Credentials) => attendees.find((a) => a.actorId === c?.user)?.id as number;
    expect((await ocs("POST", `${V4}/room/${token}/moderators`, { auth: owner, body: { attendeeId: idOf(moderator) } })).status).toBe(200);
    target = idOf(member);
    victim = other?.user as string;
    messageId = (await ocs("POST", `/ocs/v2.php/apps/spreed/api/v1/chat/${token}`, { auth: owner, body: { message: "The owner's" } })).data.id as number;

    callers = {
      anonymous: {},
      stranger: { auth: stranger },
      guest: { jar: new CookieJar() },
      user: { auth: user, jar: new CookieJar() },
      moderator: { auth: moderator, jar: new CookieJar() },
      owner: { auth: owner, jar: new CookieJar() },
    };
    for (const role of ["guest", "user", "moderator", "owner"] as const) {
      expect((await ocs("POST", `${V4}/room/${token}/participants/active`, callers[role])).status).toBe(200);
    }
    // Publish the activity counts of those sessions now (the room's alarm would, a few seconds
    // later), so the snapshots only differ if a refused call changed something.
    expect(await runDurableObjectAlarm(roomStub(env, roomId))).toBe(true);
  });

  it("every mutating Talk route has an entry in the table", async () => {
    const ops = (await loadOperations()).filter((op) => op.dialect === "ocs" && MUTATING.has(op.method)).map((op) => `${op.method} ${op.path}`);
    expect(ops.filter((key) => !(key in talkTable(0)))).toEqual([]);
  });

  it("refuses every forbidden role with the documented status and changes nothing", { timeout: 120_000 }, async () => {
    const before = await snapshot([roomId]);
    const wrong: string[] = [];
    let refused = 0;
    for (const [key, route] of Object.entries(talkTable(target))) {
      const [method, template] = key.split(" ") as [string, string];
      const path = template
        .replace("{token}", token)
        .replace("{mode}", "default")
        .replace("{attendeeId}", String(target))
        .replace("{messageId}", String(messageId))
        .replace("{userid}", victim)
        .replace("{groupid}", "intruders")
        .replace("{id}", "1");
      for (const role of TALK_ROLES) {
        const verdict = talkVerdict(route, role);
        if (verdict === "allowed") continue;
        const res = await ocs(method, path, { ...callers[role], ...(route.body ? { body: route.body } : {}), ...(route.query ? { query: route.query } : {}) });
        refused += 1;
        if (res.status !== verdict || res.meta?.status !== "failure") wrong.push(`${key} as ${role}: expected ${verdict}, got ${res.status} ${JSON.stringify(res.data)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(refused).toBeGreaterThan(80);
    expect(await snapshot([roomId])).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// OpenTalk

type OtRole = "anonymous" | "invite" | "stranger" | "invitee" | "moderator" | "owner";
const OT_ROLES: OtRole[] = ["anonymous", "invite", "stranger", "invitee", "moderator", "owner"];

interface OtRoute {
  /** Who may call it: everyone signed in, the creator, the event's invitees, the administrator, no one of these roles. */
  allowed: "signed-in" | "creator" | "creator-or-invitee" | "invitee" | "admin" | "public" | "service";
  /** The resource in the path is an event or room the invitees can see (403 for them, 404 for strangers). */
  visible?: boolean;
  json?: Record<string, unknown>;
}

const STREAMING_TARGET = { name: "Live", kind: "custom", streaming_endpoint: "rtmp://live.example.com/app", streaming_key: "key", public_url: "https://example.com/live" };

function otTable(): Record<string, OtRoute> {
  const ev = "/v1/events/{event_id}";
  const room = "/v1/rooms/{room_id}";
  return {
    "POST /v1/auth/login": { allowed: "public" },
    "POST /v1/events": { allowed: "signed-in", json: timedEvent("2031-01-01T10:00:00Z") },
    [`PATCH ${ev}`]: { allowed: "creator", visible: true, json: { title: "Taken over" } },
    [`DELETE ${ev}`]: { allowed: "creator", visible: true },
    "PUT /v1/users/me/event_favorites/{event_id}": { allowed: "creator-or-invitee", visible: true },
    "DELETE /v1/users/me/event_favorites/{event_id}": { allowed: "creator-or-invitee", visible: true },
    [`PATCH ${ev}/instances/{instance_id}`]: { allowed: "creator", visible: true, json: { title: "Taken over" } },
    [`POST ${ev}/invites`]: { allowed: "creator", visible: true, json: { invitee: "{stranger}" } },
    [`DELETE ${ev}/invites/email`]: { allowed: "creator", visible: true, json: { email: "someone@example.test" } },
    [`PATCH ${ev}/invites/{user_id}`]: { allowed: "creator", visible: true, json: { role: "moderator" } },
    [`DELETE ${ev}/invites/{user_id}`]: { allowed: "creator", visible: true },
    [`PATCH ${ev}/invite`]: { allowed: "invitee", visible: true },
    [`DELETE ${ev}/invite`]: { allowed: "invitee", visible: true },
    "PATCH /v1/users/me": { allowed: "signed-in", json: { display_name: "Someone else" } },
    "POST /v1/admin/tariffs": { allowed: "admin", json: { name: "Stolen", quotas: {}, disabled_features: [] } },
    "PUT /v1/admin/users/{user_id}/tariff": { allowed: "admin", json: { tariff_id: "{uuid}", tariff_status: "paid" } },
    "POST /v1/rooms": { allowed: "signed-in", json: {} },
    [`PATCH ${room}`]: { allowed: "creator", visible: true, json: { waiting_room: false } },
    [`DELETE ${room}`]: { allowed: "creator", visible: true },
    [`POST ${room}/invites`]: { allowed: "creator", visible: true, json: {} },
    [`PUT ${room}/invites/{invite_code}`]: { allowed: "creator", visible: true, json: { expiration: null } },
    [`DELETE ${room}/invites/{invite_code}`]: { allowed: "creator", visible: true },
    "POST /v1/invite/verify": { allowed: "public" },
    [`POST ${room}/start`]: { allowed: "creator-or-invitee", visible: true, json: {} },
    [`POST ${room}/start_invited`]: { allowed: "public" },
    "POST /v1/services/call_in/start": { allowed: "service", json: { id: "0123456789", pin: "0123456789" } },
    [`PUT ${room}/sip`]: { allowed: "creator", visible: true, json: { lobby: true } },
    [`DELETE ${room}/sip`]: { allowed: "creator", visible: true },
    [`POST ${room}/streaming_targets`]: { allowed: "creator", visible: true, json: STREAMING_TARGET },
    [`PATCH ${room}/streaming_targets/{streaming_target_id}`]: { allowed: "creator", visible: true, json: { name: "Taken over" } },
    [`DELETE ${room}/streaming_targets/{streaming_target_id}`]: { allowed: "creator", visible: true },
    [`DELETE ${room}/assets/{asset_id}`]: { allowed: "creator", visible: true },
    [`PUT ${ev}/shared_folder`]: { allowed: "creator", visible: true },
    [`DELETE ${ev}/shared_folder`]: { allowed: "creator", visible: true },
  };
}

/** The answer for a forbidden role (opentalk-reference §1.3, §1.4 and D18), or "allowed". */
function otVerdict(route: OtRoute, role: OtRole): number | "allowed" {
  if (route.allowed === "public") return "allowed";
  // No user: 401 (an invite code is no user token outside the guest routes).
  if (role === "anonymous" || role === "invite") return 401;
  if (route.allowed === "service") return 401;
  if (route.allowed === "signed-in") return "allowed";
  if (route.allowed === "admin") return 403;
  const invitee = role === "invitee" || role === "moderator";
  if (role === "owner") return route.allowed === "invitee" ? 403 : "allowed";
  if (invitee) return route.allowed === "creator" ? 403 : "allowed";
  return 404; // a stranger cannot see the event or room
}

describe("role sweep: OpenTalk", () => {
  let who: Record<OtRole, Signed | null>;
  let inviteCode: string;
  let event: { id: string; room: { id: string } };
  let instanceId: string;
  let invitee: Signed;
  let streamingTargetId: string;

  beforeAll(async () => {
    const [owner, inv, mod, stranger] = await Promise.all(["owner", "invitee", "moderator", "stranger"].map((p) => signIn(p)));
    invitee = inv as Signed;
    event = await createEvent(owner as Signed, timedEvent("2031-02-03T09:00:00Z", 60, "Europe/Berlin", { recurrence_pattern: ["RRULE:FREQ=DAILY;COUNT=3"] }));
    const invite = (u: Signed, role: string) => v1("POST", `/v1/events/${event.id}/invites`, { token: owner?.token, json: { invitee: u.id, role } });
    expect((await invite(invitee, "user")).status).toBe(201);
    expect((await invite(mod as Signed, "moderator")).status).toBe(201);
    expect([200, 201]).toContain((await v1("PUT", `/v1/rooms/${event.room.id}/sip`, { token: owner?.token, json: { lobby: false } })).status);
    inviteCode = await createInvite(owner as Signed, event.room.id);
    instanceId = (await v1("GET", `/v1/events/${event.id}/instances`, { token: owner?.token })).body[0].id;
    const target = await v1("POST", `/v1/rooms/${event.room.id}/streaming_targets`, { token: owner?.token, json: STREAMING_TARGET });
    expect(target.status).toBe(201);
    streamingTargetId = target.body.id;
    who = { anonymous: null, invite: null, stranger: stranger as Signed, invitee, moderator: mod as Signed, owner: owner as Signed };
  });

  it("every mutating OpenTalk route has an entry in the table", async () => {
    const ops = (await loadOperations()).filter((op) => op.dialect === "v1" && MUTATING.has(op.method)).map((op) => `${op.method} ${op.path}`);
    expect(ops.filter((key) => !(key in otTable()))).toEqual([]);
  });

  it("refuses every forbidden role with the documented status and changes nothing", { timeout: 120_000 }, async () => {
    const before = await snapshot([event.room.id]);
    const wrong: string[] = [];
    let refused = 0;
    for (const [key, route] of Object.entries(otTable())) {
      const [method, template] = key.split(" ") as [string, string];
      const path = template
        .replace("{event_id}", event.id)
        .replace("{room_id}", event.room.id)
        .replace("{instance_id}", instanceId)
        .replace("{invite_code}", inviteCode)
        .replace("{user_id}", invitee.id)
        .replace("{streaming_target_id}", streamingTargetId)
        // No asset exists: the access check answers before the lookup would.
        .replace("{asset_id}", crypto.randomUUID());
      const json = route.json && JSON.parse(JSON.stringify(route.json).replace("{stranger}", who.stranger?.id as string).replace("{uuid}", crypto.randomUUID()));
      for (const role of OT_ROLES) {
        const verdict = otVerdict(route, role);
        if (verdict === "allowed") continue;
        const auth = role === "invite" ? `Bearer ${inviteCode}` : undefined;
        const res = await v1(method, path, { token: who[role]?.token ?? null, auth, ...(json ? { json } : {}) });
        refused += 1;
        const shaped = res.headers.get("content-type") === "text/json; charset=utf-8" && typeof res.body?.code === "string";
        if (res.status !== verdict || !shaped) wrong.push(`${key} as ${role}: expected ${verdict}, got ${res.status} ${JSON.stringify(res.body)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(refused).toBeGreaterThan(60);
    expect(await snapshot([event.room.id])).toEqual(before);
  });
});
