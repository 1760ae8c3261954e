import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Coalescer } from "../src/opentalk/signaling/coalescer";
import { roomStub } from "../src/room/directory";
import { evictDurableObject } from "./helpers/evict";
import { createEvent, createInvite, createRoom, expectError, expectValidation, type Signed, signIn, signInAdmin, timedEvent, v1 } from "./helpers/opentalk";
import { ocs } from "./helpers/http";
import { JoinSuccess } from "./helpers/opentalk-frames";
import { PROTOCOL, SignalingClient, upgradeRequest } from "./helpers/signaling";

const ALNUM64 = /^[A-Za-z0-9]{64}$/;

async function start(user: Signed, roomId: string, json: Record<string, unknown> = {}) {
  return v1("POST", `/v1/rooms/${roomId}/start`, { token: user.token, json });
}

async function startInvited(roomId: string, json: Record<string, unknown>) {
  return v1("POST", `/v1/rooms/${roomId}/start_invited`, { json });
}

async function addMember(owner: Signed, roomId: string, member: Signed): Promise<void> {
  const row = await env.DB.prepare("SELECT token FROM rooms WHERE id = ?").bind(roomId).first<{ token: string }>();
  const res = await ocs("POST", `/ocs/v2.php/apps/spreed/api/v4/room/${row?.token}/participants`, {
    auth: { user: owner.login, password: owner.password },
    body: { newParticipant: member.login },
  });
  expect(res.status).toBe(200);
}

