/**
 * Talk webinar settings (seed 000, reference §6.4, §9): the lobby (state, timer, who it holds
 * back) and the access rows of the SIP dial-in switch. SIP is not configured in this Worker, so
 * a moderator's SIP change answers 412; the configured SIP behaviour is tested elsewhere.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { roomStub } from "../src/room/directory";
import { CookieJar, createUser, ocs, type Credentials } from "./helpers/http";
import { roomIdOf, V4 } from "./helpers/talk";

const NOTIFICATIONS = "/ocs/v2.php/apps/notifications/api/v2/notifications";
/** Call notifications only (being added to a room brings an invitation notification too). */
const callNotifications = (res: { data: { object_type: string }[] }) => res.data.filter((n) => n.object_type === "call");

type User = Credentials & { id: string };
type Who = { auth?: User; jar?: CookieJar };


/** Alice owns a room (group by default) with Bob as a plain member; Carol is a stranger. */
async function webinarRoom(roomType = 2) {
  const alice = await createUser("alice");
  const bob = await createUser("bob");
  const carol = await createUser("carol");
  const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType, roomName: "Webinar" } });
  expect(room.status).toBe(201);
  const token = room.data.token as string;
  expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: bob.user } })).status).toBe(200);
  return { alice, bob, carol, token };
}

async function oneToOne() {
  const alice = await createUser("alice");
  const bob = await createUser("bob");
  const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 1, invite: bob.user } });
  expect([200, 201]).toContain(room.status);
  return { alice, bob, token: room.data.token as string };
}

async function session(token: string, user?: User): Promise<CookieJar> {
  const jar = new CookieJar();
  const res = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: user, jar });
  expect(res.status).toBe(200);
  return jar;
}

async function conversation(token: string, who: Who): Promise<any> {
  const res = await ocs("GET", `${V4}/room/${token}`, who);
  expect(res.status).toBe(200);
  return res.data;
}

async function listed(token: string, user: User): Promise<any> {
  const res = await ocs("GET", `${V4}/room`, { auth: user });
  expect(res.status).toBe(200);
  const found = (res.data as any[]).find((r) => r.token === token);
  expect(found).toBeDefined();
  return found;
}

async function attendeeId(token: string, owner: User, actorType: string, actorId: string): Promise<number> {
  const res = await ocs("GET", `${V4}/room/${token}/participants`, { auth: owner });
  expect(res.status).toBe(200);
  const found = (res.data as any[]).find((p) => p.actorType === actorType && p.actorId === actorId);
  expect(found).toBeDefined();
  return found.attendeeId as number;
}

function lobby(token: string, who: Who, body: Record<string, unknown>) {
  return ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { ...who, body });
}

