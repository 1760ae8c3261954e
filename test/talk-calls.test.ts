/**
 * Talk calls (seed 001, reference §3.2, §6.3, §8): the call peer list, joining, updating the
 * flags, leaving, ringing an attendee and SIP dial-out, plus the call notifications they create.
 * A caller needs a Talk session (joined with a cookie jar) for the call endpoints.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { roomStub } from "../src/room/directory";
import { ageSessions } from "./helpers/clock";
import { ADMIN, CookieJar, createUser, ocs, unique, type Credentials } from "./helpers/http";
import { roomIdOf, V4 } from "./helpers/talk";

const NOTIFICATIONS = "/ocs/v2.php/apps/notifications/api/v2/notifications";

type User = Credentials & { id: string };
type Who = { auth?: User; jar?: CookieJar };


/** Alice owns a room (group by default) with Bob and Dave as plain members; Carol is a stranger. */
async function callRoom(roomType = 2) {
  const alice = await createUser("alice");
  const bob = await createUser("bob");
  const carol = await createUser("carol");
  const dave = await createUser("dave");
  const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType, roomName: "Stand-up" } });
  expect(room.status).toBe(201);
  const token = room.data.token as string;
  for (const member of [bob, dave]) {
    expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: member.user } })).status).toBe(200);
  }
  return { alice, bob, carol, dave, token };
}

/** A new device (cookie jar) with a Talk session in the room; guests when `user` is omitted. */
async function session(token: string, user?: User): Promise<{ jar: CookieJar; sessionId: string; lastPing: number; attendeeId: number }> {
  const jar = new CookieJar();
  const res = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: user, jar });
  expect(res.status).toBe(200);
  return { jar, sessionId: res.data.sessionId, lastPing: res.data.lastPing, attendeeId: res.data.attendeeId };
}

async function conversation(token: string, who: Who): Promise<any> {
  const res = await ocs("GET", `${V4}/room/${token}`, who);
  expect(res.status).toBe(200);
  return res.data;
}

/** The room as it appears in the user's conversation list (the D1 summary). */
async function listed(token: string, user: User): Promise<any> {
  const res = await ocs("GET", `${V4}/room`, { auth: user });
  expect(res.status).toBe(200);
  const found = (res.data as any[]).find((r) => r.token === token);
  expect(found).toBeDefined();
  return found;
}

async function participants(token: string, who: Who): Promise<any[]> {
  const res = await ocs("GET", `${V4}/room/${token}/participants`, who);
  expect(res.status).toBe(200);
  return res.data;
}

async function attendeeId(token: string, owner: User, actorType: string, actorId: string): Promise<number> {
  const found = (await participants(token, { auth: owner })).find((p) => p.actorType === actorType && p.actorId === actorId);
  expect(found).toBeDefined();
  return found.attendeeId as number;
}

/** The user's call notifications (being added to a room brings an invitation notification too). */
async function notificationsOf(user: User): Promise<any[]> {
  const res = await ocs("GET", NOTIFICATIONS, { auth: user });
  expect(res.status).toBe(200);
  return res.data.filter((n: { object_type: string }) => n.object_type === "call");
}

async function joinCall(token: string, who: Who, body?: Record<string, unknown>) {
  return ocs("POST", `${V4}/call/${token}`, { ...who, body });
}

async function setReadOnly(token: string, owner: User, state: number) {
  expect((await ocs("PUT", `${V4}/room/${token}/read-only`, { auth: owner, body: { state } })).status).toBe(200);
}

async function setLobby(token: string, owner: User, state: number) {
  expect((await ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { auth: owner, body: { state } })).status).toBe(200);
}

async function callState(token: string, who: Who) {
  const room = await conversation(token, who);
  return { hasCall: room.hasCall, callFlag: room.callFlag, callStartTime: room.callStartTime, participantFlags: room.participantFlags };
}

