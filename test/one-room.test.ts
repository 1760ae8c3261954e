/**
 * One room, one rulebook (issue 11): a Talk conversation and an OpenTalk room are the same room,
 * with one access model, one write path that reaches every live participant of both dialects, and
 * one live presence. Each `describe` below is one row of the table, driven through the
 * Worker over HTTP and the signaling WebSocket.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { roomStub } from "../src/room/directory";
import { CookieJar, type Credentials, ocs } from "./helpers/http";
import { createEvent, createInvite, createRoom, expectError, type Signed, signIn, signInAdmin, v1 } from "./helpers/opentalk";
import { SignalingClient } from "./helpers/signaling";
import { V4 } from "./helpers/talk";

const creds = (u: Signed): Credentials => ({ user: u.login, password: u.password });

async function tokenOf(roomId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT token FROM rooms WHERE id = ?").bind(roomId).first<{ token: string }>();
  if (!row) throw new Error("room not indexed");
  return row.token;
}

async function eventRoom(owner: Signed, extra: Record<string, unknown> = {}) {
  const ev = await createEvent(owner, { title: "Standup", description: "", is_time_independent: true, ...extra });
  return { ev, roomId: ev.room.id as string, token: await tokenOf(ev.room.id) };
}

async function invite(owner: Signed, eventId: string, who: Signed, role: "user" | "moderator" = "user") {
  expect((await v1("POST", `/v1/events/${eventId}/invites`, { token: owner.token, json: { invitee: who.id, role } })).status).toBe(201);
}

/** Joins the OpenTalk meeting: ticket, socket, join_success. */
async function meet(user: Signed, roomId: string, name = user.login) {
  const res = await v1("POST", `/v1/rooms/${roomId}/start`, { token: user.token, json: {} });
  expect(res.status).toBe(200);
  const client = await SignalingClient.connect(res.body.ticket);
  client.send("control", { action: "join", display_name: name });
  const joined = await client.next("control", "join_success");
  return { client, id: joined.payload.id as string, joined };
}

async function attendeeId(token: string, as: Signed, login: string): Promise<number> {
  const list = await ocs("GET", `${V4}/room/${token}/participants`, { auth: creds(as) });
  expect(list.status).toBe(200);
  const found = (list.data as { actorId: string; attendeeId: number }[]).find((p) => p.actorId === login);
  if (!found) throw new Error(`${login} is no participant`);
  return found.attendeeId;
}

describe("1: OpenTalk rooms are reachable through Talk only by members (guests by invite code or a public link)", () => {
  it("a withdrawn invitee can neither self-join through Talk nor start the meeting; a Talk guest cannot join until the owner makes it public", async () => {
    const owner = await signIn("r1own");
    const invitee = await signIn("r1inv");
    const { ev, roomId, token } = await eventRoom(owner);
    await invite(owner, ev.id, invitee);
    expect((await v1("POST", `/v1/rooms/${roomId}/start`, { token: invitee.token, json: {} })).status).toBe(200);
    expect((await v1("DELETE", `/v1/events/${ev.id}/invites/${invitee.id}`, { token: owner.token })).status).toBe(204);

    const selfJoin = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: creds(invitee), jar: new CookieJar() });
    expect(selfJoin.status).toBe(404);
    expectError(await v1("POST", `/v1/rooms/${roomId}/start`, { token: invitee.token, json: {} }), 404, "not_found");
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: new CookieJar() })).status).toBe(404);
    // Invite codes still bring guests in.
    const code = await createInvite(owner, roomId);
    expect((await v1("POST", `/v1/rooms/${roomId}/start_invited`, { json: { invite_code: code } })).status).toBe(200);

    // The owner makes it public through Talk: a public link takes guests and users, as Talk does.
    expect((await ocs("POST", `${V4}/room/${token}/public`, { auth: creds(owner) })).status).toBe(200);
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: new CookieJar() })).status).toBe(200);
    const rejoined = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: creds(invitee), jar: new CookieJar() });
    expect(rejoined.status).toBe(200);
    expect(rejoined.data.participantType).toBe(5);
  });
});