function sip(token: string, who: Who, body: Record<string, unknown>) {
  return ocs("PUT", `${V4}/room/${token}/webinar/sip`, { ...who, body });
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("PUT /room/{token}/webinar/lobby", () => {
  it("switches the lobby for moderators and answers the conversation object", async () => {
    const { alice, bob, token } = await webinarRoom();
    const on = await lobby(token, { auth: alice }, { state: 1 });
    expect(on.status).toBe(200);
    expect(on.data).toMatchObject({ token, type: 2, name: "Webinar", participantType: 1, lobbyState: 1, lobbyTimer: 0 });
    expect((await conversation(token, { auth: bob })).lobbyState).toBe(1);
    expect(await listed(token, bob)).toMatchObject({ lobbyState: 1, lobbyTimer: 0 });

    const timer = nowSeconds() + 3600;
    const timed = await lobby(token, { auth: alice }, { state: 1, timer });
    expect(timed.status).toBe(200);
    expect(timed.data).toMatchObject({ lobbyState: 1, lobbyTimer: timer });
    expect(await listed(token, bob)).toMatchObject({ lobbyState: 1, lobbyTimer: timer });

    // Setting the state without a timer (or a null one) clears the timer.
    expect((await lobby(token, { auth: alice }, { state: 1, timer: null })).data).toMatchObject({ lobbyState: 1, lobbyTimer: 0 });
    expect((await ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { auth: alice, form: { state: "1", timer: String(timer) } })).data).toMatchObject({
      lobbyState: 1,
      lobbyTimer: timer,
    });
    const off = await lobby(token, { auth: alice }, { state: 0, timer });
    expect(off.status).toBe(200);
    expect(off.data).toMatchObject({ lobbyState: 0, lobbyTimer: 0 });
    expect(await conversation(token, { auth: bob })).toMatchObject({ lobbyState: 0, lobbyTimer: 0 });
    expect(await listed(token, bob)).toMatchObject({ lobbyState: 0, lobbyTimer: 0 });

    // Public rooms have a lobby too.
    const pub = await webinarRoom(3);
    expect((await lobby(pub.token, { auth: pub.alice }, { state: 1 })).data).toMatchObject({ type: 3, lobbyState: 1 });
  });

  it("answers every error row: 401 guests, 403 non-moderators, 404, 400 type and value; nothing changes", async () => {
    const { alice, bob, carol, token } = await webinarRoom(3);

    const guestJar = await session(token);
    const guest = await lobby(token, { jar: guestJar }, { state: 1 });
    expect(guest.status).toBe(401);
    expect(guest.meta.statuscode).toBe(997);
    // Even a guest promoted to moderator: the endpoint requires a login.
    const guestId = (await conversation(token, { jar: guestJar })).attendeeId as number;
    expect((await ocs("POST", `${V4}/room/${token}/moderators`, { auth: alice, body: { attendeeId: guestId } })).status).toBe(200);
    expect((await conversation(token, { jar: guestJar })).participantType).toBe(6);
    expect((await lobby(token, { jar: guestJar }, { state: 1 })).status).toBe(401);

    const member = await lobby(token, { auth: bob }, { state: 1 });
    expect(member.status).toBe(403);
    expect(member.data).toEqual([]);
    // Carol may see the public room but is no participant.
    const stranger = await lobby(token, { auth: carol }, { state: 1 });
    expect(stranger.status).toBe(404);
    expect(stranger.data).toEqual([]);
    expect((await lobby("nosuchtoken", { auth: alice }, { state: 1 })).status).toBe(404);

    for (const body of [{ state: 2 }, { state: -1 }, { state: 1, timer: -5 }, { state: "x" }, { state: 1, timer: "soon" }, { state: 1.5 }, {}]) {
      const res = await lobby(token, { auth: alice }, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(["value", "state", "timer"]).toContain(res.data.error);
    }
    for (const body of [{ state: 2 }, { state: 1, timer: -5 }]) {
      expect((await lobby(token, { auth: alice }, body)).data).toEqual({ error: "value" });
    }

    const direct = await oneToOne();
    const type = await lobby(direct.token, { auth: direct.alice }, { state: 1 });
    expect(type.status).toBe(400);
    expect(type.data).toEqual({ error: "type" });
    expect((await conversation(direct.token, { auth: direct.alice })).lobbyState).toBe(0);

    expect(await conversation(token, { auth: alice })).toMatchObject({ lobbyState: 0, lobbyTimer: 0 });
  });

  it("names a non-numeric state as a bad value: 400 {error: value}, nothing changes", async () => {
    const { alice, token } = await webinarRoom();
    for (const form of [false, true]) {
      const res = form
        ? await ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { auth: alice, form: { state: "x" } })
        : await lobby(token, { auth: alice }, { state: "x" });
      expect(res.status).toBe(400);
      expect(res.data).toMatchObject({ error: "value" });
    }
    expect((await conversation(token, { auth: alice })).lobbyState).toBe(0);
  });

  it("takes plain members out of the call but not moderators", async () => {
    const { alice, bob, token } = await webinarRoom();
    const a = await session(token, alice);
    const b = await session(token, bob);
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: alice, jar: a, body: { flags: 3 } })).status).toBe(200);
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: bob, jar: b, body: { flags: 5 } })).status).toBe(200);
    expect((await conversation(token, { auth: alice, jar: a })).callFlag).toBe(7);

    expect((await lobby(token, { auth: alice }, { state: 1 })).status).toBe(200);
    expect(await conversation(token, { auth: alice, jar: a })).toMatchObject({ participantFlags: 3, hasCall: true, callFlag: 3 });
    expect((await conversation(token, { auth: bob, jar: b })).participantFlags).toBe(0);
    const peers = await ocs("GET", `${V4}/call/${token}`, { auth: alice });
    expect(peers.data.map((p: any) => p.actorId)).toEqual([alice.user]);
  });

  it("holds plain members back; moderators and holders of the ignore-lobby bit pass", async () => {
    const { alice, bob, token } = await webinarRoom();
    const a = await session(token, alice);
    expect((await lobby(token, { auth: alice }, { state: 1 })).status).toBe(200);
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: alice, jar: a, body: { silent: true } })).status).toBe(200);

    // Joining the conversation still works in the lobby.
    const b = await session(token, bob);
    const view = await conversation(token, { auth: bob, jar: b });
    expect(view).toMatchObject({ lobbyState: 1, hasCall: false, canStartCall: false, participantFlags: 0 });
    for (const [method, path] of [
      ["GET", `${V4}/room/${token}/participants`],
      ["GET", `${V4}/call/${token}`],
      ["POST", `${V4}/call/${token}`],
    ]) {
      const res = await ocs(method as string, path as string, { auth: bob, jar: b });
      expect(res.status, `${method} ${path}`).toBe(412);
      expect(res.data).toEqual({ error: "lobby" });
    }

    // The moderator is not held back.
    expect((await ocs("GET", `${V4}/room/${token}/participants`, { auth: alice })).status).toBe(200);
    expect((await ocs("GET", `${V4}/call/${token}`, { auth: alice })).status).toBe(200);
    expect(await conversation(token, { auth: alice, jar: a })).toMatchObject({ hasCall: true, canStartCall: true });

    // Bit 8 ("ignore lobby") lets Bob through.
    const bobId = await attendeeId(token, alice, "users", bob.user);
    const grant = await ocs("PUT", `${V4}/room/${token}/attendees/permissions`, { auth: alice, body: { attendeeId: bobId, method: "add", permissions: 8 } });
    expect(grant.status).toBe(200);
    expect(await conversation(token, { auth: bob, jar: b })).toMatchObject({ hasCall: true, canStartCall: true });
    expect((await ocs("GET", `${V4}/room/${token}/participants`, { auth: bob })).status).toBe(200);
    expect((await ocs("GET", `${V4}/call/${token}`, { auth: bob })).status).toBe(200);
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: bob, jar: b })).status).toBe(200);
    expect((await conversation(token, { auth: bob, jar: b })).participantFlags).toBe(7);
  });

  it("lets plain members in again once the lobby is off", async () => {
    const { alice, bob, token } = await webinarRoom();
    const b = await session(token, bob);
    await lobby(token, { auth: alice }, { state: 1 });
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: bob, jar: b })).status).toBe(412);
    await lobby(token, { auth: alice }, { state: 0 });
    expect((await ocs("GET", `${V4}/room/${token}/participants`, { auth: bob })).status).toBe(200);
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: bob, jar: b })).status).toBe(200);
    expect(await conversation(token, { auth: bob, jar: b })).toMatchObject({ hasCall: true, canStartCall: true, participantFlags: 7 });
  });

  it("sends no call notification to members held in the lobby", async () => {
    const { alice, bob, token } = await webinarRoom();
    const a = await session(token, alice);
    await lobby(token, { auth: alice }, { state: 1 });
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: alice, jar: a })).status).toBe(200);
    expect(callNotifications(await ocs("GET", NOTIFICATIONS, { auth: bob }))).toEqual([]);
  });

  it("withdraws pending call notifications of held-back members when the lobby is enabled (reference §6.3, §9)", async () => {
    const { alice, bob, token } = await webinarRoom();
    const a = await session(token, alice);
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: alice, jar: a })).status).toBe(200);
    expect(callNotifications(await ocs("GET", NOTIFICATIONS, { auth: bob }))).toHaveLength(1);
    expect((await lobby(token, { auth: alice }, { state: 1 })).status).toBe(200);
    expect(callNotifications(await ocs("GET", NOTIFICATIONS, { auth: bob }))).toEqual([]);
  });
});