describe("GET /call/{token}: the peers in the call", () => {
  it("lists one entry per in-call session that pinged within 30 s, with the exact fields", async () => {
    const { alice, bob, token } = await callRoom(3);
    const a = await session(token, alice);
    const b = await session(token, bob);
    const guest = await session(token);
    expect((await ocs("GET", `${V4}/call/${token}`, { auth: bob, jar: b.jar })).data).toEqual([]);

    expect((await joinCall(token, { auth: alice, jar: a.jar }, { flags: 3 })).status).toBe(200);
    expect((await joinCall(token, { jar: guest.jar }, { flags: 1 })).status).toBe(200);
    const guestActor = (await conversation(token, { jar: guest.jar })).actorId as string;

    // Bob is in the room but not in the call; he may still read the list (no session needed).
    for (const who of [{ auth: bob, jar: b.jar }, { auth: bob }, { jar: guest.jar }]) {
      const res = await ocs("GET", `${V4}/call/${token}`, who);
      expect(res.status).toBe(200);
      const peers = [...res.data].sort((x: any, y: any) => x.actorType.localeCompare(y.actorType));
      expect(peers).toEqual([
        { actorType: "guests", actorId: guestActor, displayName: "", lastPing: guest.lastPing, sessionId: guest.sessionId, token },
        { actorType: "users", actorId: alice.user, displayName: `alice ${alice.user}`, lastPing: a.lastPing, sessionId: a.sessionId, token },
      ]);
    }

    // A session whose last ping is older than 30 s no longer counts as in the call.
    await ageSessions(roomStub(env, await roomIdOf(token)), 31, guest.sessionId);
    const after = await ocs("GET", `${V4}/call/${token}`, { auth: bob });
    expect(after.data.map((p: any) => p.sessionId)).toEqual([a.sessionId]);
  });

  it("answers 404 to strangers and unknown tokens, 403 in read-only rooms and 412 in the lobby", async () => {
    const { alice, bob, carol, token } = await callRoom();
    const a = await session(token, alice);
    await joinCall(token, { auth: alice, jar: a.jar });

    const stranger = await ocs("GET", `${V4}/call/${token}`, { auth: carol });
    expect(stranger.status).toBe(404);
    expect(stranger.data).toEqual([]);
    expect((await ocs("GET", `${V4}/call/nosuchtoken`, { auth: alice })).status).toBe(404);
    // A guest without a session in a public room is no participant either.
    const pub = await callRoom(3);
    expect((await ocs("GET", `${V4}/call/${pub.token}`, { jar: new CookieJar() })).status).toBe(404);

    await setLobby(token, alice, 1);
    const lobby = await ocs("GET", `${V4}/call/${token}`, { auth: bob });
    expect(lobby.status).toBe(412);
    expect(lobby.data).toEqual({ error: "lobby" });
    expect((await ocs("GET", `${V4}/call/${token}`, { auth: alice })).status).toBe(200);
    await setLobby(token, alice, 0);

    await setReadOnly(token, alice, 1);
    for (const user of [alice, bob]) {
      const res = await ocs("GET", `${V4}/call/${token}`, { auth: user });
      expect(res.status).toBe(403);
      expect(res.data).toEqual({ error: "read-only" });
    }
  });
});

