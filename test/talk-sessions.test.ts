import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { roomStub } from "../src/room/directory";
import { ageSessions } from "./helpers/clock";
import { CookieJar, createUser, ocs } from "./helpers/http";
import { roomIdOf, V4 } from "./helpers/talk";


async function publicRoom(name = "Webinar") {
  const alice = await createUser("alice");
  const res = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 3, roomName: name } });
  return { alice, token: res.data.token as string, id: await roomIdOf(res.data.token) };
}


describe("joining and leaving", () => {
  it("joins as a member, a self-joined user and a stable guest", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const pub = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 3, roomName: "Webinar" } });
    const token = pub.data.token;

    const aliceJar = new CookieJar();
    const joined = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar: aliceJar });
    expect(joined.status).toBe(200);
    expect(joined.data.sessionId).toMatch(/^[A-Za-z0-9]{255}$/);
    expect(joined.data).toMatchObject({ participantType: 1, participantFlags: 0 });
    expect(joined.data.lastPing).toBeGreaterThan(0);
    // The session is bound to the cookie: a GET with the same cookie sees it.
    const again = await ocs("GET", `${V4}/room/${token}`, { auth: alice, jar: aliceJar });
    expect(again.data.sessionId).toBe(joined.data.sessionId);

    const selfJoined = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: bob, jar: new CookieJar() });
    expect(selfJoined.data).toMatchObject({ participantType: 5, actorType: "users", actorId: bob.user });

    const guestJar = new CookieJar();
    const guest = await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: guestJar });
    expect(guest.status).toBe(200);
    expect(guest.data).toMatchObject({ participantType: 4, actorType: "guests", permissions: 246 });
    expect(guest.data.actorId).toMatch(/^[0-9a-f]{40}$/);
    const rejoin = await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: guestJar, body: { force: true } });
    expect(rejoin.data.actorId).toBe(guest.data.actorId);
    expect(rejoin.data.attendeeId).toBe(guest.data.attendeeId);
    expect(rejoin.data.sessionId).not.toBe(guest.data.sessionId);

    const left = await ocs("DELETE", `${V4}/room/${token}/participants/active`, { jar: guestJar });
    expect(left.status).toBe(200);
    expect(left.data).toBeNull();
    const after = await ocs("GET", `${V4}/room/${token}`, { jar: guestJar });
    expect(after.data).toMatchObject({ sessionId: "0", participantType: 4, attendeeId: 0 });
  });

  it("keeps guests out of group rooms and checks the password of public rooms", async () => {
    const alice = await createUser("alice");
    const grp = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: "Members only" } });
    expect((await ocs("POST", `${V4}/room/${grp.data.token}/participants/active`, { jar: new CookieJar() })).status).toBe(404);
    const pub = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 3, roomName: "Locked", password: "sesame-42" } });
    expect(pub.data.hasPassword).toBe(true);
    const wrong = await ocs("POST", `${V4}/room/${pub.data.token}/participants/active`, { jar: new CookieJar(), body: { password: "nope" } });
    expect(wrong.status).toBe(403);
    expect(wrong.data).toEqual({ error: "password" });
    const right = await ocs("POST", `${V4}/room/${pub.data.token}/participants/active`, { jar: new CookieJar(), body: { password: "sesame-42" } });
    expect(right.status).toBe(200);
    const badForce = await ocs("POST", `${V4}/room/${pub.data.token}/participants/active`, { jar: new CookieJar(), body: { force: "maybe" } });
    expect(badForce.status).toBe(400);
    expect((await ocs("POST", `${V4}/room/nosuchtoken/participants/active`, { jar: new CookieJar() })).status).toBe(404);
    expect((await ocs("DELETE", `${V4}/room/nosuchtoken/participants/active`, { jar: new CookieJar() })).status).toBe(200);
  });
});