describe("the lobby timer", () => {
  it("arms the room's alarm no later than the timer, and the alarm opens the lobby once the time has passed", async () => {
    const { alice, bob, token } = await webinarRoom();
    const b = await session(token, bob);
    const timer = nowSeconds() + 3600;
    expect((await lobby(token, { auth: alice }, { state: 1, timer })).status).toBe(200);
    const stub = roomStub(env, await roomIdOf(token));
    const alarm = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm as number).toBeLessThanOrEqual(timer * 1000);

    // Let the hour pass: move the stored timer (row and in-memory copy) into the past.
    const past = nowSeconds() - 1;
    await runInDurableObject(stub, (instance, state) => {
      state.storage.sql.exec("UPDATE meta SET lobby_timer = ?", past);
      (instance as unknown as { store: { meta: { lobbyTimer: number } } }).store.meta.lobbyTimer = past;
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await conversation(token, { auth: alice })).toMatchObject({ lobbyState: 0, lobbyTimer: 0 });
    expect(await listed(token, bob)).toMatchObject({ lobbyState: 0, lobbyTimer: 0 });
    // Bob is no longer held back.
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: bob, jar: b })).status).toBe(200);
  });

  it("accepts a timer that is already due and opens the lobby by alarm", async () => {
    const { alice, bob, token } = await webinarRoom();
    const due = nowSeconds() - 1;
    const res = await lobby(token, { auth: alice }, { state: 1, timer: due });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ lobbyState: 1, lobbyTimer: due });
    // The alarm is already due and may have run by itself: whichever ran it, the lobby is open.
    await runDurableObjectAlarm(roomStub(env, await roomIdOf(token)));
    expect(await conversation(token, { auth: bob })).toMatchObject({ lobbyState: 0, lobbyTimer: 0 });
  });
});