describe("POST /call/{token}: joining", () => {
  it("starts a call with the default flags 7 and accumulates callFlag as the OR of all flags", async () => {
    const { alice, bob, dave, token } = await callRoom();
    const a = await session(token, alice);
    const b = await session(token, bob);
    expect(await callState(token, { auth: alice, jar: a.jar })).toEqual({ hasCall: false, callFlag: 0, callStartTime: 0, participantFlags: 0 });

    const started = await joinCall(token, { auth: alice, jar: a.jar });
    expect(started.status).toBe(200);
    expect(started.data).toBeNull();
    const first = await callState(token, { auth: alice, jar: a.jar });
    expect(first).toMatchObject({ hasCall: true, callFlag: 7, participantFlags: 7 });
    expect(first.callStartTime).toBeGreaterThan(0);

    // Alice lowers to audio only; Bob joins with video only: the room shows the OR.
    expect((await ocs("PUT", `${V4}/call/${token}`, { auth: alice, jar: a.jar, body: { flags: 3 } })).status).toBe(200);
    expect((await joinCall(token, { auth: bob, jar: b.jar }, { flags: 5 })).status).toBe(200);
    expect(await callState(token, { auth: bob, jar: b.jar })).toEqual({ hasCall: true, callFlag: 7, callStartTime: first.callStartTime, participantFlags: 5 });
    // Form-encoded flags work too; the start time is kept by later joiners.
    const d = await session(token, dave);
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: dave, jar: d.jar, form: { flags: "1", silent: "true" } })).status).toBe(200);

    const list = await participants(token, { auth: alice });
    const inCall = Object.fromEntries(list.map((p) => [p.actorId, p.inCall]));
    expect(inCall).toEqual({ [alice.user]: 3, [bob.user]: 5, [dave.user]: 1 });

    // Members' conversation lists (the D1 summary) show the call right away.
    for (const user of [alice, bob, dave]) {
      expect(await listed(token, user)).toMatchObject({ hasCall: true, callFlag: 7, callStartTime: first.callStartTime });
    }
  });

  it("rejects invalid flags with 400 and changes nothing", async () => {
    const { alice, token } = await callRoom();
    const a = await session(token, alice);
    for (const flags of [0, 2, 6, 16, 17, -1, 1.5, "x", true, null]) {
      const res = await joinCall(token, { auth: alice, jar: a.jar }, { flags });
      expect(res.status, `flags ${JSON.stringify(flags)}`).toBe(400);
      expect(res.data).toMatchObject({ error: "flags" });
    }
    for (const body of [{ silent: "maybe" }, { recordingConsent: "perhaps" }, { silent: 3 }]) {
      expect((await joinCall(token, { auth: alice, jar: a.jar }, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: alice, jar: a.jar, form: { flags: "2" } })).status).toBe(400);
    expect(await callState(token, { auth: alice, jar: a.jar })).toEqual({ hasCall: false, callFlag: 0, callStartTime: 0, participantFlags: 0 });
    expect(await listed(token, alice)).toMatchObject({ hasCall: false, callFlag: 0 });
  });

  it("answers 404 without a session or to non-participants, 403 read-only, 412 lobby", async () => {
    const { alice, bob, carol, token } = await callRoom();
    // A member who did not join the conversation (no session) first.
    for (const who of [{ auth: alice }, { auth: alice, jar: new CookieJar() }]) {
      const res = await joinCall(token, who);
      expect(res.status).toBe(404);
      expect(res.data).toEqual([]);
    }
    const stranger = await joinCall(token, { auth: carol, jar: new CookieJar() });
    expect(stranger.status).toBe(404);
    expect(stranger.data).toEqual([]);
    expect((await joinCall("nosuchtoken", { auth: alice })).status).toBe(404);

    const b = await session(token, bob);
    await setLobby(token, alice, 1);
    const lobby = await joinCall(token, { auth: bob, jar: b.jar });
    expect(lobby.status).toBe(412);
    expect(lobby.data).toEqual({ error: "lobby" });
    await setLobby(token, alice, 0);

    const a = await session(token, alice);
    await setReadOnly(token, alice, 1);
    for (const who of [{ auth: alice, jar: a.jar }, { auth: bob, jar: b.jar }]) {
      const res = await joinCall(token, who);
      expect(res.status).toBe(403);
      expect(res.data).toEqual({ error: "read-only" });
    }
    expect(await callState(token, { auth: alice, jar: a.jar })).toEqual({ hasCall: false, callFlag: 0, callStartTime: 0, participantFlags: 0 });
  });

  it("needs the start-call permission to start a call but not to join a running one", async () => {
    const { alice, bob, token } = await callRoom();
    const def = await ocs("PUT", `${V4}/room/${token}/permissions/default`, { auth: alice, body: { permissions: 4 | 16 | 32 | 128 } });
    expect(def.status).toBe(200);
    const b = await session(token, bob);
    expect((await conversation(token, { auth: bob, jar: b.jar })).canStartCall).toBe(false);

    const denied = await joinCall(token, { auth: bob, jar: b.jar });
    expect(denied.status).toBe(403);
    expect(denied.data).toEqual({ error: "permission" });
    expect(await callState(token, { auth: bob, jar: b.jar })).toEqual({ hasCall: false, callFlag: 0, callStartTime: 0, participantFlags: 0 });

    const a = await session(token, alice);
    expect((await joinCall(token, { auth: alice, jar: a.jar }, { flags: 1 })).status).toBe(200);
    const joined = await joinCall(token, { auth: bob, jar: b.jar });
    expect(joined.status).toBe(200);
    expect(await callState(token, { auth: bob, jar: b.jar })).toMatchObject({ hasCall: true, callFlag: 7, participantFlags: 7 });
  });

  it("drops the audio and video bits the participant may not publish", async () => {
    const { alice, bob, dave, token } = await callRoom();
    const bobId = await attendeeId(token, alice, "users", bob.user);
    const daveId = await attendeeId(token, alice, "users", dave.user);
    // Bob: start call + video, no audio; Dave: start call, neither.
    for (const [id, permissions] of [
      [bobId, 2 | 4 | 32],
      [daveId, 2 | 4],
    ]) {
      const res = await ocs("PUT", `${V4}/room/${token}/attendees/permissions`, { auth: alice, body: { attendeeId: id, method: "set", permissions } });
      expect(res.status).toBe(200);
    }
    const b = await session(token, bob);
    const d = await session(token, dave);
    expect((await joinCall(token, { auth: bob, jar: b.jar }, { flags: 7 })).status).toBe(200);
    expect((await joinCall(token, { auth: dave, jar: d.jar })).status).toBe(200);
    expect((await conversation(token, { auth: bob, jar: b.jar })).participantFlags).toBe(5);
    expect((await conversation(token, { auth: dave, jar: d.jar })).participantFlags).toBe(1);
    // Updating the flags strips them the same way.
    expect((await ocs("PUT", `${V4}/call/${token}`, { auth: dave, jar: d.jar, body: { flags: 15 } })).status).toBe(200);
    expect((await conversation(token, { auth: dave, jar: d.jar })).participantFlags).toBe(9);
    const inCall = Object.fromEntries((await participants(token, { auth: alice })).map((p) => [p.actorId, p.inCall]));
    expect(inCall).toEqual({ [alice.user]: 0, [bob.user]: 5, [dave.user]: 9 });
    expect((await conversation(token, { auth: alice })).callFlag).toBe(13);
  });
});

