/**
 * Talk attendee and conversation permissions (seed 002, reference §3.3 and §6.2): one attendee,
 * every attendee, and the conversation default. Bits: 1 custom, 2 start call, 4 join call,
 * 8 ignore lobby, 16 audio, 32 video, 64 screen, 128 chat; moderators 254, others 246 by default.
 */
import { describe, expect, it } from "vitest";
import { ADMIN, CookieJar, createUser, ocs, unique, type Credentials } from "./helpers/http";

const V4 = "/ocs/v2.php/apps/spreed/api/v4";

type User = Credentials & { id: string };
type Who = { auth?: User; jar?: CookieJar };

async function createRoom(owner: User, roomType = 2, roomName = "Room"): Promise<string> {
  const res = await ocs("POST", `${V4}/room`, { auth: owner, body: { roomType, roomName } });
  expect(res.status).toBe(201);
  return res.data.token as string;
}

async function addUser(owner: User, token: string, user: User): Promise<number> {
  const res = await ocs("POST", `${V4}/room/${token}/participants`, { auth: owner, body: { newParticipant: user.user } });
  expect(res.status).toBe(200);
  return (await attendee(token, owner, "users", user.user)).attendeeId as number;
}

async function list(token: string, who: Who): Promise<any[]> {
  const res = await ocs("GET", `${V4}/room/${token}/participants`, who);
  expect(res.status).toBe(200);
  return res.data;
}

async function attendee(token: string, owner: User, actorType: string, actorId: string): Promise<any> {
  const found = (await list(token, { auth: owner })).find((p) => p.actorType === actorType && p.actorId === actorId);
  expect(found).toBeDefined();
  return found;
}

async function byId(token: string, owner: User, attendeeId: number): Promise<any> {
  return (await list(token, { auth: owner })).find((p) => p.attendeeId === attendeeId);
}

async function joinGuest(token: string) {
  const jar = new CookieJar();
  const res = await ocs("POST", `${V4}/room/${token}/participants/active`, { jar });
  expect(res.status).toBe(200);
  return { jar, attendeeId: res.data.attendeeId as number, actorId: res.data.actorId as string };
}

async function promote(owner: User, token: string, attendeeId: number): Promise<void> {
  const res = await ocs("POST", `${V4}/room/${token}/moderators`, { auth: owner, body: { attendeeId } });
  expect(res.status).toBe(200);
}

const setOne = (who: Who, token: string, body: Record<string, unknown>) => ocs("PUT", `${V4}/room/${token}/attendees/permissions`, { ...who, body });
const setAll = (who: Who, token: string, body: Record<string, unknown>) => ocs("PUT", `${V4}/room/${token}/attendees/permissions/all`, { ...who, body });
const setDefault = (who: Who, token: string, body: Record<string, unknown>, mode = "default") =>
  ocs("PUT", `${V4}/room/${token}/permissions/${mode}`, { ...who, body });

/** Stored and effective permissions of one attendee as the owner sees them. */
async function perms(token: string, owner: User, attendeeId: number) {
  const p = await byId(token, owner, attendeeId);
  return { attendeePermissions: p.attendeePermissions, permissions: p.permissions, participantType: p.participantType };
}