describe("2: the same person has the same rights in both dialects", () => {
  it("an event moderator may moderate but not configure or delete the room, through Talk as through /v1", async () => {
    const owner = await signIn("r2own");
    const mod = await signIn("r2mod");
    const other = await signIn("r2oth");
    const { ev, roomId, token } = await eventRoom(owner, { password: "room-secret-1", waiting_room: true });
    await invite(owner, ev.id, mod, "moderator");

    const talk = creds(mod);
    expect((await ocs("PUT", `${V4}/room/${token}/password`, { auth: talk, body: { password: "" } })).status).toBe(403);
    expect((await ocs("PUT", `${V4}/room/${token}`, { auth: talk, body: { roomName: "Taken over" } })).status).toBe(403);
    expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: talk, body: { newParticipant: other.login } })).status).toBe(403);
    expect((await ocs("DELETE", `${V4}/room/${token}`, { auth: talk })).status).toBe(403);
    expectError(await v1("PATCH", `/v1/rooms/${roomId}`, { token: mod.token, json: { password: null } }), 403, "forbidden");
    expectError(await v1("DELETE", `/v1/rooms/${roomId}`, { token: mod.token }), 403, "forbidden");
    expectError(await v1("POST", `/v1/rooms/${roomId}/invites`, { token: mod.token, json: {} }), 403, "forbidden");

    const snap = await roomStub(env, roomId).snapshot();
    expect(snap?.meta).toMatchObject({ name: "Standup", lobbyState: 1 });
    expect(snap?.meta.passwordHash).not.toBeNull();
    expect(snap?.attendees.map((a) => a.actorId).sort()).toEqual([mod.login, owner.login].sort());
    expect((await v1("GET", `/v1/events/${ev.id}`, { token: owner.token })).status).toBe(200);

    // Moderating is theirs in both: the lobby (= waiting room) through Talk, as in the meeting.
    expect((await ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { auth: talk, body: { state: 0 } })).status).toBe(200);
    const m = await meet(mod, roomId);
    try {
      m.client.send("moderation", { action: "enable_waiting_room" });
      await m.client.next("moderation", "waiting_room_enabled");
      expect((await roomStub(env, roomId).snapshot())?.meta.lobbyState).toBe(1);
    } finally {
      m.client.close();
    }
    // Only the owner deletes, and with the room goes its event.
    expect((await ocs("DELETE", `${V4}/room/${token}`, { auth: creds(owner) })).status).toBe(200);
    expectError(await v1("GET", `/v1/events/${ev.id}`, { token: owner.token }), 404, "not_found");
  });

  it("administrators configure OpenTalk rooms in both dialects", async () => {
    const owner = await signIn("r2own");
    const admin = await signInAdmin();
    const room = await createRoom(owner, { password: "first-password" });
    const patched = await v1("PATCH", `/v1/rooms/${room.id}`, { token: admin.token, json: { password: null } });
    expect(patched.status).toBe(200);
    expect(patched.body.password).toBeNull();
  });
});

describe("3: one permission model", () => {
  it("a member without the start-call right can start neither the Talk call nor the OpenTalk meeting", async () => {
    const owner = await signIn("r3own");
    const user = await signIn("r3usr");
    const { ev, roomId, token } = await eventRoom(owner);
    await invite(owner, ev.id, user);
    const id = await attendeeId(token, owner, user.login);
    // Everything but "start call" (2).
    const set = await ocs("PUT", `${V4}/room/${token}/attendees/permissions`, { auth: creds(owner), body: { attendeeId: id, method: "set", permissions: 254 & ~2 } });
    expect(set.status).toBe(200);

    const jar = new CookieJar();
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: creds(user), jar })).status).toBe(200);
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: creds(user), jar, body: { flags: 3 } })).status).toBe(403);
    expectError(await v1("POST", `/v1/rooms/${roomId}/start`, { token: user.token, json: {} }), 403, "forbidden");
    // Once the owner runs the meeting, joining it needs no start right (Talk's rule for a running call).
    const o = await meet(owner, roomId);
    try {
      expect((await v1("POST", `/v1/rooms/${roomId}/start`, { token: user.token, json: {} })).status).toBe(200);
      expect((await ocs("POST", `${V4}/call/${token}`, { auth: creds(user), jar, body: { flags: 3 } })).status).toBe(200);
    } finally {
      o.client.close();
    }
  });
});