describe("call notifications", () => {
  it("notifies the other user members when a call starts, not its starter nor later joins", async () => {
    const { alice, bob, carol, dave, token } = await callRoom();
    const a = await session(token, alice);
    expect((await joinCall(token, { auth: alice, jar: a.jar })).status).toBe(200);

    for (const user of [bob, dave]) {
      const list = await notificationsOf(user);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ app: "spreed", object_type: "call", object_id: token, user: user.user });
      expect(list[0].notification_id).toEqual(expect.any(Number));
    }
    expect(await notificationsOf(alice)).toEqual([]);
    expect(await notificationsOf(carol)).toEqual([]);

    // Joining a running call announces nothing new.
    const b = await session(token, bob);
    expect((await joinCall(token, { auth: bob, jar: b.jar })).status).toBe(200);
    expect(await notificationsOf(alice)).toEqual([]);
    expect(await notificationsOf(dave)).toHaveLength(1);
  });

  it("sends no notification for a silent call", async () => {
    const { alice, bob, dave, token } = await callRoom();
    const a = await session(token, alice);
    expect((await joinCall(token, { auth: alice, jar: a.jar }, { silent: true })).status).toBe(200);
    expect((await conversation(token, { auth: alice, jar: a.jar })).hasCall).toBe(true);
    expect(await notificationsOf(bob)).toEqual([]);
    expect(await notificationsOf(dave)).toEqual([]);
  });

  it("dismisses notifications one by one (404 for unknown ids) and all at once", async () => {
    const { alice, bob, token } = await callRoom();
    const a = await session(token, alice);
    await joinCall(token, { auth: alice, jar: a.jar });
    // A call in a second room (a new call in the same room would replace the first notification).
    const other = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: "Retro" } });
    const otherToken = other.data.token as string;
    expect((await ocs("POST", `${V4}/room/${otherToken}/participants`, { auth: alice, body: { newParticipant: bob.user } })).status).toBe(200);
    const a2 = await session(otherToken, alice);
    await joinCall(otherToken, { auth: alice, jar: a2.jar });
    const two = await notificationsOf(bob);
    expect(two).toHaveLength(2);
    const [first, second] = two.map((n) => n.notification_id as number);

    // Another user cannot dismiss Bob's notification.
    expect((await ocs("DELETE", `${NOTIFICATIONS}/${first}`, { auth: alice })).status).toBe(404);
    const dismissed = await ocs("DELETE", `${NOTIFICATIONS}/${first}`, { auth: bob });
    expect(dismissed.status).toBe(200);
    expect((await notificationsOf(bob)).map((n) => n.notification_id)).toEqual([second]);
    expect((await ocs("DELETE", `${NOTIFICATIONS}/${first}`, { auth: bob })).status).toBe(404);
    expect((await ocs("DELETE", `${NOTIFICATIONS}/999999999`, { auth: bob })).status).toBe(404);
    expect((await ocs("DELETE", `${NOTIFICATIONS}/abc`, { auth: bob })).status).toBe(404);

    const all = await ocs("DELETE", NOTIFICATIONS, { auth: bob });
    expect(all.status).toBe(200);
    expect(await notificationsOf(bob)).toEqual([]);
    expect((await ocs("DELETE", NOTIFICATIONS, { auth: bob })).status).toBe(200);
    // Login required.
    expect((await ocs("GET", NOTIFICATIONS, {})).status).toBe(401);
  });
});

