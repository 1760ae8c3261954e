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
    expect(noName.data).toEqual({ error: "room" });
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

describe("getting a conversation", () => {
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

});

/** Alice owns a group room with Bob as a plain member; Carol is a stranger. */
async function groupRoom(name = "Planning") {
  const alice = await createUser("alice");
  const bob = await createUser("bob");
  const carol = await createUser("carol");
  const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: name } });
  await ocs("POST", `${V4}/room/${room.data.token}/participants`, { auth: alice, body: { newParticipant: bob.user } });
  return { alice, bob, carol, token: room.data.token as string };
}

async function oneToOne() {
  const alice = await createUser("alice");
  const bob = await createUser("bob");
  const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 1, invite: bob.user } });
  return { alice, bob, token: room.data.token as string };
}

/** A guest with a session in a public room (their cookie jar identifies them). */
async function guestIn(token: string) {
  const jar = new CookieJar();
  const joined = await ocs("POST", `${V4}/room/${token}/participants/active`, { jar });
  expect(joined.status).toBe(200);
  return jar;
}

describe("renaming a conversation", () => {
  it("renames for moderators and answers the new conversation object", async () => {
    const { alice, token } = await groupRoom();
    const res = await ocs("PUT", `${V4}/room/${token}`, { auth: alice, body: { roomName: "  Retro  " } });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ token, name: "Retro", displayName: "Retro" });
    // 200 characters are fine, multibyte characters count once.
    const long = "é".repeat(200);
    expect((await ocs("PUT", `${V4}/room/${token}`, { auth: alice, form: { roomName: long } })).data.name).toBe(long);
  });

  it("answers every error row of the seed and changes nothing", async () => {
    const { alice, bob, carol, token } = await groupRoom("Keep me");
    for (const roomName of ["", "   ", "x".repeat(201)]) {
      const res = await ocs("PUT", `${V4}/room/${token}`, { auth: alice, body: { roomName } });
      expect(res.status).toBe(400);
      expect(res.data).toEqual({ error: "value" });
    }
    expect((await ocs("PUT", `${V4}/room/${token}`, { auth: alice, body: {} })).status).toBe(400);
    expect((await ocs("PUT", `${V4}/room/${token}`, { auth: alice, body: { roomName: 42 } })).status).toBe(400);
    expect((await ocs("PUT", `${V4}/room/${token}`, { auth: bob, body: { roomName: "Mine" } })).status).toBe(403);
    expect((await ocs("PUT", `${V4}/room/${token}`, { auth: carol, body: { roomName: "Mine" } })).status).toBe(404);
    expect((await ocs("PUT", `${V4}/room/nosuchroom1`, { auth: alice, body: { roomName: "Mine" } })).status).toBe(404);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).data.name).toBe("Keep me");

    const direct = await oneToOne();
    const res = await ocs("PUT", `${V4}/room/${direct.token}`, { auth: direct.alice, body: { roomName: "Ours" } });
    expect(res.status).toBe(400);
    expect(res.data).toEqual({ error: "type" });
  });
});

describe("deleting a conversation", () => {
  it("deletes for moderators: gone for everyone and from every list", async () => {
    const { alice, bob, token } = await groupRoom();
    expect((await ocs("DELETE", `${V4}/room/${token}`, { auth: bob })).status).toBe(403);
    const res = await ocs("DELETE", `${V4}/room/${token}`, { auth: alice });
    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).status).toBe(404);
    expect((await ocs("GET", `${V4}/room`, { auth: bob })).data).toEqual([]);
    expect((await ocs("DELETE", `${V4}/room/${token}`, { auth: alice })).status).toBe(404);
  });

  it("refuses one-to-one rooms (400) and strangers (404)", async () => {
    const direct = await oneToOne();
    const res = await ocs("DELETE", `${V4}/room/${direct.token}`, { auth: direct.alice });
    expect(res.status).toBe(400);
    expect(res.data).toEqual({ error: "type" });
    const { carol, token } = await groupRoom();
    expect((await ocs("DELETE", `${V4}/room/${token}`, { auth: carol })).status).toBe(404);
  });
});