async function handshake(protocols: string | null) {
  const res = await exports.default.fetch(upgradeRequest(protocols));
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

describe("POST /v1/rooms/{room_id}/start", () => {
  it("gives members a ticket and a resumption token; strangers 404, anonymous 401", async () => {
    const owner = await signIn("host");
    const member = await signIn("member");
    const stranger = await signIn("stranger");
    const room = await createRoom(owner, { password: "not-needed-for-users" });
    await addMember(owner, room.id, member);
    for (const user of [owner, member]) {
      const res = await start(user, room.id);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(["resumption", "ticket"]);
      expect(res.body.ticket).toMatch(ALNUM64);
      expect(res.body.resumption).toMatch(ALNUM64);
    }
    expectError(await start(stranger, room.id), 404, "not_found");
    expectError(await start(owner, crypto.randomUUID()), 404, "not_found");
    expectError(await v1("POST", `/v1/rooms/${room.id}/start`, { json: {} }), 401, "unauthorized");
  });

  it("rejects breakout rooms (none run) and malformed bodies", async () => {
    const owner = await signIn("host");
    const room = await createRoom(owner);
    expectError(await start(owner, room.id, { breakout_room: crypto.randomUUID() }), 400, "no_breakout_rooms");
    expectError(await start(owner, room.id, { breakout_room: 3 }), 400, "invalid_json");
    expectError(await start(owner, room.id, { resumption: 42 }), 400, "invalid_json");
    expectError(await v1("POST", `/v1/rooms/${room.id}/start`, { token: owner.token, body: "x", headers: { "Content-Type": "application/json" } }), 400, "invalid_json");
  });
});

/** A meeting of three: the owner (a moderator), a member and an invite-code guest, all joined. */
async function meetingOfThree(prefix: string, ownerName: string) {
  const owner = await signIn(`${prefix}host`, { displayName: "Tess Host" });
  const bob = await signIn(`${prefix}bob`);
  const room = await createRoom(owner);
  await addMember(owner, room.id, bob);
  const code = await createInvite(owner, room.id);
  const o = await SignalingClient.connect((await start(owner, room.id)).body.ticket);
  const b = await SignalingClient.connect((await start(bob, room.id)).body.ticket);
  const g = await SignalingClient.connect((await startInvited(room.id, { invite_code: code })).body.ticket);
  const ids: string[] = [];
  for (const [client, name] of [[o, ownerName], [b, "Bob"], [g, "Guest"]] as const) {
    client.send("control", { action: "join", display_name: name });
    ids.push((await client.next("control", "join_success")).payload.id as string);
  }
  const [ownerId, bobId, guestId] = ids as [string, string, string];
  return { owner, bob, room, o, b, g, ownerId, bobId, guestId };
}

describe("moderator tools", () => {
  it("resets raised hands, renames guests, and sends participants to the waiting room", async () => {
    const { o, b, g, ownerId, bobId, guestId } = await meetingOfThree("tool", "Tess");
    try {

      // Hands: raised, then reset by the moderator; the owner of the hand is told who did it.
      b.send("control", { action: "raise_hand" });
      await o.next("control", "update", (f) => f.payload.id === bobId && f.payload.control.hand_is_up === true);
      o.send("moderation", { action: "reset_raised_hands", target: [] });
      o.send("moderation", { action: "reset_raised_hands" });
      expect((await b.next("moderation", "raised_hand_reset_by_moderator")).payload).toEqual({ message: "raised_hand_reset_by_moderator", issued_by: ownerId });
      await o.next("control", "update", (f) => f.payload.id === bobId && f.payload.control.hand_is_up === false);

      // Names: only guests and phone participants, 1 to 100 characters, moderators only.
      o.send("moderation", { action: "change_display_name", target: bobId, new_name: "Robert" });
      expect((await o.next("moderation", "error")).payload.error).toBe("cannot_change_name_of_registered_users");
      o.send("moderation", { action: "change_display_name", target: guestId, new_name: "   " });
      expect((await o.next("moderation", "error")).payload.error).toBe("invalid_display_name");
      // Non-moderators' moderation commands are ignored, without an answer.
      expect(await b.errorsFor("moderation", { action: "change_display_name", target: guestId, new_name: "Hijack" })).toEqual([]);
      o.send("moderation", { action: "change_display_name", target: guestId, new_name: "Gina" });
      const changed = { message: "display_name_changed", target: guestId, issued_by: ownerId, old_name: "Guest", new_name: "Gina" };
      for (const c of [o, b, g]) expect((await c.next("moderation", "display_name_changed")).payload).toEqual(changed);
      expect((await b.next("control", "update", (f) => f.payload.id === guestId)).payload.control.display_name).toBe("Gina");

      // Granting and revoking tell the target (role_updated) and the moderator who did it.
      o.send("control", { action: "grant_moderator_role", target: bobId });
      expect((await b.next("control", "role_updated")).payload).toEqual({ message: "role_updated", new_role: "moderator" });
      expect((await o.next("control", "moderator_role_granted")).payload).toEqual({ message: "moderator_role_granted", target: bobId });
      o.send("control", { action: "revoke_moderator_role", target: bobId });
      expect((await b.next("control", "role_updated")).payload.new_role).toBe("user");
      expect((await o.next("control", "moderator_role_revoked")).payload).toEqual({ message: "moderator_role_revoked", target: bobId });
      o.send("control", { action: "grant_moderator_role", target: bobId });
      await b.next("control", "role_updated");
      // The room owner cannot be sent away, even by another moderator.
      b.send("moderation", { action: "send_to_waiting_room", target: ownerId });
      expect((await b.next("moderation", "error")).payload.error).toBe("cannot_send_room_owner_to_waiting_room");

      // The guest goes to the waiting room: the socket stays, the others see them leave for it.
      o.send("moderation", { action: "send_to_waiting_room", target: guestId });
      await g.next("moderation", "sent_to_waiting_room");
      expect((await o.next("control", "left")).payload).toEqual({ message: "left", id: guestId, reason: "sent_to_waiting_room" });
      const waiting = (await o.next("moderation", "joined_waiting_room")).payload;
      expect(waiting).toMatchObject({ id: guestId, control: { display_name: "Gina" } });
      // Back in only when accepted again.
      g.send("control", { action: "enter_room" });
      expect((await g.next("control", "error")).payload.error).toBe("not_accepted_or_not_in_waiting_room");
      o.send("moderation", { action: "accept", target: guestId });
      await g.next("moderation", "accepted");
      g.send("control", { action: "enter_room" });
      expect((await g.next("control", "join_success")).payload.id).toBe(guestId);
    } finally {
      for (const c of [o, b, g]) c.close();
    }
  });

  it("ends the meeting when the tariff's time limit has passed: closes_at in join_success, then time_limit_quota_elapsed", async () => {
    const admin = await signInAdmin();
    const owner = await signIn("limithost");
    const tariff = await v1("POST", "/v1/admin/tariffs", { token: admin.token, json: { name: `limit-${owner.id}`, quotas: { room_time_limit_secs: 1 } } });
    expect(tariff.status).toBe(201);
    expect((await v1("PUT", `/v1/admin/users/${owner.id}/tariff`, { token: admin.token, json: { tariff_id: tariff.body.id, tariff_status: "paid" } })).status).toBe(200);
    const room = await createRoom(owner);
    const o = await SignalingClient.connect((await start(owner, room.id)).body.ticket);
    const before = Date.now();
    o.send("control", { action: "join", display_name: "Host" });
    const joined = (await o.next("control", "join_success")).payload;
    const closesAt = Date.parse(joined.closes_at as string);
    expect(closesAt).toBeGreaterThanOrEqual(before + 1000 - 5);
    expect(closesAt).toBeLessThanOrEqual(Date.now() + 1000);
    await new Promise((r) => setTimeout(r, Math.max(0, closesAt - Date.now()) + 50));
    // The room's alarm is due by now; run it in case it has not fired yet.
    await runDurableObjectAlarm(roomStub(env, room.id));
    await o.next("control", "time_limit_quota_elapsed");
    expect((await o.closed).code).toBe(1000);
    expect((await roomStub(env, room.id).snapshot())?.sessions).toEqual([]);
  });

  it("debriefs: the chosen scope leaves with session_ended, the rest stay behind the waiting room", async () => {
    const { room, o, b, g, ownerId } = await meetingOfThree("deb", "Host");
    try {
      // Only moderators debrief; a bad scope is a bad frame.
      expect(await b.errorsFor("moderation", { action: "debrief", kick_scope: "guests" })).toEqual([]);
      o.send("moderation", { action: "debrief", kick_scope: "everyone" });
      expect((await o.next("control", "error")).payload.error).toBe("invalid_json");

      o.send("moderation", { action: "debrief", kick_scope: "guests" });
      expect((await b.next("moderation", "debriefing_started")).payload).toEqual({ message: "debriefing_started", issued_by: ownerId });
      await o.next("moderation", "debriefing_started");
      await b.next("moderation", "waiting_room_enabled");
      expect((await g.next("moderation", "session_ended")).payload).toEqual({ message: "session_ended", issued_by: ownerId });
      expect((await g.closed).code).toBe(1000);
      expect((await roomStub(env, room.id).snapshot())?.meta.lobbyState).toBe(1);

      o.send("moderation", { action: "debrief", kick_scope: "users_and_guests" });
      await o.next("moderation", "debriefing_started");
      await b.next("moderation", "session_ended");
      expect((await b.closed).code).toBe(1000);
      // Only the moderator is left in the meeting, and in the room's call as Talk sees it.
      const sessions = (await roomStub(env, room.id).snapshot())?.sessions ?? [];
      expect(sessions.map((x) => x.id)).toEqual([ownerId]);
    } finally {
      o.close();
    }
  });
});

describe("media without a LiveKit server", () => {
  it("join_success (upstream shape) without livekit, then livekit_unavailable for the join and every command; the meeting works", async () => {
    const { o, b, g, bobId } = await meetingOfThree("nolk", "Nora");
    try {
      // Each join_success was followed by the news that there is no media.
      for (const c of [o, b, g]) expect((await c.next("livekit", "error")).payload).toEqual({ message: "error", error: "livekit_unavailable" });
      for (const c of [o, b]) {
        c.send("livekit", { action: "create_new_access_token" });
        expect((await c.next("livekit", "error")).payload.error).toBe("livekit_unavailable");
      }
      o.send("livekit", { action: "force_mute", participants: [bobId] });
      expect((await o.next("livekit", "error")).payload.error).toBe("livekit_unavailable");
      g.send("livekit", { action: "request_popout_stream_access_token" });
      expect((await g.next("livekit", "error")).payload.error).toBe("livekit_unavailable");
      g.send("livekit", { action: "mute_everyone" });
      expect((await g.next("control", "error")).payload.error).toBe("invalid_json");
      // Chat and moderation go on.
      b.send("chat", { action: "send_message", scope: "global", content: "no media today" });
      expect((await g.next("chat", "message_sent")).payload).toMatchObject({ source: bobId, content: "no media today" });
      b.send("control", { action: "raise_hand" });
      await o.next("control", "update", (f) => f.payload.id === bobId && f.payload.control.hand_is_up === true);
      o.send("moderation", { action: "reset_raised_hands" });
      await b.next("moderation", "raised_hand_reset_by_moderator");
    } finally {
      for (const c of [o, b, g]) c.close();
    }
  });

  it("validates join_success against the upstream shape; a tariff without the livekit module has no livekit namespace", async () => {
    const admin = await signInAdmin();
    const owner = await signIn("nolkmod", { displayName: "Mo Dule" });
    const tariff = await v1("POST", "/v1/admin/tariffs", { token: admin.token, json: { name: `no-media-${owner.id}`, disabled_modules: ["livekit"] } });
    expect(tariff.status).toBe(201);
    const room = await createRoom(owner);
    const plain = await SignalingClient.connect((await start(owner, room.id)).body.ticket);
    try {
      plain.send("control", { action: "join", display_name: "Mo" });
      const parsed = JoinSuccess.safeParse((await plain.next("control", "join_success")).payload);
      expect(parsed.error).toBeUndefined();
      expect(parsed.data?.livekit).toBeUndefined();
      expect(parsed.data?.tariff.modules).toHaveProperty("livekit");
      await plain.next("livekit", "error");
    } finally {
      plain.close();
    }
    expect((await v1("PUT", `/v1/admin/users/${owner.id}/tariff`, { token: admin.token, json: { tariff_id: tariff.body.id, tariff_status: "paid" } })).status).toBe(200);
    const limited = await SignalingClient.connect((await start(owner, room.id)).body.ticket);
    try {
      limited.send("control", { action: "join", display_name: "Mo" });
      const joined = (await limited.next("control", "join_success")).payload;
      expect(joined.tariff.modules).not.toHaveProperty("livekit");
      expect(joined).not.toHaveProperty("livekit");
      limited.send("livekit", { action: "create_new_access_token" });
      expect((await limited.next("control", "error")).payload.error).toBe("invalid_namespace");
      limited.send("echo", { after: true });
      // No livekit/error came before the echo: the module is simply not there.
      expect((await limited.nextIn("echo")).payload).toEqual({ after: true });
      expect(limited.pending().filter((f) => f.namespace === "livekit")).toEqual([]);
    } finally {
      limited.close();
    }
  });
});

describe("join_success in an event's room", () => {
  it("carries event_info {id, room_id, title, is_adhoc} and room_info without a password", async () => {
    const owner = await signIn("evhost", { displayName: "Eve Host" });
    const ev = await createEvent(owner, { ...timedEvent("2030-05-06T08:00:00Z"), title: "Standup" });
    const client = await SignalingClient.connect((await start(owner, ev.room.id)).body.ticket);
    try {
      client.send("control", { action: "join", display_name: "Eve" });
      const joined = (await client.next("control", "join_success")).payload;
      expect(joined.event_info).toEqual({ id: ev.id, room_id: ev.room.id, title: "Standup", is_adhoc: false });
      expect(joined.room_info).toMatchObject({ id: ev.room.id, created_by: { display_name: "Eve Host" } });
      expect(joined.room_info).not.toHaveProperty("password");
    } finally {
      client.close();
    }
  });
});

describe("optional body fields sent as null (as the OpenTalk web app sends them)", () => {
  it("reads null as absent: start and start_invited with breakout_room, resumption and password null", async () => {
    const owner = await signIn("nullish");
    const room = await createRoom(owner);
    const started = await start(owner, room.id, { breakout_room: null, resumption: null });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    expect(started.body.ticket).toEqual(expect.any(String));
    const code = await createInvite(owner, room.id);
    const invited = await startInvited(room.id, { invite_code: code, breakout_room: null, password: null, resumption: null });
    expect(invited.status, JSON.stringify(invited.body)).toBe(200);
    // A required field is still required when null.
    expectError(await startInvited(room.id, { invite_code: null }), 400, "invalid_json");
  });

  it("keeps null where it means something: PATCH /v1/rooms/{id} {password: null} removes the password", async () => {
    const owner = await signIn("nullpw");
    const room = await createRoom(owner, { password: "secret-1" });
    const patched = await v1("PATCH", `/v1/rooms/${room.id}`, { token: owner.token, json: { password: null } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.password).toBeNull();
  });
});

describe("POST /v1/rooms/{room_id}/start_invited", () => {
  it("admits invite-code guests only while the creator's tariff has core::guests_allowed (advertised in every tariff by default)", async () => {
    const admin = await signInAdmin();
    const owner = await signIn("noguests");
    const room = await createRoom(owner);
    const code = await createInvite(owner, room.id);
    const tariff = await v1("GET", `/v1/rooms/${room.id}/tariff`, { token: owner.token });
    expect(tariff.body.modules.core.features).toContain("guests_allowed");
    expect(tariff.body.modules.breakout).toBeUndefined();
    const created = await v1("POST", "/v1/admin/tariffs", { token: admin.token, json: { name: `No guests ${owner.login}`, disabled_features: ["guests_allowed"] } });
    expect(created.status).toBe(201);
    expect((await v1("PUT", `/v1/admin/users/${owner.id}/tariff`, { token: admin.token, json: { tariff_id: created.body.id, tariff_status: "paid" } })).status).toBe(200);
    expectError(await startInvited(room.id, { invite_code: code }), 403, "feature_disabled");
    // Members still start as before.
    expect((await start(owner, room.id)).status).toBe(200);
  });

  it("admits invite-code guests with the room password; wrong or missing password → 401 wrong_room_password", async () => {
    const owner = await signIn("host");
    const room = await createRoom(owner, { password: "open sesame" });
    const code = await createInvite(owner, room.id);
    const ok = await startInvited(room.id, { invite_code: code, password: "open sesame" });
    expect(ok.status).toBe(200);
    expect(ok.body.ticket).toMatch(ALNUM64);
    const wrong = await startInvited(room.id, { invite_code: code, password: "open sesame!" });
    expectError(wrong, 401, "wrong_room_password");
    expect(wrong.body.message).toBe("The provided password does not match the rooms password");
    expect(wrong.headers.get("www-authenticate")).toBeNull();
    expectError(await startInvited(room.id, { invite_code: code }), 401, "wrong_room_password");

    // Without a room password any given password is ignored.
    const open = await createRoom(owner);
    const openCode = await createInvite(owner, open.id);
    expect((await startInvited(open.id, { invite_code: openCode, password: "whatever" })).status).toBe(200);
    expect((await startInvited(open.id, { invite_code: openCode })).status).toBe(200);
  });

  it("refuses malformed, unknown, expired, deleted and foreign invite codes", async () => {
    const owner = await signIn("host");
    const room = await createRoom(owner);
    const other = await createRoom(owner);
    const bad = await startInvited(room.id, { invite_code: "not-a-uuid" });
    expectValidation(bad, "invite_code", "invalid_value");
    expect(bad.body.validation_errors[0].message).toBe("Bad invite code format");
    expectError(await startInvited(room.id, { invite_code: crypto.randomUUID() }), 404, "not_found");
    const expired = await createInvite(owner, room.id, { expiration: "2000-01-01T00:00:00Z" });
    expectError(await startInvited(room.id, { invite_code: expired }), 404, "not_found");
    const deleted = await createInvite(owner, room.id);
    await v1("DELETE", `/v1/rooms/${room.id}/invites/${deleted}`, { token: owner.token });
    expectError(await startInvited(room.id, { invite_code: deleted }), 404, "not_found");
    const foreign = await createInvite(owner, other.id);
    const mismatch = await startInvited(room.id, { invite_code: foreign });
    expectError(mismatch, 400, "bad_request");
    expect(mismatch.body.message).toBe("Room id mismatch");
    expectError(await startInvited(room.id, {}), 400, "invalid_json");
    expectValidation(await startInvited(room.id, { invite_code: "x".repeat(129) }), "invite_code", "invalid_length");
  });
});

describe("GET /signaling handshake", () => {
  it("answers the reference's errors for missing or bad protocols and tickets", async () => {
    const owner = await signIn("host");
    const room = await createRoom(owner);
    expectError(await handshake(null), 400, "missing_protocol");
    expectError(await handshake("chat, ticket#abc"), 400, "invalid_protocol");
    expectError(await handshake(PROTOCOL), 401, "missing_ticket");
    expectError(await handshake(`${PROTOCOL}, ticket#short`), 401, "invalid_ticket");
    expectError(await handshake(`${PROTOCOL}, ticket#${"A".repeat(64)}`), 401, "invalid_ticket");

    // Tickets work once.
    const { ticket } = (await start(owner, room.id)).body;
    const client = await SignalingClient.connect(ticket);
    expectError(await handshake(`ticket#${ticket}, ${PROTOCOL}`), 401, "invalid_ticket");
    client.close();
  });
});

describe("signaling", () => {
  it(
    "holds a meeting: waiting room, hands, bad frames, kick, ban, resumption, and eviction with hibernated sockets",
    async () => {
      const owner = await signIn("host", { displayName: "Olivia Owner" });
      const bob = await signIn("bob", { displayName: "Bob Member" });
      const room = await createRoom(owner, { password: "meet", waiting_room: true });
      await addMember(owner, room.id, bob);
      const code = await createInvite(owner, room.id);
      const stub = roomStub(env, room.id);

      // 1. The owner joins: moderator, room owner, the waiting room is on.
      const o = await SignalingClient.connect((await start(owner, room.id)).body.ticket);
      o.send("control", { action: "join", display_name: "  Olivia   Owner " });
      const ojoin = (await o.next("control", "join_success")).payload;
      expect(ojoin).toMatchObject({ display_name: "Olivia Owner", role: "moderator", is_room_owner: true, participants: [] });
      expect(ojoin.moderation).toEqual({ raise_hands_enabled: true, waiting_room_enabled: true, waiting_room_participants: [] });
      expect(ojoin.tariff).toMatchObject({ name: "OpenTalkDefaultTariff" });
      // A plain room has no event; room_info names the room, its password and its creator.
      expect(ojoin.event_info).toBeNull();
      expect(ojoin.room_info).toEqual({
        id: room.id,
        password: "meet",
        created_by: { title: "", firstname: "Olivia", lastname: "Owner", display_name: "Olivia Owner", avatar_url: expect.stringMatching(/^https:\/\//) },
      });
      const ownerId = ojoin.id as string;

      // 2. Bob waits in the waiting room until the owner accepts him.
      const bobStart = (await start(bob, room.id)).body;
      const b = await SignalingClient.connect(bobStart.ticket);
      b.send("control", { action: "raise_hand" });
      expect((await b.next("control", "error")).payload.error).toBe("not_yet_joined");
      // Before the join only control and echo are processed: a module's frame gets no answer.
      expect(await b.errorsFor("moderation", { action: "kick", target: ownerId })).toEqual([]);
      expect(await b.errorsFor("chat", { action: "send_message", scope: "global", content: "early" })).toEqual([]);
      b.send("control", { action: "join", display_name: "Bob" });
      await b.next("moderation", "in_waiting_room");
      const waiting = (await o.next("moderation", "joined_waiting_room")).payload;
      expect(waiting.control).toMatchObject({ display_name: "Bob", role: "user", participation_kind: "user" });
      // A timestamp, as everywhere else, not "".
      expect(Number.isNaN(Date.parse(waiting.control.hand_updated_at))).toBe(false);
      const bobId = waiting.id as string;
      b.send("control", { action: "enter_room" });
      expect((await b.next("control", "error")).payload.error).toBe("not_accepted_or_not_in_waiting_room");
      // Accepting someone who is not waiting is ignored without an answer.
      expect(await o.errorsFor("moderation", { action: "accept", target: ownerId })).toEqual([]);
      o.send("moderation", { action: "accept", target: bobId });
      await b.next("moderation", "accepted");
      expect(await o.errorsFor("moderation", { action: "accept", target: bobId })).toEqual([]);
      b.send("control", { action: "enter_room" });
      const bjoin = (await b.next("control", "join_success")).payload;
      expect(bjoin).toMatchObject({ id: bobId, role: "user", is_room_owner: false });
      expect(bjoin.participants).toEqual([{ id: ownerId, control: expect.objectContaining({ display_name: "Olivia Owner", role: "moderator", is_room_owner: true, left_at: null }) }]);
      expect(bjoin.moderation).toEqual({ raise_hands_enabled: true });
      await o.next("moderation", "left_waiting_room", (f) => f.payload.id === bobId);
      expect((await o.next("control", "joined")).payload).toMatchObject({ id: bobId, control: { display_name: "Bob", hand_is_up: false } });

      // 3. The owner opens the waiting room (= the Talk lobby), and a guest joins directly.
      o.send("moderation", { action: "disable_waiting_room" });
      await o.next("moderation", "waiting_room_disabled");
      await b.next("moderation", "waiting_room_disabled");
      expect((await v1("GET", `/v1/rooms/${room.id}`, { token: owner.token })).body.waiting_room).toBe(false);
      const guestStart = (await startInvited(room.id, { invite_code: code, password: "meet" })).body;
      const g = await SignalingClient.connect(guestStart.ticket);
      g.send("control", { action: "join", display_name: "Gus" });
      const gjoin = (await g.next("control", "join_success")).payload;
      expect(gjoin).toMatchObject({ role: "guest", display_name: "Gus" });
      expect(gjoin.participants.map((p: { id: string }) => p.id).sort()).toEqual([ownerId, bobId].sort());
      const guestId = gjoin.id as string;
      for (const c of [o, b]) expect((await c.next("control", "joined")).payload).toMatchObject({ id: guestId, control: { participation_kind: "guest", role: "guest" } });

      // 4. Hands: raised and lowered, seen by the others as updates; then disabled by the owner.
      b.send("control", { action: "raise_hand" });
      await b.next("control", "hand_raised");
      for (const c of [o, g]) expect((await c.next("control", "update")).payload).toMatchObject({ id: bobId, control: { hand_is_up: true } });
      b.send("control", { action: "lower_hand" });
      await b.next("control", "hand_lowered");
      for (const c of [o, g]) expect((await c.next("control", "update")).payload).toMatchObject({ id: bobId, control: { hand_is_up: false } });
      b.send("control", { action: "raise_hand" });
      await b.next("control", "hand_raised");
      for (const c of [o, g]) await c.next("control", "update", (f) => f.payload.id === bobId && f.payload.control.hand_is_up);
      // Disabling raised hands lowers the raised ones.
      o.send("moderation", { action: "disable_raise_hands" });
      expect((await g.next("moderation", "raise_hands_disabled")).payload.issued_by).toBe(ownerId);
      for (const c of [o, g]) expect((await c.next("control", "update")).payload).toMatchObject({ id: bobId, control: { hand_is_up: false } });
      g.send("control", { action: "raise_hand" });
      expect((await g.next("control", "error")).payload.error).toBe("raise_hands_disabled");
      o.send("moderation", { action: "enable_raise_hands" });
      await g.next("moderation", "raise_hands_enabled");

      // 5. Bad frames get errors, never silence; echo answers before and after joining.
      const errorOf = async (c: SignalingClient) => (await c.next("control", "error")).payload.error;
      g.sendRaw("{not json");
      expect(await errorOf(g)).toBe("invalid_json");
      g.send("control", { action: "fly" });
      expect(await errorOf(g)).toBe("invalid_json");
      g.sendRaw(JSON.stringify({ payload: { action: "join" } }));
      expect(await errorOf(g)).toBe("invalid_json");
      g.send("moderation", { action: "kick", target: "nobody" });
      expect(await errorOf(g)).toBe("invalid_json");
      g.send("whiteboard", { action: "initialize" });
      expect(await errorOf(g)).toBe("invalid_namespace");
      g.send("control", { action: "join", display_name: "Again" });
      expect(await errorOf(g)).toBe("already_joined");
      // A guest's kick and ban are ignored without an answer (the reference of the seed's era).
      expect(await g.errorsFor("moderation", { action: "kick", target: ownerId })).toEqual([]);
      expect(await g.errorsFor("moderation", { action: "ban", target: ownerId })).toEqual([]);
      g.send("echo", { action: "ping" });
      expect(await g.nextIn("echo")).toMatchObject({ namespace: "echo", payload: { action: "ping" } });
      o.send("moderation", { action: "ban", target: guestId });
      expect((await o.next("moderation", "error")).payload.error).toBe("cannot_ban_guest");

      // 6. The guest is kicked: told so, disconnected, and gone for the others.
      o.send("moderation", { action: "kick", target: guestId });
      await g.next("moderation", "kicked");
      expect((await g.closed).code).toBe(1000);
      for (const c of [o, b]) expect((await c.next("control", "left")).payload).toEqual({ message: "left", id: guestId, reason: "quit" });

      // 7. Bob drops and comes back with his resumption token as the same participant, past the
      //    waiting room the owner has closed again (he was accepted in this session).
      expectError(await start(bob, room.id, { resumption: bobStart.resumption }), 400, "session_running");
      b.close();
      expect((await o.next("control", "left")).payload.id).toBe(bobId);
      o.send("moderation", { action: "enable_waiting_room" });
      await o.next("moderation", "waiting_room_enabled");
      const resumed = (await start(bob, room.id, { resumption: bobStart.resumption })).body;
      expect(resumed.resumption).toBe(bobStart.resumption);
      const b2 = await SignalingClient.connect(resumed.ticket);
      b2.send("control", { action: "join", display_name: "Bob" });
      const rejoin = (await b2.next("control", "join_success")).payload;
      expect(rejoin.id).toBe(bobId);
      expect((await o.next("control", "joined")).payload.id).toBe(bobId);

      // 8. Eviction: the object goes away, the sockets hibernate and still work afterwards.
      await evictDurableObject(stub);
      b2.send("control", { action: "raise_hand" });
      await b2.next("control", "hand_raised");
      expect((await o.next("control", "update")).payload).toMatchObject({ id: bobId, control: { hand_is_up: true } });
      o.send("echo", { action: "ping" });
      expect(await o.nextIn("echo")).toMatchObject({ namespace: "echo" });

      // 9. Bob is banned: closed, and refused a new ticket for the rest of the session.
      o.send("moderation", { action: "ban", target: bobId });
      await b2.next("moderation", "banned");
      await b2.closed;
      expect((await o.next("control", "left")).payload.id).toBe(bobId);
      expectError(await start(bob, room.id), 403, "banned_from_room");
      o.close();
    },
    90_000,
  );

  it("a moderator leaving does not strand the waiting room; the next moderator sees and admits it", async () => {
    const owner = await signIn("host");
    const room = await createRoom(owner, { waiting_room: true });
    const code = await createInvite(owner, room.id);
    const ownerStart = (await start(owner, room.id)).body;
    const o = await SignalingClient.connect(ownerStart.ticket);
    o.send("control", { action: "join", display_name: "Host" });
    await o.next("control", "join_success");

    const g = await SignalingClient.connect((await startInvited(room.id, { invite_code: code })).body.ticket);
    g.send("control", { action: "join", display_name: "Waiting Guest" });
    await g.next("moderation", "in_waiting_room");
    const guestId = (await o.next("moderation", "joined_waiting_room")).payload.id;

    o.close();
    await o.closed;
    const back = await SignalingClient.connect((await start(owner, room.id, { resumption: ownerStart.resumption })).body.ticket);
    back.send("control", { action: "join", display_name: "Host" });
    const joined = (await back.next("control", "join_success")).payload;
    expect(joined.moderation.waiting_room_participants).toEqual([
      { id: guestId, control: expect.objectContaining({ display_name: "Waiting Guest", participation_kind: "guest" }), waiting_room_state: "waiting" },
    ]);
    back.send("moderation", { action: "accept", target: guestId });
    await g.next("moderation", "accepted");
    g.send("control", { action: "enter_room" });
    expect((await g.next("control", "join_success")).payload.participants.map((p: { id: string }) => p.id)).toEqual([joined.id]);
    g.close();
    back.close();
  });

  it("tells everyone in the meeting, not only moderators, who joins and leaves the waiting room", async () => {
    const owner = await signIn("wrhost");
    const bob = await signIn("wrbob");
    const room = await createRoom(owner);
    await addMember(owner, room.id, bob);
    const code = await createInvite(owner, room.id);
    const o = await SignalingClient.connect((await start(owner, room.id)).body.ticket);
    o.send("control", { action: "join", display_name: "Host" });
    await o.next("control", "join_success");
    const b = await SignalingClient.connect((await start(bob, room.id)).body.ticket);
    b.send("control", { action: "join", display_name: "Bob" });
    expect((await b.next("control", "join_success")).payload.role).toBe("user");
    o.send("moderation", { action: "enable_waiting_room" });
    await b.next("moderation", "waiting_room_enabled");
    const g = await SignalingClient.connect((await startInvited(room.id, { invite_code: code })).body.ticket);
    g.send("control", { action: "join", display_name: "Gast" });
    await g.next("moderation", "in_waiting_room");
    for (const c of [o, b]) {
      const news = (await c.next("moderation", "joined_waiting_room")).payload;
      expect(news.control).toMatchObject({ display_name: "Gast", participation_kind: "guest" });
    }
    g.close();
    await g.closed;
    for (const c of [o, b]) await c.next("moderation", "left_waiting_room");
    o.close();
    b.close();
  });

  it("tells every socket when the room is deleted", async () => {
    const owner = await signIn("host");
    const room = await createRoom(owner);
    const o = await SignalingClient.connect((await start(owner, room.id)).body.ticket);
    o.send("control", { action: "join", display_name: "Host" });
    await o.next("control", "join_success");
    expect((await v1("DELETE", `/v1/rooms/${room.id}`, { token: owner.token })).status).toBe(204);
    await o.next("control", "room_deleted");
    expect((await o.closed).code).toBe(1000);
  });
});

describe("announcement coalescing", () => {
  it("yields one announcement per participant per window, skipping what a snapshot already showed", () => {
    const c = new Coalescer();
    const present = new Set(["a", "b", "d"]);
    c.note("a", false); // a joined
    c.note("a", true); // …and raised a hand in the same window
    c.note("b", true); // b (known) changed
    c.note("x", false); // x joined…
    c.note("x", true); // …and left again: nobody needs to hear of x
    c.snapshot("d"); // d joined now and got the full list
    c.note("y", true); // y (known) left
    const drained = c.drain((id) => present.has(id));
    const kinds = Object.fromEntries(drained.map((d) => [d.id, [d.kindFor("b"), d.kindFor("d")]]));
    expect(kinds).toEqual({
      a: ["joined", null],
      b: ["update", null],
      x: [null, null],
      y: ["left", "left"],
    });
    expect(c.size).toBe(0);
  });
});

describe("chat in the meeting (one message store with the Talk conversation)", () => {
  const TALK_CHAT = "/ocs/v2.php/apps/spreed/api/v1/chat";
  const talkToken = async (roomId: string) => (await env.DB.prepare("SELECT token FROM rooms WHERE id = ?").bind(roomId).first<{ token: string }>())?.token as string;

  it("crosses between the meeting and Talk, keeps private chats private, and follows the moderators' switch", async () => {
    const { owner, bob, room, o, b, g, ownerId, guestId } = await meetingOfThree("chat", "Tess");
    const token = await talkToken(room.id);
    const bobTalk = { user: bob.login, password: bob.password };
    try {
      // From the meeting to everyone in it, and into the Talk conversation.
      o.send("chat", { action: "send_message", scope: "global", content: "Hello all!" });
      for (const c of [o, b, g]) {
        const sent = (await c.next("chat", "message_sent")).payload;
        expect(sent).toEqual({ message: "message_sent", id: expect.stringMatching(/^[0-9a-f-]{36}$/), source: ownerId, content: "Hello all!", scope: "global" });
      }
      const talkSide = await ocs("GET", `${TALK_CHAT}/${token}`, { auth: bobTalk, query: { lookIntoFuture: "0" } });
      expect(talkSide.data[0]).toMatchObject({ actorType: "users", actorId: owner.login, message: "Hello all!" });

      // From Talk into the meeting.
      expect((await ocs("POST", `${TALK_CHAT}/${token}`, { auth: bobTalk, body: { message: "from Talk" } })).status).toBe(201);
      for (const c of [o, g]) expect((await c.next("chat", "message_sent")).payload).toMatchObject({ content: "from Talk", scope: "global" });

      // A private chat reaches the two of them only.
      g.send("chat", { action: "send_message", scope: "private", target: ownerId, content: "psst" });
      expect((await o.next("chat", "message_sent")).payload).toMatchObject({ source: guestId, content: "psst", scope: "private", target: guestId });
      expect((await g.next("chat", "message_sent")).payload).toMatchObject({ content: "psst", scope: "private", target: ownerId });
      expect((await ocs("GET", `${TALK_CHAT}/${token}`, { auth: bobTalk, query: { lookIntoFuture: "0" } })).data.map((m: any) => m.message)).not.toContain("psst");

      // The switch: moderators only; while off only moderators write, in the meeting and in Talk.
      b.send("chat", { action: "disable_chat" });
      expect((await b.next("chat", "error")).payload).toEqual({ message: "error", error: "insufficient_permissions" });
      o.send("chat", { action: "disable_chat" });
      for (const c of [o, b, g]) expect((await c.next("chat", "chat_disabled")).payload).toEqual({ message: "chat_disabled", issued_by: ownerId });
      g.send("chat", { action: "send_message", scope: "global", content: "still here?" });
      expect((await g.next("chat", "error")).payload).toEqual({ message: "error", error: "chat_disabled" });
      expect(await ocs("POST", `${TALK_CHAT}/${token}`, { auth: bobTalk, body: { message: "blocked" } })).toMatchObject({ status: 403, data: { error: "chat-disabled" } });
      o.send("chat", { action: "enable_chat" });
      for (const c of [o, b, g]) await c.next("chat", "chat_enabled");

      // History chunks and search.
      b.send("chat", { action: "get_history_chunk", scope: "global", message_index: 0 });
      const chunk = (await b.next("chat", "room_chat_history_chunk")).payload.history;
      expect(chunk.messages.map((m: any) => m.content)).toEqual(["Hello all!", "from Talk"]);
      expect(chunk.next_index).toBeNull();
      b.send("chat", { action: "search_history", scope: "global", term: "talk", message_index: null });
      expect((await b.next("chat", "search_results")).payload).toMatchObject({ scope: "global", matches: { messages: [{ content: "from Talk" }], next_index: null } });
      b.send("chat", { action: "send_message", scope: "global" });
      expect((await b.next("control", "error")).payload.error).toBe("invalid_json");

      // A late joiner finds the history in join_success.
      const code = await createInvite(owner, room.id);
      const l = await SignalingClient.connect((await startInvited(room.id, { invite_code: code })).body.ticket);
      l.send("control", { action: "join", display_name: "Late" });
      const joined = (await l.next("control", "join_success")).payload.chat;
      expect(joined).toMatchObject({ enabled: true, groups_history: [], private_history: [], last_seen_timestamps_group: {} });
      expect(joined.room_history.messages.map((m: any) => m.content)).toEqual(["Hello all!", "from Talk"]);
      expect(joined.room_history.messages[0]).toEqual({ id: expect.any(String), source: ownerId, timestamp: expect.any(String), content: "Hello all!", scope: "global" });

      // Clearing the history clears the Talk conversation's chat too.
      o.send("chat", { action: "clear_history" });
      for (const c of [o, b, g, l]) expect((await c.next("chat", "history_cleared")).payload).toEqual({ message: "history_cleared", issued_by: ownerId });
      expect((await ocs("GET", `${TALK_CHAT}/${token}`, { auth: bobTalk, query: { lookIntoFuture: "0" } })).data.map((m: any) => m.systemMessage)).toEqual(["history_cleared"]);
      l.ws.close();
    } finally {
      for (const c of [o, b, g]) c.ws.close();
    }
  });
});