describe("PUT /call/{token}: updating the flags", () => {
  it("updates the flags of the caller's session", async () => {
    const { alice, token } = await callRoom();
    const a = await session(token, alice);
    await joinCall(token, { auth: alice, jar: a.jar });
    const res = await ocs("PUT", `${V4}/call/${token}`, { auth: alice, jar: a.jar, body: { flags: 3 } });
    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    expect(await callState(token, { auth: alice, jar: a.jar })).toMatchObject({ hasCall: true, callFlag: 3, participantFlags: 3 });
    expect((await ocs("PUT", `${V4}/call/${token}`, { auth: alice, jar: a.jar, form: { flags: "5" } })).status).toBe(200);
    expect(await callState(token, { auth: alice, jar: a.jar })).toMatchObject({ callFlag: 5, participantFlags: 5 });
    expect(await listed(token, alice)).toMatchObject({ hasCall: true, callFlag: 5 });
  });

  it("rejects flags without the in-call bit and bad input with 400, changing nothing", async () => {
    const { alice, token } = await callRoom();
    const a = await session(token, alice);
    await joinCall(token, { auth: alice, jar: a.jar }, { flags: 3 });
    for (const flags of [0, 2, 4, 16, -1, 2.5, "x", null]) {
      const res = await ocs("PUT", `${V4}/call/${token}`, { auth: alice, jar: a.jar, body: { flags } });
      expect(res.status, `flags ${JSON.stringify(flags)}`).toBe(400);
      expect(res.data).toMatchObject({ error: "flags" });
    }
    expect((await ocs("PUT", `${V4}/call/${token}`, { auth: alice, jar: a.jar, body: {} })).status).toBe(400);
    expect(await callState(token, { auth: alice, jar: a.jar })).toMatchObject({ hasCall: true, callFlag: 3, participantFlags: 3 });
  });

  it("answers 400 in-call when the session is not in the call, 404 without a session or room", async () => {
    const { alice, bob, carol, token } = await callRoom();
    const b = await session(token, bob);
    const notIn = await ocs("PUT", `${V4}/call/${token}`, { auth: bob, jar: b.jar, body: { flags: 3 } });
    expect(notIn.status).toBe(400);
    expect(notIn.data).toEqual({ error: "in-call" });
    expect(await callState(token, { auth: bob, jar: b.jar })).toEqual({ hasCall: false, callFlag: 0, callStartTime: 0, participantFlags: 0 });

    const noSession = await ocs("PUT", `${V4}/call/${token}`, { auth: alice, body: { flags: 3 } });
    expect(noSession.status).toBe(404);
    expect(noSession.data).toEqual([]);
    expect((await ocs("PUT", `${V4}/call/${token}`, { auth: carol, jar: new CookieJar(), body: { flags: 3 } })).status).toBe(404);
    expect((await ocs("PUT", `${V4}/call/nosuchtoken`, { auth: alice, body: { flags: 3 } })).status).toBe(404);
  });

  it("answers 403 in read-only rooms and 412 in the lobby", async () => {
    const { alice, bob, token } = await callRoom();
    const a = await session(token, alice);
    const b = await session(token, bob);
    await joinCall(token, { auth: alice, jar: a.jar }, { flags: 3 });
    await joinCall(token, { auth: bob, jar: b.jar }, { flags: 3 });

    await setLobby(token, alice, 1);
    const lobby = await ocs("PUT", `${V4}/call/${token}`, { auth: bob, jar: b.jar, body: { flags: 7 } });
    expect(lobby.status).toBe(412);
    expect(lobby.data).toEqual({ error: "lobby" });
    await setLobby(token, alice, 0);

    await setReadOnly(token, alice, 1);
    const readOnly = await ocs("PUT", `${V4}/call/${token}`, { auth: alice, jar: a.jar, body: { flags: 7 } });
    expect(readOnly.status).toBe(403);
    expect(readOnly.data).toEqual({ error: "read-only" });
    // Going read-only ended the call; the refused update did not bring Alice back.
    expect(await callState(token, { auth: alice, jar: a.jar })).toEqual({ hasCall: false, callFlag: 0, callStartTime: 0, participantFlags: 0 });
  });
});