describe("PUT attendees/permissions", () => {
  it("sets permissions (custom bit added) and answers the updated participant", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    const bobId = await addUser(alice, token, bob);

    const res = await setOne({ auth: alice }, token, { attendeeId: bobId, method: "set", permissions: 16 });
    expect(res.status).toBe(200);
    expect(res.data).toEqual([
      {
        roomToken: token,
        attendeeId: bobId,
        actorType: "users",
        actorId: bob.user,
        displayName: `bob ${bob.user}`,
        participantType: 3,
        inCall: 0,
        lastPing: 0,
        sessionIds: [],
        permissions: 17,
        attendeePermissions: 17,
        attendeePin: "",
      },
    ]);
    expect(await perms(token, alice, bobId)).toEqual({ attendeePermissions: 17, permissions: 17, participantType: 3 });
    // Bob's own conversation reflects it: no start-call bit, no call button.
    const own = await ocs("GET", `${V4}/room/${token}`, { auth: bob });
    expect(own.data).toMatchObject({ permissions: 17, attendeePermissions: 17, canStartCall: false });

    const full = await setOne({ auth: alice }, token, { attendeeId: bobId, method: "set", permissions: 254 });
    expect(full.data[0]).toMatchObject({ attendeePermissions: 255, permissions: 255 });
    const reset = await setOne({ auth: alice }, token, { attendeeId: bobId, method: "set", permissions: 0 });
    expect(reset.status).toBe(200);
    expect(reset.data[0]).toMatchObject({ attendeePermissions: 0, permissions: 246 });
  });

  it("adds and removes starting from the seed's 118 for default attendees", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const token = await createRoom(alice);
    const bobId = await addUser(alice, token, bob);
    const carolId = await addUser(alice, token, carol);

    const added = await setOne({ auth: alice }, token, { attendeeId: bobId, method: "add", permissions: 8 });
    expect(added.status).toBe(200);
    expect(added.data[0]).toMatchObject({ attendeeId: bobId, attendeePermissions: 127, permissions: 127 });
    const removed = await setOne({ auth: alice }, token, { attendeeId: carolId, method: "remove", permissions: 16 });
    expect(removed.status).toBe(200);
    expect(removed.data[0]).toMatchObject({ attendeeId: carolId, attendeePermissions: 103, permissions: 103 });

    // From then on add/remove start from the stored value.
    const more = await setOne({ auth: alice }, token, { attendeeId: carolId, method: "add", permissions: 128 });
    expect(more.data[0].attendeePermissions).toBe(231);
    const less = await setOne({ auth: alice }, token, { attendeeId: bobId, method: "remove", permissions: 6 });
    expect(less.data[0].attendeePermissions).toBe(121);
    // Removing everything leaves 0: back to the default chain.
    const none = await setOne({ auth: alice }, token, { attendeeId: bobId, method: "remove", permissions: 255 });
    expect(none.data[0]).toMatchObject({ attendeePermissions: 0, permissions: 246 });
  });

  it("starts add/remove from the room default when one is set", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    const bobId = await addUser(alice, token, bob);
    expect((await setDefault({ auth: alice }, token, { permissions: 6 })).status).toBe(200);
    const res = await setOne({ auth: alice }, token, { attendeeId: bobId, method: "add", permissions: 8 });
    expect(res.status).toBe(200);
    expect(res.data[0]).toMatchObject({ attendeePermissions: 15, permissions: 15 });
  });

  it("accepts `mode` as an alias of `method`, preferring `method`", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const token = await createRoom(alice);
    const bobId = await addUser(alice, token, bob);
    const carolId = await addUser(alice, token, carol);
    const viaMode = await setOne({ auth: alice }, token, { attendeeId: bobId, mode: "add", permissions: 8 });
    expect(viaMode.status).toBe(200);
    expect(viaMode.data[0].attendeePermissions).toBe(127);
    const both = await setOne({ auth: alice }, token, { attendeeId: carolId, method: "set", mode: "remove", permissions: 16 });
    expect(both.status).toBe(200);
    expect(both.data[0].attendeePermissions).toBe(17);
  });

  it("makes a self-joined user permanent and works on guests", async () => {
    const alice = await createUser("alice");
    const dave = await createUser("dave");
    const token = await createRoom(alice, 3, "Public");
    const joined = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: dave, jar: new CookieJar() });
    expect(joined.data.participantType).toBe(5);
    const res = await setOne({ auth: alice }, token, { attendeeId: joined.data.attendeeId, method: "set", permissions: 4 });
    expect(res.status).toBe(200);
    expect(res.data[0]).toMatchObject({ actorId: dave.user, participantType: 3, attendeePermissions: 5, permissions: 5 });
    expect(await perms(token, alice, joined.data.attendeeId)).toEqual({ attendeePermissions: 5, permissions: 5, participantType: 3 });

    const guest = await joinGuest(token);
    const onGuest = await setOne({ auth: alice }, token, { attendeeId: guest.attendeeId, method: "remove", permissions: 128 });
    expect(onGuest.status).toBe(200);
    expect(onGuest.data[0]).toMatchObject({ actorType: "guests", participantType: 4, attendeePermissions: 119, permissions: 119 });
  });

  it("lets guest moderators change permissions", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice, 3, "Public");
    const bobId = await addUser(alice, token, bob);
    const mod = await joinGuest(token);
    await promote(alice, token, mod.attendeeId);
    const res = await setOne({ jar: mod.jar }, token, { attendeeId: bobId, method: "set", permissions: 128 });
    expect(res.status).toBe(200);
    expect(res.data[0]).toMatchObject({ attendeeId: bobId, attendeePermissions: 129 });
  });

  it("answers 403 moderator when the target has moderator rights", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice, 3, "Public");
    const bobId = await addUser(alice, token, bob);
    await promote(alice, token, bobId);
    const guestMod = await joinGuest(token);
    await promote(alice, token, guestMod.attendeeId);
    const aliceId = (await attendee(token, alice, "users", alice.user)).attendeeId;
    const answers = [];
    for (const target of [bobId, guestMod.attendeeId, aliceId]) {
      const res = await setOne({ auth: alice }, token, { attendeeId: target, method: "set", permissions: 16 });
      expect(res.status, `target ${target}`).toBe(403);
      expect(await perms(token, alice, target)).toMatchObject({ attendeePermissions: 0, permissions: 254 });
      answers.push(res.data);
    }
    // The reason tells "the target is a moderator" apart from "you are not one" (403 []).
    expect(answers).toEqual([{ error: "moderator" }, { error: "moderator" }, { error: "moderator" }]);
  });

  it("answers 404 participant for an unknown attendee id", async () => {
    const alice = await createUser("alice");
    const token = await createRoom(alice);
    const res = await setOne({ auth: alice }, token, { attendeeId: 999999, method: "set", permissions: 16 });
    expect(res.status).toBe(404);
    expect(res.data).toEqual({ error: "participant" });
  });

  it("answers the error rows: method, value, room-type, type, 403, 404", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const stranger = await createUser("stranger");
    const groupid = unique("grp");
    expect((await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid, displayname: "Group" } })).status).toBe(200);
    const token = await createRoom(alice);
    const bobId = await addUser(alice, token, bob);
    const carolId = await addUser(alice, token, carol);
    expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: groupid, source: "groups" } })).status).toBe(200);
    const groupId = (await attendee(token, alice, "groups", groupid)).attendeeId;

    for (const method of ["toggle", "SET", ""]) {
      const res = await setOne({ auth: alice }, token, { attendeeId: bobId, method, permissions: 16 });
      expect(res.status, method).toBe(400);
      expect(res.data).toEqual({ error: "method" });
    }
    const noMethod = await setOne({ auth: alice }, token, { attendeeId: bobId, permissions: 16 });
    expect(noMethod.status).toBe(400);
    expect(noMethod.data).toEqual({ error: "method" });
    for (const permissions of [256, -1, 1024]) {
      const res = await setOne({ auth: alice }, token, { attendeeId: bobId, method: "set", permissions });
      expect(res.status, String(permissions)).toBe(400);
      expect(res.data).toEqual({ error: "value" });
    }

    const oneToOne = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 1, invite: bob.user } });
    const bobInOne = (await attendee(oneToOne.data.token, alice, "users", bob.user)).attendeeId;
    const roomType = await setOne({ auth: alice }, oneToOne.data.token, { attendeeId: bobInOne, method: "set", permissions: 16 });
    expect(roomType.status).toBe(400);
    expect(roomType.data).toEqual({ error: "room-type" });

    const group = await setOne({ auth: alice }, token, { attendeeId: groupId, method: "set", permissions: 16 });
    expect(group.status).toBe(400);
    expect(group.data).toEqual({ error: "type" });

    const notModerator = await setOne({ auth: bob }, token, { attendeeId: carolId, method: "set", permissions: 16 });
    expect(notModerator.status).toBe(403);
    expect(notModerator.data).toEqual([]);
    expect((await setOne({ auth: stranger }, token, { attendeeId: carolId, method: "set", permissions: 16 })).status).toBe(404);
    expect((await setOne({ auth: alice }, "nosuchtoken", { attendeeId: carolId, method: "set", permissions: 16 })).status).toBe(404);

    for (const id of [bobId, carolId, groupId]) expect((await perms(token, alice, id)).attendeePermissions).toBe(0);
  });

  it("rejects wrong types and missing fields with 400 and changes nothing", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    const bobId = await addUser(alice, token, bob);
    for (const body of [
      { attendeeId: bobId, method: "set", permissions: "abc" },
      { attendeeId: bobId, method: "set", permissions: 1.5 },
      { attendeeId: bobId, method: "set", permissions: null },
      { attendeeId: bobId, method: "set" },
      { attendeeId: "abc", method: "set", permissions: 16 },
      { method: "set", permissions: 16 },
      { attendeeId: bobId, method: 1, permissions: 16 },
      { attendeeId: bobId, method: "set".repeat(1000), permissions: 16 },
      { attendeeId: bobId, mode: ["set"], permissions: 16 },
    ]) {
      const res = await setOne({ auth: alice }, token, body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
    expect(await perms(token, alice, bobId)).toEqual({ attendeePermissions: 0, permissions: 246, participantType: 3 });
  });
});