describe("4: removal, demotion and bans reach live presence in both dialects", () => {
  it("removing a member through Talk puts their OpenTalk socket out; a Talk demotion takes the moderator role in the meeting", async () => {
    const owner = await signIn("r4own");
    const user = await signIn("r4usr");
    const mod = await signIn("r4mod");
    const { ev, roomId, token } = await eventRoom(owner);
    await invite(owner, ev.id, user);
    await invite(owner, ev.id, mod, "moderator");
    const o = await meet(owner, roomId);
    const u = await meet(user, roomId);
    const m = await meet(mod, roomId);
    try {
      expect(m.joined.payload.role).toBe("moderator");
      const removed = await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: creds(owner), body: { attendeeId: await attendeeId(token, owner, user.login) } });
      expect(removed.status).toBe(200);
      await u.client.next("moderation", "kicked");
      expect((await u.client.closed).code).toBe(1000);
      await o.client.next("control", "left", (f) => f.payload.id === u.id);

      const demoted = await ocs("DELETE", `${V4}/room/${token}/moderators`, { auth: creds(owner), body: { attendeeId: await attendeeId(token, owner, mod.login) } });
      expect(demoted.status).toBe(200);
      expect((await m.client.next("control", "role_updated")).payload.new_role).toBe("user");
      await o.client.next("control", "update", (f) => f.payload.id === m.id && f.payload.control.role === "user");
      // A demoted moderator's kick is ignored, without an answer (the reference of the seed's era).
      expect(await m.client.errorsFor("moderation", { action: "kick", target: o.id })).toEqual([]);
    } finally {
      for (const c of [o, m]) c.client.close();
    }
  });

  it("an OpenTalk ban keeps the user out of the Talk call too", async () => {
    const owner = await signIn("r4own");
    const user = await signIn("r4ban");
    const { ev, roomId, token } = await eventRoom(owner);
    await invite(owner, ev.id, user);
    const o = await meet(owner, roomId);
    const u = await meet(user, roomId);
    try {
      o.client.send("moderation", { action: "ban", target: u.id });
      await u.client.next("moderation", "banned");
      const jar = new CookieJar();
      expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: creds(user), jar })).status).toBe(200);
      const call = await ocs("POST", `${V4}/call/${token}`, { auth: creds(user), jar, body: { flags: 3 } });
      expect(call.status).toBe(403);
      expect(call.data).toEqual({ error: "banned" });
      expectError(await v1("POST", `/v1/rooms/${roomId}/start`, { token: user.token, json: {} }), 403, "banned_from_room");
    } finally {
      o.client.close();
    }
  });
});

describe("5: one membership", () => {
  it("an owner who left the Talk conversation has no OpenTalk control left", async () => {
    const owner = await signIn("r5own");
    const mod = await signIn("r5mod");
    const { ev, roomId, token } = await eventRoom(owner);
    await invite(owner, ev.id, mod, "moderator");
    expect((await ocs("DELETE", `${V4}/room/${token}/participants/self`, { auth: creds(owner) })).status).toBe(200);
    expectError(await v1("GET", `/v1/rooms/${roomId}`, { token: owner.token }), 404, "not_found");
    expectError(await v1("PATCH", `/v1/rooms/${roomId}`, { token: owner.token, json: { waiting_room: true } }), 404, "not_found");
    expectError(await v1("POST", `/v1/rooms/${roomId}/start`, { token: owner.token, json: {} }), 404, "not_found");
    expectError(await v1("DELETE", `/v1/rooms/${roomId}`, { token: owner.token }), 404, "not_found");
    expect((await roomStub(env, roomId).snapshot())?.meta.lobbyState).toBe(0);
  });
});

describe("6: one rulebook for read-only, bans and room types", () => {
  it("going read-only through Talk ends the OpenTalk meeting and refuses new starts", async () => {
    const owner = await signIn("r6own");
    const user = await signIn("r6usr");
    const { ev, roomId, token } = await eventRoom(owner);
    await invite(owner, ev.id, user);
    const u = await meet(user, roomId);
    expect((await ocs("PUT", `${V4}/room/${token}/read-only`, { auth: creds(owner), body: { state: 1 } })).status).toBe(200);
    await u.client.next("moderation", "session_ended");
    expect((await u.client.closed).code).toBe(1000);
    expectError(await v1("POST", `/v1/rooms/${roomId}/start`, { token: owner.token, json: {} }), 403, "forbidden");
  });

  it("OpenTalk respects the Talk room type: no guest links into one-to-one or private rooms, one-to-one rooms are not deleted", async () => {
    const alice = await signIn("r6ali");
    const bob = await signIn("r6bob");
    const one = await ocs("POST", `${V4}/room`, { auth: creds(alice), body: { roomType: 1, invite: bob.login } });
    expect(one.status).toBe(201);
    const oneId = (await env.DB.prepare("SELECT id FROM rooms WHERE token = ?").bind(one.data.token).first<{ id: string }>())?.id as string;
    const group = await ocs("POST", `${V4}/room`, { auth: creds(alice), body: { roomType: 2, roomName: "Private" } });
    const groupId = (await env.DB.prepare("SELECT id FROM rooms WHERE token = ?").bind(group.data.token).first<{ id: string }>())?.id as string;
    for (const id of [oneId, groupId]) expectError(await v1("POST", `/v1/rooms/${id}/invites`, { token: alice.token, json: {} }), 403, "forbidden");
    expectError(await v1("DELETE", `/v1/rooms/${oneId}`, { token: alice.token }), 400, "bad_request");
    expect(await roomStub(env, oneId).snapshot()).not.toBeNull();
    expect((await env.DB.prepare("SELECT count(*) AS n FROM ot_invites WHERE room_id IN (?, ?)").bind(oneId, groupId).first<{ n: number }>())?.n).toBe(0);
  });
});