describe("DELETE /call/{token}: leaving", () => {
  it("leaves the call; the last one out ends it", async () => {
    const { alice, bob, token } = await callRoom();
    const a = await session(token, alice);
    const b = await session(token, bob);
    await joinCall(token, { auth: alice, jar: a.jar }, { flags: 3 });
    await joinCall(token, { auth: bob, jar: b.jar }, { flags: 5 });
    const startTime = (await conversation(token, { auth: alice })).callStartTime;

    const left = await ocs("DELETE", `${V4}/call/${token}`, { auth: bob, jar: b.jar });
    expect(left.status).toBe(200);
    expect(left.data).toBeNull();
    expect(await callState(token, { auth: bob, jar: b.jar })).toEqual({ hasCall: true, callFlag: 3, callStartTime: startTime, participantFlags: 0 });
    // Leaving again while not in the call is fine.
    expect((await ocs("DELETE", `${V4}/call/${token}`, { auth: bob, jar: b.jar })).status).toBe(200);

    expect((await ocs("DELETE", `${V4}/call/${token}`, { auth: alice, jar: a.jar })).status).toBe(200);
    expect(await callState(token, { auth: alice, jar: a.jar })).toEqual({ hasCall: false, callFlag: 0, callStartTime: 0, participantFlags: 0 });
    expect(await listed(token, bob)).toMatchObject({ hasCall: false, callFlag: 0, callStartTime: 0 });
    expect((await ocs("GET", `${V4}/call/${token}`, { auth: alice })).data).toEqual([]);
  });

  it("ends the call when the last session that pinged within 30 s leaves", async () => {
    const { alice, bob, token } = await callRoom();
    const a = await session(token, alice);
    const b = await session(token, bob);
    await joinCall(token, { auth: alice, jar: a.jar }, { flags: 3 });
    await joinCall(token, { auth: bob, jar: b.jar }, { flags: 5 });
    // Alice's session went quiet 31 s ago: she no longer counts as in the call.
    await ageSessions(roomStub(env, await roomIdOf(token)), 31, a.sessionId);
    expect((await ocs("GET", `${V4}/call/${token}`, { auth: bob })).data.map((p: any) => p.sessionId)).toEqual([b.sessionId]);
    expect((await ocs("DELETE", `${V4}/call/${token}`, { auth: bob, jar: b.jar })).status).toBe(200);
    expect(await callState(token, { auth: bob, jar: b.jar })).toEqual({ hasCall: false, callFlag: 0, callStartTime: 0, participantFlags: 0 });
    expect(await listed(token, bob)).toMatchObject({ hasCall: false, callFlag: 0, callStartTime: 0 });
  });

  it("ends the call for everyone with all=true from a moderator", async () => {
    const { alice, bob, dave, token } = await callRoom();
    const a = await session(token, alice);
    const b = await session(token, bob);
    const d = await session(token, dave);
    for (const [user, s] of [
      [alice, a],
      [bob, b],
      [dave, d],
    ] as const) {
      expect((await joinCall(token, { auth: user, jar: s.jar })).status).toBe(200);
    }
    // A plain member's all=true only takes themselves out.
    expect((await ocs("DELETE", `${V4}/call/${token}`, { auth: bob, jar: b.jar, body: { all: true } })).status).toBe(200);
    expect((await conversation(token, { auth: bob, jar: b.jar })).participantFlags).toBe(0);
    expect(await callState(token, { auth: dave, jar: d.jar })).toMatchObject({ hasCall: true, callFlag: 7, participantFlags: 7 });

    const ended = await ocs("DELETE", `${V4}/call/${token}`, { auth: alice, jar: a.jar, body: { all: true } });
    expect(ended.status).toBe(200);
    for (const [user, s] of [
      [alice, a],
      [dave, d],
    ] as const) {
      expect(await callState(token, { auth: user, jar: s.jar })).toEqual({ hasCall: false, callFlag: 0, callStartTime: 0, participantFlags: 0 });
    }
    expect((await participants(token, { auth: alice })).map((p) => p.inCall)).toEqual([0, 0, 0]);
    expect(await listed(token, dave)).toMatchObject({ hasCall: false, callFlag: 0, callStartTime: 0 });
  });

  it("answers 404 without a session, 403 read-only, 412 lobby, 400 for bad input", async () => {
    const { alice, bob, carol, token } = await callRoom();
    const noSession = await ocs("DELETE", `${V4}/call/${token}`, { auth: alice });
    expect(noSession.status).toBe(404);
    expect(noSession.data).toEqual([]);
    expect((await ocs("DELETE", `${V4}/call/${token}`, { auth: carol, jar: new CookieJar() })).status).toBe(404);
    expect((await ocs("DELETE", `${V4}/call/nosuchtoken`, { auth: alice })).status).toBe(404);

    const a = await session(token, alice);
    const b = await session(token, bob);
    await joinCall(token, { auth: alice, jar: a.jar }, { flags: 3 });
    expect((await ocs("DELETE", `${V4}/call/${token}`, { auth: alice, jar: a.jar, body: { all: "maybe" } })).status).toBe(400);
    expect((await conversation(token, { auth: alice, jar: a.jar })).participantFlags).toBe(3);

    await setLobby(token, alice, 1);
    const lobby = await ocs("DELETE", `${V4}/call/${token}`, { auth: bob, jar: b.jar });
    expect(lobby.status).toBe(412);
    expect(lobby.data).toEqual({ error: "lobby" });
    await setLobby(token, alice, 0);

    await setReadOnly(token, alice, 1);
    const readOnly = await ocs("DELETE", `${V4}/call/${token}`, { auth: alice, jar: a.jar });
    expect(readOnly.status).toBe(403);
    expect(readOnly.data).toEqual({ error: "read-only" });
    expect(await callState(token, { auth: alice, jar: a.jar })).toEqual({ hasCall: false, callFlag: 0, callStartTime: 0, participantFlags: 0 });
  });
});