describe("PUT /room/{token}/webinar/sip (SIP not configured here)", () => {
  it("answers 412 config to moderators, 403 to members, 401 to guests, 404 to strangers; nothing changes", async () => {
    const { alice, bob, carol, token } = await webinarRoom(3);
    for (const state of [0, 1, 2]) {
      const res = await sip(token, { auth: alice }, { state });
      expect(res.status, `state ${state}`).toBe(412);
      expect(res.data).toEqual({ error: "config" });
    }
    const member = await sip(token, { auth: bob }, { state: 1 });
    expect(member.status).toBe(403);
    expect(member.data).toEqual([]);
    const guest = await sip(token, { jar: await session(token) }, { state: 1 });
    expect(guest.status).toBe(401);
    expect(guest.meta.statuscode).toBe(997);
    expect((await sip(token, { jar: new CookieJar() }, { state: 1 })).status).toBe(401);
    const stranger = await sip(token, { auth: carol }, { state: 1 });
    expect(stranger.status).toBe(404);
    expect(stranger.data).toEqual([]);
    expect((await sip("nosuchtoken", { auth: alice }, { state: 1 })).status).toBe(404);

    const bad = await sip(token, { auth: alice }, { state: 3 });
    expect(bad.status).toBe(400);
    expect(bad.data).toEqual({ error: "value" });
    for (const body of [{ state: -1 }, { state: "x" }, { state: 1.5 }, {}]) {
      const res = await sip(token, { auth: alice }, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.data.error).toBe("value");
    }
    expect(await conversation(token, { auth: alice })).toMatchObject({ sipEnabled: 0, canEnableSIP: false, attendeePin: "" });
  });
});