describe("PUT attendees/permissions/all", () => {
  it("applies the change to every non-moderator, non-group attendee and answers the caller's conversation", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const dave = await createUser("dave");
    const groupid = unique("grp");
    expect((await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid, displayname: "Group" } })).status).toBe(200);
    const token = await createRoom(alice, 3, "Everyone");
    const bobId = await addUser(alice, token, bob);
    const carolId = await addUser(alice, token, carol);
    await promote(alice, token, carolId);
    expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: groupid, source: "groups" } })).status).toBe(200);
    const groupId = (await attendee(token, alice, "groups", groupid)).attendeeId;
    const daveJoin = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: dave, jar: new CookieJar() });
    expect(daveJoin.data.participantType).toBe(5);
    const guest = await joinGuest(token);
    const aliceId = (await attendee(token, alice, "users", alice.user)).attendeeId;

    const res = await setAll({ auth: alice }, token, { method: "set", permissions: 16 });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ token, type: 3, participantType: 1, actorId: alice.user, permissions: 254, attendeePermissions: 0 });

    expect(await perms(token, alice, bobId)).toEqual({ attendeePermissions: 17, permissions: 17, participantType: 3 });
    expect(await perms(token, alice, daveJoin.data.attendeeId)).toEqual({ attendeePermissions: 17, permissions: 17, participantType: 3 });
    expect(await perms(token, alice, guest.attendeeId)).toEqual({ attendeePermissions: 17, permissions: 17, participantType: 4 });
    expect(await perms(token, alice, carolId)).toEqual({ attendeePermissions: 0, permissions: 254, participantType: 2 });
    expect(await perms(token, alice, aliceId)).toEqual({ attendeePermissions: 0, permissions: 254, participantType: 1 });
    expect((await perms(token, alice, groupId)).attendeePermissions).toBe(0);

    // add/remove work from each attendee's stored value; `mode` is accepted too.
    const added = await setAll({ auth: alice }, token, { mode: "add", permissions: 128 });
    expect(added.status).toBe(200);
    expect((await perms(token, alice, bobId)).attendeePermissions).toBe(145);
    expect((await perms(token, alice, guest.attendeeId)).attendeePermissions).toBe(145);
    expect((await perms(token, alice, carolId)).attendeePermissions).toBe(0);
  });

  it("starts add/remove from 118 for default attendees", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const token = await createRoom(alice);
    const bobId = await addUser(alice, token, bob);
    const carolId = await addUser(alice, token, carol);
    expect((await setOne({ auth: alice }, token, { attendeeId: carolId, method: "set", permissions: 2 })).status).toBe(200);
    const res = await setAll({ auth: alice }, token, { method: "add", permissions: 8 });
    expect(res.status).toBe(200);
    expect((await perms(token, alice, bobId)).attendeePermissions).toBe(127);
    expect((await perms(token, alice, carolId)).attendeePermissions).toBe(11);
    const removed = await setAll({ auth: alice }, token, { method: "remove", permissions: 8 });
    expect(removed.status).toBe(200);
    expect((await perms(token, alice, bobId)).attendeePermissions).toBe(119);
    expect((await perms(token, alice, carolId)).attendeePermissions).toBe(3);
  });

  it("lets guest moderators apply it", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice, 3, "Public");
    const bobId = await addUser(alice, token, bob);
    const mod = await joinGuest(token);
    await promote(alice, token, mod.attendeeId);
    const res = await setAll({ jar: mod.jar }, token, { method: "set", permissions: 4 });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ token, participantType: 6, actorType: "guests", permissions: 254 });
    expect((await perms(token, alice, bobId)).attendeePermissions).toBe(5);
    expect((await perms(token, alice, mod.attendeeId)).attendeePermissions).toBe(0);
  });

  it("answers the error rows and changes nothing", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const stranger = await createUser("stranger");
    const token = await createRoom(alice);
    const bobId = await addUser(alice, token, bob);

    const oneToOne = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 1, invite: bob.user } });
    const roomType = await setAll({ auth: alice }, oneToOne.data.token, { method: "set", permissions: 16 });
    expect(roomType.status).toBe(400);
    expect(roomType.data).toEqual({ error: "room-type" });

    const notModerator = await setAll({ auth: bob }, token, { method: "set", permissions: 16 });
    expect(notModerator.status).toBe(403);
    expect(notModerator.data).toEqual([]);
    expect((await setAll({ auth: stranger }, token, { method: "set", permissions: 16 })).status).toBe(404);
    expect((await setAll({ auth: alice }, "nosuchtoken", { method: "set", permissions: 16 })).status).toBe(404);

    const method = await setAll({ auth: alice }, token, { method: "toggle", permissions: 16 });
    expect(method.status).toBe(400);
    expect(method.data).toEqual({ error: "method" });
    const value = await setAll({ auth: alice }, token, { method: "set", permissions: 256 });
    expect(value.status).toBe(400);
    expect(value.data).toEqual({ error: "value" });
    for (const body of [{ method: "set", permissions: "abc" }, { method: "set" }, {}, { method: "set", permissions: [16] }, { mode: 5, permissions: 16 }]) {
      const res = await setAll({ auth: alice }, token, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(await perms(token, alice, bobId)).toEqual({ attendeePermissions: 0, permissions: 246, participantType: 3 });
  });
});