describe("POST /call/{token}/ring/{attendeeId}", () => {
  it("rings a member who is not in the call with the call notification anew", async () => {
    const { alice, bob, dave, token } = await callRoom();
    const a = await session(token, alice);
    await joinCall(token, { auth: alice, jar: a.jar }, { silent: true });
    const daveId = await attendeeId(token, alice, "users", dave.user);

    const res = await ocs("POST", `${V4}/call/${token}/ring/${daveId}`, { auth: alice, jar: a.jar });
    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    const list = await notificationsOf(dave);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ app: "spreed", object_type: "call", object_id: token, user: dave.user });
    // The reference rings with the same notification as a starting call: a group call has started.
    expect(list[0].subject).toMatch(/^A group call has started in /);
    expect(await notificationsOf(bob)).toEqual([]);
  });

  it("is for moderators only: 403 with empty data for plain members", async () => {
    const { alice, bob, dave, token } = await callRoom();
    const a = await session(token, alice);
    const b = await session(token, bob);
    await joinCall(token, { auth: alice, jar: a.jar }, { silent: true });
    await joinCall(token, { auth: bob, jar: b.jar });
    const daveId = await attendeeId(token, alice, "users", dave.user);
    const res = await ocs("POST", `${V4}/call/${token}/ring/${daveId}`, { auth: bob, jar: b.jar });
    expect(res.status).toBe(403);
    expect(res.data).toEqual([]);
    expect(await notificationsOf(dave)).toEqual([]);
  });

  it("answers every error row of the seed", async () => {
    const { alice, bob, carol, dave, token } = await callRoom();
    const group = unique("grp");
    expect((await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: group, displayname: "Ring group" } })).status).toBe(200);
    expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: group, source: "groups" } })).status).toBe(200);
    const groupId = await attendeeId(token, alice, "groups", group);
    const bobId = await attendeeId(token, alice, "users", bob.user);
    const daveId = await attendeeId(token, alice, "users", dave.user);
    const ring = (id: number | string, who: Who) => ocs("POST", `${V4}/call/${token}/ring/${id}`, who);
    const a = await session(token, alice);

    // No call running.
    const noCall = await ring(daveId, { auth: alice, jar: a.jar });
    expect(noCall.status).toBe(400);
    expect(noCall.data).toEqual({ error: "call" });

    // Bob runs the call; Alice is not in it.
    const b = await session(token, bob);
    await joinCall(token, { auth: bob, jar: b.jar }, { silent: true });
    const notIn = await ring(daveId, { auth: alice, jar: a.jar });
    expect(notIn.status).toBe(400);
    expect(notIn.data).toEqual({ error: "in-call" });

    await joinCall(token, { auth: alice, jar: a.jar });
    const unknown = await ring(999999999, { auth: alice, jar: a.jar });
    expect(unknown.status).toBe(404);
    expect(unknown.data).toEqual({ error: "participant" });
    const notUser = await ring(groupId, { auth: alice, jar: a.jar });
    expect(notUser.status).toBe(400);
    expect(notUser.data).toEqual({ error: "actor-type" });
    const busy = await ring(bobId, { auth: alice, jar: a.jar });
    expect(busy.status).toBe(400);
    expect(busy.data).toEqual({ error: "target-in-call" });
    expect((await ring("abc", { auth: alice, jar: a.jar })).status).toBe(400);

    // Strangers and unknown rooms.
    const stranger = await ring(daveId, { auth: carol, jar: new CookieJar() });
    expect(stranger.status).toBe(404);
    expect(stranger.data).toEqual([]);
    expect((await ocs("POST", `${V4}/call/nosuchtoken/ring/${daveId}`, { auth: alice })).status).toBe(404);

    // Nobody got rung by any of those.
    expect(await notificationsOf(bob)).toEqual([]);
    expect(await notificationsOf(dave)).toEqual([]);

    // The lobby holds plain members back before anything else.
    await setLobby(token, alice, 1);
    const lobby = await ring(daveId, { auth: bob, jar: b.jar });
    expect(lobby.status).toBe(412);
    expect(lobby.data).toEqual({ error: "lobby" });
  });
});