describe("public and private conversations", () => {
  it("opens a group room to guests and closes it again, removing guests and self-joined users", async () => {
    const { alice, bob, carol, token } = await groupRoom();
    expect((await ocs("POST", `${V4}/room/${token}/public`, { auth: bob })).status).toBe(403);
    const opened = await ocs("POST", `${V4}/room/${token}/public`, { auth: alice });
    expect(opened.status).toBe(200);
    expect(opened.data.type).toBe(3);
    expect((await ocs("POST", `${V4}/room/${token}/public`, { auth: alice })).data.type).toBe(3);

    const guest = await guestIn(token);
    await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: carol, jar: new CookieJar() });
    // A guest is not logged in: the endpoint requires login.
    expect((await ocs("DELETE", `${V4}/room/${token}/public`, { jar: guest })).status).toBe(401);

    const closed = await ocs("DELETE", `${V4}/room/${token}/public`, { auth: alice });
    expect(closed.status).toBe(200);
    expect(closed.data.type).toBe(2);
    const people = await ocs("GET", `${V4}/room/${token}/participants`, { auth: alice });
    expect(people.data.map((p: { actorId: string }) => p.actorId).sort()).toEqual([alice.user, bob.user].sort());
    expect((await ocs("GET", `${V4}/room/${token}`, { jar: guest })).status).toBe(404);
  });

  it("answers 400 for rooms that are neither group nor public, 404 for strangers", async () => {
    const direct = await oneToOne();
    for (const method of ["POST", "DELETE"]) {
      const res = await ocs(method, `${V4}/room/${direct.token}/public`, { auth: direct.alice });
      expect(res.status).toBe(400);
      expect(res.data).toEqual({ error: "type" });
    }
    const { carol, token } = await groupRoom();
    expect((await ocs("POST", `${V4}/room/${token}/public`, { auth: carol })).status).toBe(404);
    expect((await ocs("POST", `${V4}/room/${token}/public`)).status).toBe(401);
  });
});

describe("read-only conversations", () => {
  it("switches read-only for moderators; calls can no longer be started", async () => {
    const { alice, bob, token } = await groupRoom();
    const res = await ocs("PUT", `${V4}/room/${token}/read-only`, { auth: alice, body: { state: 1 } });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ readOnly: 1, canStartCall: false });
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: bob })).data.readOnly).toBe(1);
    expect((await ocs("PUT", `${V4}/room/${token}/read-only`, { auth: alice, form: { state: "0" } })).data.readOnly).toBe(0);
  });

  it("answers the error rows and keeps the state on bad input", async () => {
    const { alice, bob, carol, token } = await groupRoom();
    expect((await ocs("PUT", `${V4}/room/${token}/read-only`, { auth: bob, body: { state: 1 } })).status).toBe(403);
    expect((await ocs("PUT", `${V4}/room/${token}/read-only`, { auth: carol, body: { state: 1 } })).status).toBe(404);
    const value = await ocs("PUT", `${V4}/room/${token}/read-only`, { auth: alice, body: { state: 2 } });
    expect(value.status).toBe(400);
    expect(value.data).toEqual({ error: "value" });
    expect((await ocs("PUT", `${V4}/room/${token}/read-only`, { auth: alice, body: { state: "yes" } })).status).toBe(400);
    expect((await ocs("PUT", `${V4}/room/${token}/read-only`, { auth: alice, body: {} })).status).toBe(400);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).data.readOnly).toBe(0);
    const direct = await oneToOne();
    const type = await ocs("PUT", `${V4}/room/${direct.token}/read-only`, { auth: direct.alice, body: { state: 1 } });
    expect(type.status).toBe(400);
    expect(type.data).toEqual({ error: "type" });
  });
});

describe("conversation passwords", () => {
  it("sets and removes the password of a public room; guests then need it", async () => {
    const alice = await createUser("alice");
    const pub = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 3, roomName: "Town hall" } });
    const token = pub.data.token;
    const set = await ocs("PUT", `${V4}/room/${token}/password`, { auth: alice, body: { password: "open-sesame" } });
    expect(set.status).toBe(200);
    expect(set.data.hasPassword).toBe(true);
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: new CookieJar() })).status).toBe(403);
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: new CookieJar(), body: { password: "open-sesame" } })).status).toBe(200);
    const cleared = await ocs("PUT", `${V4}/room/${token}/password`, { auth: alice, body: { password: "" } });
    expect(cleared.data.hasPassword).toBe(false);
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: new CookieJar() })).status).toBe(200);
  });

  it("answers 403 for group rooms and non-moderators, 404 for strangers, 400 for bad input", async () => {
    const { alice, bob, carol, token } = await groupRoom();
    expect((await ocs("PUT", `${V4}/room/${token}/password`, { auth: alice, body: { password: "pw-123456" } })).status).toBe(403);
    await ocs("POST", `${V4}/room/${token}/public`, { auth: alice });
    expect((await ocs("PUT", `${V4}/room/${token}/password`, { auth: bob, body: { password: "pw-123456" } })).status).toBe(403);
    expect((await ocs("PUT", `${V4}/room/${token}/password`, { auth: carol, body: { password: "pw-123456" } })).status).toBe(404);
    expect((await ocs("PUT", `${V4}/room/${token}/password`, { auth: alice, body: { password: 1234 } })).status).toBe(400);
    expect((await ocs("PUT", `${V4}/room/${token}/password`, { auth: alice, body: { password: "x".repeat(1025) } })).status).toBe(400);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).data.hasPassword).toBe(false);
  });
});