describe("one session per cookie and tab; 409 on a conflicting join", () => {
  it("answers 409 with the old session when force=false and that session is in a call, and changes nothing", async () => {
    const { alice, token } = await publicRoom();
    const jar = new CookieJar();
    const first = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar });
    expect((await ocs("POST", `/ocs/v2.php/apps/spreed/api/v4/call/${token}`, { auth: alice, jar, body: { flags: 3 } })).status).toBe(200);

    const conflict = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar, body: { force: false } });
    expect(conflict.status).toBe(409);
    expect(conflict.data).toEqual({ sessionId: first.data.sessionId, inCall: 3, lastPing: first.data.lastPing });
    // Still the same session, still in the call.
    const still = await ocs("GET", `${V4}/room/${token}`, { auth: alice, jar });
    expect(still.data).toMatchObject({ sessionId: first.data.sessionId, participantFlags: 3 });

    // force=true (the default) replaces it.
    const forced = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar });
    expect(forced.status).toBe(200);
    expect(forced.data.sessionId).not.toBe(first.data.sessionId);
    expect(forced.data.participantFlags).toBe(0);
  });

  it("replaces a session that is not in a call even with force=false", async () => {
    const { alice, token } = await publicRoom();
    const jar = new CookieJar();
    const first = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar });
    const second = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar, form: { force: "false" } });
    expect(second.status).toBe(200);
    expect(second.data.sessionId).not.toBe(first.data.sessionId);
  });

  it("keeps one session per tab id, and a new device (cookie) never conflicts", async () => {
    const { alice, token, id } = await publicRoom();
    const jar = new CookieJar();
    const tab = (n: string) => ({ "X-Nextcloud-Talk-Session-Tab-Id": n.repeat(64) });
    const a = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar, headers: tab("a") });
    const b = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar, headers: tab("b") });
    expect(a.data.sessionId.endsWith(`$${"a".repeat(64)}`)).toBe(true);
    expect(b.data.sessionId).not.toBe(a.data.sessionId);
    const other = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar: new CookieJar(), body: { force: false } });
    expect(other.status).toBe(200);
    const snapshot = await roomStub(env, id).snapshot();
    expect(snapshot?.sessions).toHaveLength(3);
    expect(snapshot?.attendees.filter((x) => x.actorId === alice.user)).toHaveLength(1);
  });
});

describe("leaving and session expiry", () => {
  it("removes self-joined users with their last session but keeps invited members", async () => {
    const { alice, token, id } = await publicRoom();
    const bob = await createUser("bob");
    const bobJar = new CookieJar();
    await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: bob, jar: bobJar });
    const aliceJar = new CookieJar();
    await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar: aliceJar });
    expect((await roomStub(env, id).snapshot())?.attendees.map((x) => x.participantType).sort()).toEqual([1, 5]);

    await ocs("DELETE", `${V4}/room/${token}/participants/active`, { auth: bob, jar: bobJar });
    await ocs("DELETE", `${V4}/room/${token}/participants/active`, { auth: alice, jar: aliceJar });
    const after = await roomStub(env, id).snapshot();
    expect(after?.attendees.map((x) => x.actorId)).toEqual([alice.user]);
    expect(after?.sessions).toEqual([]);
    // Self-joining again needs no invitation; the room never showed up in Bob's list.
    expect((await ocs("GET", `${V4}/room`, { auth: bob })).data).toEqual([]);
  });

  it("ends sessions not pinged for 100 s by alarm; the guest is gone and the user stays a member", async () => {
    const { alice, token, id } = await publicRoom();
    const aliceJar = new CookieJar();
    await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar: aliceJar });
    const guestJar = new CookieJar();
    await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: guestJar });
    const stub = roomStub(env, id);
    await ageSessions(stub, 101);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await stub.snapshot();
    expect(after?.sessions).toEqual([]);
    expect(after?.attendees.map((x) => x.actorId)).toEqual([alice.user]);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice, jar: aliceJar })).data.sessionId).toBe("0");
    expect((await ocs("GET", `${V4}/room/${token}`, { jar: guestJar })).data).toMatchObject({ participantType: 4, attendeeId: 0 });
  });

  it("asks self-joined users for the password again after they left", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const pub = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 3, roomName: "Locked", password: "pa55-word" } });
    const token = pub.data.token;
    const jar = new CookieJar();
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: bob, jar })).status).toBe(403);
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: bob, jar, body: { password: "pa55-word" } })).status).toBe(200);
    await ocs("DELETE", `${V4}/room/${token}/participants/active`, { auth: bob, jar });
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: bob, jar })).status).toBe(403);
    // Members never need it.
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar: new CookieJar() })).status).toBe(200);
  });

  it("rejects bad input to join with 400 and creates no session", async () => {
    const { token, id } = await publicRoom();
    const jar = new CookieJar();
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { jar, body: { password: 42 } })).status).toBe(400);
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { jar, body: { password: "x".repeat(1025) } })).status).toBe(400);
    expect((await roomStub(env, id).snapshot())?.sessions).toEqual([]);
  });
});
