import { describe, expect, it } from "vitest";
import { ADMIN, CookieJar, createUser, ocs, unique } from "./helpers/http";

const V4 = "/ocs/v2.php/apps/spreed/api/v4";

describe("creating conversations", () => {
  it("creates a group conversation (201) with the creator as owner", async () => {
    const alice = await createUser("alice");
    const res = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: "  Standup  " } });
    expect(res.status).toBe(201);
    expect(res.data).toMatchObject({
      type: 2,
      name: "Standup",
      displayName: "Standup",
      participantType: 1,
      actorType: "users",
      actorId: alice.user,
      permissions: 254,
      attendeePermissions: 0,
      defaultPermissions: 0,
      hasPassword: false,
      hasCall: false,
      readOnly: 0,
      lobbyState: 0,
      sessionId: "0",
      canDeleteConversation: true,
      canLeaveConversation: true,
      canStartCall: true,
      isFavorite: false,
      notificationLevel: 2,
    });
    expect(res.data.token).toMatch(/^[a-z0-9]{12}$/);
    expect(res.data.id).toEqual(expect.any(Number));
  });

  it("de-duplicates one-to-one conversations: 201 first, then 200, both users owners", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const first = await ocs("POST", `${V4}/room`, { auth: alice, form: { roomType: "1", invite: bob.user } });
    expect(first.status).toBe(201);
    expect(first.data).toMatchObject({ type: 1, name: bob.user, displayName: `bob ${bob.user}`, participantType: 1, canDeleteConversation: false, notificationLevel: 1 });
    const again = await ocs("POST", `${V4}/room`, { auth: bob, body: { roomType: 1, invite: alice.user } });
    expect(again.status).toBe(200);
    expect(again.data).toMatchObject({ token: first.data.token, name: alice.user, participantType: 1 });
  });

  it("invites a group and its members", async () => {
    const group = unique("team");
    await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: group, displayname: "The Team" } });
    const owner = await createUser("owner");
    const member = await createUser("member", { groups: [group] });
    const res = await ocs("POST", `${V4}/room`, { auth: owner, body: { roomType: 2, invite: group } });
    expect(res.status).toBe(201);
    expect(res.data.name).toBe("The Team");
    const list = await ocs("GET", `${V4}/room`, { auth: member });
    expect(list.status).toBe(200);
    expect(list.data).toEqual([expect.objectContaining({ token: res.data.token, participantType: 3, permissions: 246 })]);
    expect(list.headers.get("x-nextcloud-talk-hash")).toMatch(/^[0-9a-f]{40}$/);
    expect(Number(list.headers.get("x-nextcloud-talk-modified-before"))).toBeGreaterThan(0);
  });

  it("answers the seed's error rows", async () => {
    const alice = await createUser("alice");
    expect((await ocs("POST", `${V4}/room`, { body: { roomType: 2, roomName: "x" } })).status).toBe(401);
    const badType = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 4, roomName: "x" } });
    expect(badType.status).toBe(400);
    expect(badType.data).toEqual({ error: "type" });
    const noName = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 3, roomName: "   " } });
    expect(noName.status).toBe(400);
    expect(noName.data).toEqual({ error: "name" });
    const unknownUser = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 1, invite: "nobody-here" } });
    expect(unknownUser.status).toBe(404);
    expect(unknownUser.data).toEqual({ error: "invite" });
    const unknownGroup = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, invite: "no-such-group" } });
    expect(unknownGroup.status).toBe(404);
    const self = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 1, invite: alice.user } });
    expect(self.status).toBe(403);
    const wrongType = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: "two", roomName: "x" } });
    expect(wrongType.status).toBe(400);
    const tooLong = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: "x".repeat(256) } });
    expect(tooLong.status).toBe(400);
    expect((await ocs("GET", `${V4}/room`, { auth: alice })).data).toEqual([]);
  });
});

describe("getting and joining conversations", () => {
  it("shows public rooms to non-members as a skeleton and hides group rooms", async () => {
    const alice = await createUser("alice");
    const stranger = await createUser("stranger");
    const pub = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 3, roomName: "Open house" } });
    const grp = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: "Private" } });
    const skeleton = await ocs("GET", `${V4}/room/${pub.data.token}`, { auth: stranger });
    expect(skeleton.status).toBe(200);
    expect(skeleton.data).toMatchObject({ token: pub.data.token, type: 3, name: "", participantType: 4, sessionId: "0", permissions: 1, attendeeId: 0 });
    expect((await ocs("GET", `${V4}/room/${grp.data.token}`, { auth: stranger })).status).toBe(404);
    expect((await ocs("GET", `${V4}/room/${grp.data.token}`)).status).toBe(404);
    expect((await ocs("GET", `${V4}/room/nosuchtoken`, { auth: alice })).status).toBe(404);
    const own = await ocs("GET", `${V4}/room/${grp.data.token}`, { auth: alice });
    expect(own.data).toMatchObject({ name: "Private", participantType: 1 });
  });

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