describe("favorites and notification levels", () => {
  it("are per user and show in the conversation list", async () => {
    const { alice, bob, token } = await groupRoom();
    const fav = await ocs("POST", `${V4}/room/${token}/favorite`, { auth: bob });
    expect(fav.status).toBe(200);
    expect(fav.data.isFavorite).toBe(true);
    expect((await ocs("GET", `${V4}/room`, { auth: bob })).data[0].isFavorite).toBe(true);
    expect((await ocs("GET", `${V4}/room`, { auth: alice })).data[0].isFavorite).toBe(false);
    expect((await ocs("DELETE", `${V4}/room/${token}/favorite`, { auth: bob })).data.isFavorite).toBe(false);

    const notify = await ocs("POST", `${V4}/room/${token}/notify`, { auth: bob, body: { level: 3 } });
    expect(notify.status).toBe(200);
    expect(notify.data.notificationLevel).toBe(3);
    expect((await ocs("GET", `${V4}/room`, { auth: bob })).data[0].notificationLevel).toBe(3);
    expect((await ocs("GET", `${V4}/room`, { auth: alice })).data[0].notificationLevel).toBe(2);
  });

  it("answers 401 for guests, 404 for strangers and 400 for invalid levels", async () => {
    const { alice, carol, token } = await groupRoom();
    await ocs("POST", `${V4}/room/${token}/public`, { auth: alice });
    const guest = await guestIn(token);
    expect((await ocs("POST", `${V4}/room/${token}/favorite`, { jar: guest })).status).toBe(401);
    expect((await ocs("DELETE", `${V4}/room/${token}/favorite`, { jar: guest })).status).toBe(401);
    expect((await ocs("POST", `${V4}/room/${token}/notify`, { jar: guest, body: { level: 1 } })).status).toBe(401);
    expect((await ocs("POST", `${V4}/room/${token}/favorite`, { auth: carol })).status).toBe(404);
    expect((await ocs("POST", `${V4}/room/${token}/notify`, { auth: carol, body: { level: 1 } })).status).toBe(404);
    for (const level of [0, 4, -1]) {
      const res = await ocs("POST", `${V4}/room/${token}/notify`, { auth: alice, body: { level } });
      expect(res.status).toBe(400);
      expect(res.data).toEqual({ error: "level" });
    }
    expect((await ocs("POST", `${V4}/room/${token}/notify`, { auth: alice, body: { level: "loud" } })).status).toBe(400);
    expect((await ocs("POST", `${V4}/room/${token}/notify`, { auth: alice, body: {} })).status).toBe(400);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).data.notificationLevel).toBe(2);
  });
});

describe("call notifications", () => {
  it("are on by default and can be switched off per user; 400 for other levels, 401 for guests", async () => {
    const { alice, bob, carol, token } = await groupRoom();
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: bob })).data.notificationCalls).toBe(1);
    const off = await ocs("POST", `${V4}/room/${token}/notify-calls`, { auth: bob, body: { level: 0 } });
    expect(off.status).toBe(200);
    expect(off.data.notificationCalls).toBe(0);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).data.notificationCalls).toBe(1);
    // Bob no longer hears about new calls.
    const jar = new CookieJar();
    await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar });
    await ocs("POST", `/ocs/v2.php/apps/spreed/api/v4/call/${token}`, { auth: alice, jar });
    const notes = (await ocs("GET", "/ocs/v2.php/apps/notifications/api/v2/notifications", { auth: bob })).data as { object_type: string }[];
    expect(notes.filter((n) => n.object_type === "call")).toEqual([]);

    for (const level of [2, -1, "x"]) {
      expect((await ocs("POST", `${V4}/room/${token}/notify-calls`, { auth: bob, body: { level } })).status).toBe(400);
    }
    expect((await ocs("POST", `${V4}/room/${token}/notify-calls`, { auth: carol, body: { level: 1 } })).status).toBe(404);
    expect((await ocs("POST", `${V4}/room/${token}/notify-calls`, { body: { level: 1 } })).status).toBe(401);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: bob })).data.notificationCalls).toBe(0);
  });
});

describe("the v1 fields of the seed's conversation table", () => {
  it("counts active users and guests and reports participantInCall and lastMessage", async () => {
    const { alice, token } = await groupRoom();
    await ocs("POST", `${V4}/room/${token}/public`, { auth: alice });
    const jar = new CookieJar();
    await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar });
    await guestIn(token);
    const room = await ocs("GET", `${V4}/room/${token}`, { auth: alice, jar });
    // The newest message is the system message of the room going public.
    expect(room.data).toMatchObject({ count: 1, numGuests: 1, participantInCall: false, lastMessage: { systemMessage: "guests_allowed", actorId: alice.user } });
    const without = await ocs("GET", `${V4}/room/${token}`, { auth: alice, jar, query: { includeLastMessage: "false" } });
    expect(without.data).toMatchObject({ count: 1, numGuests: 1 });
    expect(without.data).not.toHaveProperty("lastMessage");
    const list = await ocs("GET", `${V4}/room`, { auth: alice, query: { includeLastMessage: "0" } });
    expect(list.data[0]).not.toHaveProperty("lastMessage");
    expect((await ocs("GET", `${V4}/room`, { auth: alice, query: { includeLastMessage: "perhaps" } })).status).toBe(400);
  });
});