describe("PUT room/{token}/permissions/default", () => {
  it("sets the default (custom bit added) and resets every attendee's own permissions", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const token = await createRoom(alice);
    const bobId = await addUser(alice, token, bob);
    const carolId = await addUser(alice, token, carol);
    expect((await setOne({ auth: alice }, token, { attendeeId: bobId, method: "set", permissions: 16 })).status).toBe(200);

    const res = await setDefault({ auth: alice }, token, { permissions: 128 });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ token, defaultPermissions: 129, participantType: 1, permissions: 254 });
    expect(await perms(token, alice, bobId)).toEqual({ attendeePermissions: 0, permissions: 129, participantType: 3 });
    expect(await perms(token, alice, carolId)).toEqual({ attendeePermissions: 0, permissions: 129, participantType: 3 });
    const bobsView = await ocs("GET", `${V4}/room/${token}`, { auth: bob });
    expect(bobsView.data).toMatchObject({ defaultPermissions: 129, permissions: 129, attendeePermissions: 0, canStartCall: false });

    // An attendee's own value still wins over the default.
    expect((await setOne({ auth: alice }, token, { attendeeId: carolId, method: "set", permissions: 6 })).status).toBe(200);
    expect(await perms(token, alice, carolId)).toEqual({ attendeePermissions: 7, permissions: 7, participantType: 3 });

    const cleared = await setDefault({ auth: alice }, token, { permissions: 0 });
    expect(cleared.status).toBe(200);
    expect(cleared.data.defaultPermissions).toBe(0);
    expect(await perms(token, alice, bobId)).toEqual({ attendeePermissions: 0, permissions: 246, participantType: 3 });
    expect(await perms(token, alice, carolId)).toEqual({ attendeePermissions: 0, permissions: 246, participantType: 3 });
  });

  it("lets guest moderators set it and refuses other participants", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const stranger = await createUser("stranger");
    const token = await createRoom(alice, 3, "Public");
    await addUser(alice, token, bob);
    const mod = await joinGuest(token);
    await promote(alice, token, mod.attendeeId);
    const plain = await joinGuest(token);

    const byGuestMod = await setDefault({ jar: mod.jar }, token, { permissions: 6 });
    expect(byGuestMod.status).toBe(200);
    expect(byGuestMod.data.defaultPermissions).toBe(7);

    for (const who of [{ auth: bob }, { jar: plain.jar }]) {
      const res = await setDefault(who, token, { permissions: 254 });
      expect(res.status).toBe(403);
      expect(res.data).toEqual([]);
    }
    expect((await setDefault({ auth: stranger }, token, { permissions: 254 })).status).toBe(404);
    expect((await setDefault({ auth: alice }, "nosuchtoken", { permissions: 254 })).status).toBe(404);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).data.defaultPermissions).toBe(7);
  });

  it("answers 400 mode, value and type, and 400 for bad input", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    for (const mode of ["call", "all"]) {
      const res = await setDefault({ auth: alice }, token, { permissions: 6 }, mode);
      expect(res.status, mode).toBe(400);
      expect(res.data).toEqual({ error: "mode" });
    }
    for (const permissions of [256, -1]) {
      const res = await setDefault({ auth: alice }, token, { permissions });
      expect(res.status, String(permissions)).toBe(400);
      expect(res.data).toEqual({ error: "value" });
    }
    for (const body of [{}, { permissions: "abc" }, { permissions: 2.5 }, { permissions: [6] }, { permissions: "9".repeat(300) }]) {
      const res = await setDefault({ auth: alice }, token, body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
    }
    const oneToOne = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 1, invite: bob.user } });
    const type = await setDefault({ auth: alice }, oneToOne.data.token, { permissions: 6 });
    expect(type.status).toBe(400);
    expect(type.data).toEqual({ error: "type" });
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).data.defaultPermissions).toBe(0);
    expect((await ocs("GET", `${V4}/room/${oneToOne.data.token}`, { auth: alice })).data.defaultPermissions).toBe(0);
  });
});