describe("7: every room change reaches every live participant, whichever dialect made it", () => {
  it("the Talk lobby, an event's waiting room and deleting the event reach OpenTalk sockets", async () => {
    const owner = await signIn("r7own");
    const { ev, roomId, token } = await eventRoom(owner);
    const o = await meet(owner, roomId);
    expect((await ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { auth: creds(owner), body: { state: 1 } })).status).toBe(200);
    await o.client.next("moderation", "waiting_room_enabled");
    expect((await v1("PATCH", `/v1/events/${ev.id}`, { token: owner.token, json: { waiting_room: false } })).status).toBe(200);
    await o.client.next("moderation", "waiting_room_disabled");
    expect((await v1("DELETE", `/v1/events/${ev.id}`, { token: owner.token })).status).toBe(204);
    await o.client.next("control", "room_deleted");
    expect((await o.client.closed).code).toBe(1000);
    expect(await roomStub(env, roomId).snapshot()).toBeNull();
    expect(await env.DB.prepare("SELECT id FROM rooms WHERE id = ?").bind(roomId).first()).toBeNull();
  });

  it("one live presence: meeting participants are Talk sessions in the call, Talk sessions in the call are meeting participants", async () => {
    const owner = await signIn("r7own");
    const user = await signIn("r7usr");
    const { ev, roomId, token } = await eventRoom(owner);
    await invite(owner, ev.id, user);
    const o = await meet(owner, roomId);
    try {
      const list = await ocs("GET", `${V4}/room/${token}/participants`, { auth: creds(user) });
      const ownerEntry = (list.data as { actorId: string; sessionIds: string[]; inCall: number }[]).find((p) => p.actorId === owner.login);
      expect(ownerEntry?.sessionIds).toEqual([o.id]);
      expect(ownerEntry?.inCall).toBe(7);
      const jar = new CookieJar();
      expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: creds(user), jar })).status).toBe(200);
      const peers = await ocs("GET", `${V4}/call/${token}`, { auth: creds(user), jar });
      expect(peers.data.map((p: { sessionId: string }) => p.sessionId)).toEqual([o.id]);
      expect((await ocs("POST", `${V4}/call/${token}`, { auth: creds(user), jar, body: { flags: 3 } })).status).toBe(200);
      const joined = await o.client.next("control", "joined", (f) => f.payload.control.display_name === user.login || f.payload.control.participation_kind === "user");
      expect(joined.payload.control).toMatchObject({ role: "user", participation_kind: "user", hand_is_up: false });
      expect((await ocs("DELETE", `${V4}/call/${token}`, { auth: creds(user), jar })).status).toBe(200);
      await o.client.next("control", "left", (f) => f.payload.id === joined.payload.id);
    } finally {
      o.client.close();
    }
  });
});

describe("9: out-of-range input is a 400 and a failed request changes nothing", () => {
  it("refuses a lobby timer the room's alarm cannot hold; later changes still reach D1", async () => {
    const owner = await signIn("r9own");
    const created = await ocs("POST", `${V4}/room`, { auth: creds(owner), body: { roomType: 2, roomName: "Webinar" } });
    const token = created.data.token as string;
    const ms = Date.now() + 3_600_000; // milliseconds sent as seconds
    const res = await ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { auth: creds(owner), body: { state: 1, timer: ms } });
    expect(res.status).toBe(400);
    expect(res.data).toEqual({ error: "value" });
    const conv = await ocs("GET", `${V4}/room/${token}`, { auth: creds(owner) });
    expect(conv.data).toMatchObject({ lobbyState: 0, lobbyTimer: 0 });
    expect((await ocs("PUT", `${V4}/room/${token}`, { auth: creds(owner), body: { roomName: "Renamed" } })).status).toBe(200);
    expect((await env.DB.prepare("SELECT name FROM rooms WHERE token = ?").bind(token).first<{ name: string }>())?.name).toBe("Renamed");
  });
});