describe("POST /call/{token}/dialout/{attendeeId}", () => {
  it("answers 501 to participants with the start-call permission: no SIP dial-out bridge", async () => {
    const { alice, bob, token } = await callRoom();
    const bobId = await attendeeId(token, alice, "users", bob.user);
    for (const user of [alice, bob]) {
      const res = await ocs("POST", `${V4}/call/${token}/dialout/${bobId}`, { auth: user });
      expect(res.status).toBe(501);
      expect(res.data).toEqual({ error: "sip" });
    }
  });

  it("answers 403 without the start-call permission, 404 to strangers, 412 in the lobby, 400 for a bad id", async () => {
    const { alice, bob, carol, token } = await callRoom();
    const bobId = await attendeeId(token, alice, "users", bob.user);
    const dial = (who: Who, id: number | string = bobId, room = token) => ocs("POST", `${V4}/call/${room}/dialout/${id}`, who);

    expect((await dial({ auth: alice }, "abc")).status).toBe(400);
    const stranger = await dial({ auth: carol });
    expect(stranger.status).toBe(404);
    expect(stranger.data).toEqual([]);
    expect((await dial({ auth: alice }, bobId, "nosuchtoken")).status).toBe(404);

    expect((await ocs("PUT", `${V4}/room/${token}/permissions/default`, { auth: alice, body: { permissions: 4 | 16 | 32 | 128 } })).status).toBe(200);
    const denied = await dial({ auth: bob });
    expect(denied.status).toBe(403);
    expect(denied.data).toEqual({ error: "permission" });

    await setLobby(token, alice, 1);
    const lobby = await dial({ auth: bob });
    expect(lobby.status).toBe(412);
    expect(lobby.data).toEqual({ error: "lobby" });
    expect((await dial({ auth: alice })).status).toBe(501);
  });
});

describe("GET /call/{token}/notification-state and the call notification's life", () => {
  const state = async (token: string, user?: User) => {
    const res = await ocs("GET", `${V4}/call/${token}/notification-state`, { auth: user });
    return [res.status, res.data];
  };
  const allNotifications = async (user: User) => (await ocs("GET", NOTIFICATIONS, { auth: user })).data as { object_type: string; subject: string }[];

  it("answers 201 without a call, 200 while it rings, 404 once joined or for strangers, 403 anonymously; a call start replaces the invitation", async () => {
    const { alice, bob, carol, token } = await callRoom();
    expect((await allNotifications(bob)).map((n) => n.object_type)).toEqual(["room"]);
    expect(await state(token, bob)).toEqual([201, null]);
    const a = await session(token, alice);
    expect((await joinCall(token, { auth: alice, jar: a.jar })).status).toBe(200);
    expect(await state(token, bob)).toEqual([200, null]);
    // The call's notification replaced the room invitation (the reference clears the room's notifications).
    expect((await allNotifications(bob)).map((n) => [n.object_type, n.subject])).toEqual([["call", "A group call has started in Stand-up"]]);
    expect(await state(token, carol)).toEqual([404, null]);
    expect(await state("unknownroom", bob)).toEqual([404, null]);
    expect(await state(token)).toEqual([403, null]);
    // Joining the call answers the notification: it goes, and the state says to dismiss it.
    const b = await session(token, bob);
    expect((await joinCall(token, { auth: bob, jar: b.jar })).status).toBe(200);
    expect(await notificationsOf(bob)).toEqual([]);
    expect(await state(token, bob)).toEqual([404, null]);
    // Left again within the call's first minute: still dismissed.
    expect((await ocs("DELETE", `${V4}/call/${token}`, { auth: bob, jar: b.jar })).status).toBe(200);
    expect(await state(token, bob)).toEqual([404, null]);
  });

  it("turns the notification into a missed call when the call ends unanswered; a silent call notifies nobody and says so", async () => {
    const { alice, bob, token } = await callRoom();
    const a = await session(token, alice);
    await joinCall(token, { auth: alice, jar: a.jar });
    expect((await notificationsOf(bob)).map((n) => n.subject)).toEqual(["A group call has started in Stand-up"]);
    expect((await ocs("DELETE", `${V4}/call/${token}`, { auth: alice, jar: a.jar })).status).toBe(200);
    expect((await notificationsOf(bob)).map((n) => n.subject)).toEqual(["You missed a group call in Stand-up"]);
    expect(await state(token, bob)).toEqual([201, null]);

    await ocs("DELETE", NOTIFICATIONS, { auth: bob });
    expect((await joinCall(token, { auth: alice, jar: a.jar }, { silent: true })).status).toBe(200);
    expect(await notificationsOf(bob)).toEqual([]);
    const history = (await ocs("GET", `/ocs/v2.php/apps/spreed/api/v1/chat/${token}`, { auth: bob, query: { lookIntoFuture: "0", limit: "5" } })).data;
    expect(history[0]).toMatchObject({ systemMessage: "call_started", message: "{actor} started a silent call", silent: true });
  });

  it("brings back a one-to-one partner who left when the other calls", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 1, invite: bob.user } });
    const token = room.data.token as string;
    expect((await ocs("DELETE", `${V4}/room/${token}/participants/self`, { auth: alice })).status).toBe(200);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).status).toBe(404);
    const b = await session(token, bob);
    expect((await joinCall(token, { auth: bob, jar: b.jar })).status).toBe(200);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).data).toMatchObject({ token, participantType: 1 });
    expect((await notificationsOf(alice)).map((n) => n.subject)).toEqual([expect.stringMatching(/ wants to talk with you$/)]);
  });
});
