/**
 * Talk participants (seed 002, reference §6.2): list, add, remove, leave for good, promote and
 * demote, resend invitations and guest display names — every status row of the seed.
 */
import { describe, expect, it } from "vitest";
import { ADMIN, CookieJar, createUser, env, ocs, unique, type Credentials } from "./helpers/http";

const V4 = "/ocs/v2.php/apps/spreed/api/v4";
const V1 = "/ocs/v2.php/apps/spreed/api/v1";

type User = Credentials & { id: string };

async function createRoom(owner: User, roomType = 2, roomName = "Room"): Promise<string> {
  const res = await ocs("POST", `${V4}/room`, { auth: owner, body: { roomType, roomName } });
  expect(res.status).toBe(201);
  return res.data.token as string;
}

async function createOneToOne(a: User, b: User): Promise<string> {
  const res = await ocs("POST", `${V4}/room`, { auth: a, body: { roomType: 1, invite: b.user } });
  expect(res.status).toBe(201);
  return res.data.token as string;
}

async function createGroup(displayname = "Group"): Promise<string> {
  const groupid = unique("grp");
  const res = await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid, displayname } });
  expect(res.status).toBe(200);
  return groupid;
}

async function addUser(owner: User, token: string, user: User): Promise<void> {
  const res = await ocs("POST", `${V4}/room/${token}/participants`, { auth: owner, body: { newParticipant: user.user } });
  expect(res.status).toBe(200);
}

async function list(token: string, who: { auth?: User; jar?: CookieJar }) {
  const res = await ocs("GET", `${V4}/room/${token}/participants`, who);
  expect(res.status).toBe(200);
  return res.data as any[];
}

function find(participants: any[], actorType: string, actorId: string) {
  return participants.find((p) => p.actorType === actorType && p.actorId === actorId);
}

async function attendeeOf(token: string, owner: User, actorType: string, actorId: string): Promise<any> {
  const found = find(await list(token, { auth: owner }), actorType, actorId);
  expect(found).toBeDefined();
  return found;
}

/** An anonymous guest joining a public room: their cookie jar and join answer. */
async function joinGuest(token: string) {
  const jar = new CookieJar();
  const res = await ocs("POST", `${V4}/room/${token}/participants/active`, { jar });
  expect(res.status).toBe(200);
  return { jar, attendeeId: res.data.attendeeId as number, actorId: res.data.actorId as string, sessionId: res.data.sessionId as string };
}

async function promote(by: { auth?: User; jar?: CookieJar }, token: string, attendeeId: number): Promise<void> {
  const res = await ocs("POST", `${V4}/room/${token}/moderators`, { ...by, body: { attendeeId } });
  expect(res.status).toBe(200);
}

async function outboxFor(token: string) {
  const { results } = await env.DB.prepare("SELECT recipient, template, payload FROM email_outbox WHERE payload LIKE ? ORDER BY id")
    .bind(`%${token}%`)
    .all<{ recipient: string; template: string; payload: string }>();
  return results;
}

async function roomTokensOf(user: User): Promise<string[]> {
  const res = await ocs("GET", `${V4}/room`, { auth: user });
  expect(res.status).toBe(200);
  return (res.data as any[]).map((r) => r.token);
}

describe("GET participants", () => {
  it("lists every attendee with the participant fields", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice, 3, "Listing");
    await addUser(alice, token, bob);
    const aliceJar = new CookieJar();
    const joined = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar: aliceJar });
    expect(joined.status).toBe(200);
    const guest = await joinGuest(token);

    const res = await ocs("GET", `${V4}/room/${token}/participants`, { auth: alice });
    expect(res.status).toBe(200);
    expect(res.data).toHaveLength(3);
    const owner = find(res.data, "users", alice.user);
    expect(owner).toEqual({
      roomToken: token,
      attendeeId: joined.data.attendeeId,
      actorType: "users",
      actorId: alice.user,
      displayName: `alice ${alice.user}`,
      participantType: 1,
      inCall: 0,
      lastPing: expect.any(Number),
      sessionIds: [joined.data.sessionId],
      permissions: 254,
      attendeePermissions: 0,
      attendeePin: "",
    });
    expect(owner.lastPing).toBeGreaterThan(0);
    expect(find(res.data, "users", bob.user)).toEqual({
      roomToken: token,
      attendeeId: expect.any(Number),
      actorType: "users",
      actorId: bob.user,
      displayName: `bob ${bob.user}`,
      participantType: 3,
      inCall: 0,
      lastPing: 0,
      sessionIds: [],
      permissions: 246,
      attendeePermissions: 0,
      attendeePin: "",
    });
    expect(find(res.data, "guests", guest.actorId)).toMatchObject({
      attendeeId: guest.attendeeId,
      displayName: "",
      participantType: 4,
      sessionIds: [guest.sessionId],
      permissions: 246,
      attendeePermissions: 0,
    });
    // Invited users see the same list.
    expect(await list(token, { auth: bob })).toHaveLength(3);
  });

  it("shows the invited address of email attendees to moderators only", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice, 3, "Emails");
    await addUser(alice, token, bob);
    const email = `${unique("guest")}@example.test`;
    expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: email, source: "emails" } })).status).toBe(200);
    const asOwner = (await list(token, { auth: alice })).find((p) => p.actorType === "emails");
    expect(asOwner).toMatchObject({ participantType: 4, invitedActorId: email, displayName: "" });
    const asUser = (await list(token, { auth: bob })).find((p) => p.actorType === "emails");
    expect(asUser).toBeDefined();
    expect(asUser).not.toHaveProperty("invitedActorId");
    // The actor id is the SHA-256 of the (lowercased) address, as spreed computes it.
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(email.toLowerCase())));
    expect(asUser.actorId).toBe([...digest].map((b) => b.toString(16).padStart(2, "0")).join(""));
    expect(asUser.actorId).toBe(asOwner.actorId);
  });

  it("forbids plain guests (403) but lets guest moderators list", async () => {
    const alice = await createUser("alice");
    const token = await createRoom(alice, 3, "Guests");
    const guest = await joinGuest(token);
    const denied = await ocs("GET", `${V4}/room/${token}/participants`, { jar: guest.jar });
    expect(denied.status).toBe(403);
    await promote({ auth: alice }, token, guest.attendeeId);
    const allowed = await ocs("GET", `${V4}/room/${token}/participants`, { jar: guest.jar });
    expect(allowed.status).toBe(200);
    expect(find(allowed.data, "guests", guest.actorId)).toMatchObject({ participantType: 6, permissions: 254 });
  });

  it("answers 404 for unknown rooms and non-participants", async () => {
    const alice = await createUser("alice");
    const stranger = await createUser("stranger");
    const pub = await createRoom(alice, 3, "Public");
    const grp = await createRoom(alice, 2, "Group");
    const unknown = await ocs("GET", `${V4}/room/nosuchtoken/participants`, { auth: alice });
    expect(unknown.status).toBe(404);
    expect(unknown.data).toEqual([]);
    expect((await ocs("GET", `${V4}/room/${grp}/participants`, { auth: stranger })).status).toBe(404);
    expect((await ocs("GET", `${V4}/room/${pub}/participants`, { auth: stranger })).status).toBe(404);
    // An anonymous caller without a session in the room is no participant either.
    expect((await ocs("GET", `${V4}/room/${pub}/participants`, { jar: new CookieJar() })).status).toBe(404);
  });

  it("answers 412 while the lobby holds the caller back (moderators and 'ignore lobby' pass)", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const token = await createRoom(alice, 2, "Webinar");
    await addUser(alice, token, bob);
    await addUser(alice, token, carol);
    const carolId = (await attendeeOf(token, alice, "users", carol.user)).attendeeId;
    const bypass = await ocs("PUT", `${V4}/room/${token}/attendees/permissions`, { auth: alice, body: { attendeeId: carolId, method: "add", permissions: 8 } });
    expect(bypass.status).toBe(200);

    const lobby = await ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { auth: alice, body: { state: 1 } });
    expect(lobby.status).toBe(200);
    const held = await ocs("GET", `${V4}/room/${token}/participants`, { auth: bob });
    expect(held.status).toBe(412);
    expect((await ocs("GET", `${V4}/room/${token}/participants`, { auth: alice })).status).toBe(200);
    expect((await ocs("GET", `${V4}/room/${token}/participants`, { auth: carol })).status).toBe(200);
  });

  it("validates includeStatus", async () => {
    const alice = await createUser("alice");
    const token = await createRoom(alice);
    const bad = await ocs("GET", `${V4}/room/${token}/participants`, { auth: alice, query: { includeStatus: "maybe" } });
    expect(bad.status).toBe(400);
    const good = await ocs("GET", `${V4}/room/${token}/participants`, { auth: alice, query: { includeStatus: "true" } });
    expect(good.status).toBe(200);
    expect(good.data).toHaveLength(1);
  });
});

describe("POST participants", () => {
  it("adds a user as type 3 (data []), who then sees the room", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    const res = await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: bob.user } });
    expect(res.status).toBe(200);
    expect(res.data).toEqual([]);
    expect(await attendeeOf(token, alice, "users", bob.user)).toMatchObject({ participantType: 3, displayName: `bob ${bob.user}`, permissions: 246 });
    expect(await roomTokensOf(bob)).toContain(token);
    // Adding them again is a no-op.
    const again = await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: bob.user, source: "users" } });
    expect(again.status).toBe(200);
    expect(again.data).toEqual([]);
    expect((await list(token, { auth: alice })).filter((p) => p.actorId === bob.user)).toHaveLength(1);
  });

  it("adds a group attendee and its members", async () => {
    const alice = await createUser("alice");
    const group = await createGroup("Designers");
    const m1 = await createUser("m1", { groups: [group] });
    const m2 = await createUser("m2", { groups: [group] });
    const token = await createRoom(alice);
    const res = await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: group, source: "groups" } });
    expect(res.status).toBe(200);
    expect(res.data).toEqual([]);
    const participants = await list(token, { auth: alice });
    expect(find(participants, "groups", group)).toMatchObject({ participantType: 3, displayName: "Designers" });
    expect(find(participants, "users", m1.user)).toMatchObject({ participantType: 3 });
    expect(find(participants, "users", m2.user)).toMatchObject({ participantType: 3 });
    expect(participants).toHaveLength(4);
    expect(await roomTokensOf(m2)).toContain(token);
  });

  it("invites an email address: the group room turns public and an invitation is queued", async () => {
    const alice = await createUser("alice");
    const token = await createRoom(alice, 2, "Invite by mail");
    const address = `${unique("Guest")}@Example.test`;
    const res = await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: address, source: "emails" } });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ type: 3 });
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).data.type).toBe(3);

    const invitee = (await list(token, { auth: alice })).find((p) => p.actorType === "emails");
    expect(invitee).toMatchObject({ actorType: "emails", participantType: 4, invitedActorId: address.toLowerCase(), permissions: 246 });
    expect(invitee.actorId).toMatch(/^[0-9a-f]{64}$/);

    const mails = await outboxFor(token);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.recipient).toBe(address.toLowerCase());
    expect(mails[0]?.template).toBe("talk.invitation");
    expect(JSON.parse(mails[0]?.payload ?? "{}")).toMatchObject({ roomToken: token });

    // The room is public now: a second address answers [] and queues its own invitation.
    const second = await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: `${unique("other")}@example.test`, source: "emails" } });
    expect(second.status).toBe(200);
    expect(second.data).toEqual([]);
    expect(await outboxFor(token)).toHaveLength(2);
  });

  it("turns a self-joined user (5) into an invited user (3)", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice, 3, "Open");
    const joined = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: bob, jar: new CookieJar() });
    expect(joined.data.participantType).toBe(5);
    await addUser(alice, token, bob);
    expect(await attendeeOf(token, alice, "users", bob.user)).toMatchObject({ participantType: 3, attendeeId: joined.data.attendeeId });
  });

  it("answers the seed's error rows", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const stranger = await createUser("stranger");
    const token = await createRoom(alice, 3, "Errors");
    await addUser(alice, token, bob);
    const add = (who: { auth?: User; jar?: CookieJar }, body: Record<string, unknown>, t = token) =>
      ocs("POST", `${V4}/room/${t}/participants`, { ...who, body });

    const guest = await joinGuest(token);
    expect((await add({ jar: guest.jar }, { newParticipant: carol.user })).status).toBe(401);
    expect((await add({}, { newParticipant: carol.user })).status).toBe(401);

    for (const source of ["teams", "circles", "phones", "nonsense"]) {
      const res = await add({ auth: alice }, { newParticipant: carol.user, source });
      expect(res.status).toBe(400);
      expect(res.data).toEqual({ error: "source" });
    }

    const oneToOne = await createOneToOne(alice, bob);
    const roomType = await add({ auth: alice }, { newParticipant: carol.user }, oneToOne);
    expect(roomType.status).toBe(400);
    expect(roomType.data).toEqual({ error: "room-type" });

    const notModerator = await add({ auth: bob }, { newParticipant: carol.user });
    expect(notModerator.status).toBe(403);
    expect(notModerator.data).toEqual([]);

    expect((await add({ auth: alice }, { newParticipant: carol.user }, "nosuchtoken")).status).toBe(404);
    expect((await add({ auth: stranger }, { newParticipant: carol.user })).status).toBe(404);

    const unknownUser = await add({ auth: alice }, { newParticipant: unique("nobody") });
    expect(unknownUser.status).toBe(404);
    expect(unknownUser.data).toEqual({ error: "new-participant" });
    const unknownGroup = await add({ auth: alice }, { newParticipant: unique("nogroup"), source: "groups" });
    expect(unknownGroup.status).toBe(404);
    expect(unknownGroup.data).toEqual({ error: "new-participant" });

    for (const email of ["not-an-address", "two@@example.test", "spaces in@example.test"]) {
      const res = await add({ auth: alice }, { newParticipant: email, source: "emails" });
      expect(res.status).toBe(400);
      // The reference's document for this operation has no `email`: a bad address is a bad new participant.
      expect(res.data).toEqual({ error: "new-participant" });
    }
    expect(await outboxFor(token)).toHaveLength(0);
    const participants = await list(token, { auth: alice });
    expect(participants.map((p) => p.actorType).sort()).toEqual(["guests", "users", "users"]);
  });

  it("rejects bad input with 400 and changes nothing", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    for (const body of [
      {},
      { newParticipant: "" },
      { newParticipant: 42 },
      { newParticipant: [bob.user] },
      { newParticipant: "x".repeat(256) },
      { newParticipant: bob.user, source: 7 },
      { newParticipant: bob.user, source: "x".repeat(300) },
    ]) {
      const res = await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(await list(token, { auth: alice })).toHaveLength(1);
    expect(await roomTokensOf(bob)).not.toContain(token);
  });
});

describe("DELETE attendees", () => {
  it("lets a moderator remove a user, who loses the room", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    await addUser(alice, token, bob);
    const bobId = (await attendeeOf(token, alice, "users", bob.user)).attendeeId;
    expect(await roomTokensOf(bob)).toContain(token);
    const res = await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: alice, body: { attendeeId: bobId } });
    expect(res.status).toBe(200);
    expect(find(await list(token, { auth: alice }), "users", bob.user)).toBeUndefined();
    expect(await roomTokensOf(bob)).not.toContain(token);
    expect((await ocs("GET", `${V4}/room/${token}/participants`, { auth: bob })).status).toBe(404);
  });

  it("lets a guest moderator remove a user and a guest", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice, 3, "Guest mods");
    await addUser(alice, token, bob);
    const mod = await joinGuest(token);
    const plain = await joinGuest(token);
    await promote({ auth: alice }, token, mod.attendeeId);
    const bobId = (await attendeeOf(token, alice, "users", bob.user)).attendeeId;
    expect((await ocs("DELETE", `${V4}/room/${token}/attendees`, { jar: mod.jar, body: { attendeeId: bobId } })).status).toBe(200);
    expect((await ocs("DELETE", `${V4}/room/${token}/attendees`, { jar: mod.jar, body: { attendeeId: plain.attendeeId } })).status).toBe(200);
    const remaining = await list(token, { auth: alice });
    expect(remaining.map((p) => p.attendeeId).sort((a, b) => a - b)).toEqual(
      [(await attendeeOf(token, alice, "users", alice.user)).attendeeId, mod.attendeeId].sort((a, b) => a - b),
    );
  });

  it("protects owners (403 owner) and moderators (400 moderator)", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const token = await createRoom(alice, 3, "Protected");
    await addUser(alice, token, bob);
    await addUser(alice, token, carol);
    const ids = {
      alice: (await attendeeOf(token, alice, "users", alice.user)).attendeeId,
      bob: (await attendeeOf(token, alice, "users", bob.user)).attendeeId,
      carol: (await attendeeOf(token, alice, "users", carol.user)).attendeeId,
    };
    await promote({ auth: alice }, token, ids.bob);
    await promote({ auth: alice }, token, ids.carol);
    const guestMod = await joinGuest(token);
    await promote({ auth: alice }, token, guestMod.attendeeId);

    const owner = await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: bob, body: { attendeeId: ids.alice } });
    expect(owner.status).toBe(403);
    expect(owner.data).toEqual({ error: "owner" });
    const moderator = await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: bob, body: { attendeeId: ids.carol } });
    expect(moderator.status).toBe(400);
    expect(moderator.data).toEqual({ error: "participant" });
    const guestModerator = await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: alice, body: { attendeeId: guestMod.attendeeId } });
    expect(guestModerator.status).toBe(400);
    expect(guestModerator.data).toEqual({ error: "participant" });
    expect(await list(token, { auth: alice })).toHaveLength(4);
  });

  it("answers 404 participant for an unknown attendee id", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    await addUser(alice, token, bob);
    const missing = await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: alice, body: { attendeeId: 999999 } });
    expect(missing.status).toBe(404);
    expect(missing.data).toEqual({ error: "participant" });
    expect(await list(token, { auth: alice })).toHaveLength(2);
  });

  it("answers 400 room-type, 403 for non-moderators and 404 for strangers", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const stranger = await createUser("stranger");
    const oneToOne = await createOneToOne(alice, bob);
    const bobInOne = (await attendeeOf(oneToOne, alice, "users", bob.user)).attendeeId;
    const roomType = await ocs("DELETE", `${V4}/room/${oneToOne}/attendees`, { auth: alice, body: { attendeeId: bobInOne } });
    expect(roomType.status).toBe(400);
    expect(roomType.data).toEqual({ error: "room-type" });

    const token = await createRoom(alice);
    await addUser(alice, token, bob);
    await addUser(alice, token, carol);
    const carolId = (await attendeeOf(token, alice, "users", carol.user)).attendeeId;
    const notModerator = await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: bob, body: { attendeeId: carolId } });
    expect(notModerator.status).toBe(403);
    expect(notModerator.data).toEqual([]);
    expect((await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: stranger, body: { attendeeId: carolId } })).status).toBe(404);
    expect((await ocs("DELETE", `${V4}/room/nosuchtoken/attendees`, { auth: alice, body: { attendeeId: carolId } })).status).toBe(404);
    expect(await list(token, { auth: alice })).toHaveLength(3);
  });

  it("applies the leave rules when the target is the caller", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    await addUser(alice, token, bob);
    const aliceId = (await attendeeOf(token, alice, "users", alice.user)).attendeeId;
    const last = await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: alice, body: { attendeeId: aliceId } });
    expect(last.status).toBe(400);
    expect(last.data).toEqual({ error: "last-moderator" });

    const solo = await createRoom(alice, 2, "Solo");
    const soloId = (await attendeeOf(solo, alice, "users", alice.user)).attendeeId;
    expect((await ocs("DELETE", `${V4}/room/${solo}/attendees`, { auth: alice, body: { attendeeId: soloId } })).status).toBe(200);
    expect((await ocs("GET", `${V4}/room/${solo}`, { auth: alice })).status).toBe(404);
  });

  it("rejects bad attendee ids with 400", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    await addUser(alice, token, bob);
    for (const body of [{}, { attendeeId: "abc" }, { attendeeId: 1.5 }, { attendeeId: [1] }, { attendeeId: "x".repeat(5000) }]) {
      const res = await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: alice, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(await list(token, { auth: alice })).toHaveLength(2);
  });
});

describe("DELETE participants/self", () => {
  it("refuses the last moderator while other members remain (400 last-moderator)", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    await addUser(alice, token, bob);
    const res = await ocs("DELETE", `${V4}/room/${token}/participants/self`, { auth: alice });
    expect(res.status).toBe(400);
    expect(res.data).toEqual({ error: "last-moderator" });
    expect(await roomTokensOf(alice)).toContain(token);
  });

  it("does not count self-joined users and guests as remaining members", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice, 3, "Almost empty");
    await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: bob, jar: new CookieJar() });
    await joinGuest(token);
    const res = await ocs("DELETE", `${V4}/room/${token}/participants/self`, { auth: alice });
    expect(res.status).toBe(200);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).status).toBe(404);
  });

  it("deletes the room when the only member leaves", async () => {
    const alice = await createUser("alice");
    const token = await createRoom(alice);
    const res = await ocs("DELETE", `${V4}/room/${token}/participants/self`, { auth: alice });
    expect(res.status).toBe(200);
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).status).toBe(404);
    expect(await roomTokensOf(alice)).not.toContain(token);
  });

  it("removes a plain member, and a moderator when another moderator remains", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const token = await createRoom(alice);
    await addUser(alice, token, bob);
    await addUser(alice, token, carol);
    expect((await ocs("DELETE", `${V4}/room/${token}/participants/self`, { auth: bob })).status).toBe(200);
    expect(find(await list(token, { auth: alice }), "users", bob.user)).toBeUndefined();
    expect(await roomTokensOf(bob)).not.toContain(token);

    await promote({ auth: alice }, token, (await attendeeOf(token, alice, "users", carol.user)).attendeeId);
    expect((await ocs("DELETE", `${V4}/room/${token}/participants/self`, { auth: alice })).status).toBe(200);
    const remaining = await list(token, { auth: carol });
    expect(remaining.map((p) => p.actorId)).toEqual([carol.user]);
  });

  it("lets one user leave a one-to-one while the room stays for the other", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createOneToOne(alice, bob);
    expect((await ocs("DELETE", `${V4}/room/${token}/participants/self`, { auth: alice })).status).toBe(200);
    expect(await roomTokensOf(alice)).not.toContain(token);
    expect(await roomTokensOf(bob)).toContain(token);
  });

  it("answers 401 for guests and 404 for non-participants", async () => {
    const alice = await createUser("alice");
    const stranger = await createUser("stranger");
    const token = await createRoom(alice, 3, "Public");
    const guest = await joinGuest(token);
    expect((await ocs("DELETE", `${V4}/room/${token}/participants/self`, { jar: guest.jar })).status).toBe(401);
    expect((await ocs("DELETE", `${V4}/room/${token}/participants/self`, { auth: stranger })).status).toBe(404);
    expect((await ocs("DELETE", `${V4}/room/nosuchtoken/participants/self`, { auth: alice })).status).toBe(404);
    expect(await list(token, { auth: alice })).toHaveLength(2);
  });
});

describe("POST/DELETE moderators", () => {
  it("promotes users (3→2) and guests (4→6) and demotes them back", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice, 3, "Mods");
    await addUser(alice, token, bob);
    const bobId = (await attendeeOf(token, alice, "users", bob.user)).attendeeId;
    const guest = await joinGuest(token);

    const up = await ocs("POST", `${V4}/room/${token}/moderators`, { auth: alice, body: { attendeeId: bobId } });
    expect(up.status).toBe(200);
    await promote({ auth: alice }, token, guest.attendeeId);
    let participants = await list(token, { auth: alice });
    expect(find(participants, "users", bob.user)).toMatchObject({ participantType: 2, permissions: 254 });
    expect(find(participants, "guests", guest.actorId)).toMatchObject({ participantType: 6, permissions: 254 });
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: bob })).data).toMatchObject({ participantType: 2, canDeleteConversation: true });

    const down = await ocs("DELETE", `${V4}/room/${token}/moderators`, { auth: alice, body: { attendeeId: bobId } });
    expect(down.status).toBe(200);
    // A guest moderator may demote another moderator too.
    await promote({ jar: guest.jar }, token, bobId);
    expect((await ocs("DELETE", `${V4}/room/${token}/moderators`, { jar: guest.jar, body: { attendeeId: bobId } })).status).toBe(200);
    expect((await ocs("DELETE", `${V4}/room/${token}/moderators`, { auth: alice, body: { attendeeId: guest.attendeeId } })).status).toBe(200);
    participants = await list(token, { auth: alice });
    expect(find(participants, "users", bob.user)).toMatchObject({ participantType: 3, permissions: 246 });
    expect(find(participants, "guests", guest.actorId)).toMatchObject({ participantType: 4, permissions: 246 });
  });

  it("resets the attendee's own permissions on promotion", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice);
    await addUser(alice, token, bob);
    const bobId = (await attendeeOf(token, alice, "users", bob.user)).attendeeId;
    const set = await ocs("PUT", `${V4}/room/${token}/attendees/permissions`, { auth: alice, body: { attendeeId: bobId, method: "set", permissions: 4 } });
    expect(set.status).toBe(200);
    expect(await attendeeOf(token, alice, "users", bob.user)).toMatchObject({ attendeePermissions: 5, permissions: 5 });
    await promote({ auth: alice }, token, bobId);
    expect(await attendeeOf(token, alice, "users", bob.user)).toMatchObject({ participantType: 2, attendeePermissions: 0, permissions: 254 });
  });

  it("refuses self (403 self), owners (403 owner) and other types (400 participant-type)", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const dave = await createUser("dave");
    const group = await createGroup("Crew");
    const token = await createRoom(alice, 3, "Types");
    await addUser(alice, token, bob);
    await addUser(alice, token, carol);
    expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: group, source: "groups" } })).status).toBe(200);
    const selfJoined = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: dave, jar: new CookieJar() });
    expect(selfJoined.data.participantType).toBe(5);
    const guest = await joinGuest(token);
    const ids = {
      alice: (await attendeeOf(token, alice, "users", alice.user)).attendeeId,
      bob: (await attendeeOf(token, alice, "users", bob.user)).attendeeId,
      carol: (await attendeeOf(token, alice, "users", carol.user)).attendeeId,
      group: (await attendeeOf(token, alice, "groups", group)).attendeeId,
      dave: selfJoined.data.attendeeId as number,
    };
    await promote({ auth: alice }, token, ids.bob);
    await promote({ auth: alice }, token, guest.attendeeId);
    const mod = (method: string, by: User, attendeeId: number) => ocs(method, `${V4}/room/${token}/moderators`, { auth: by, body: { attendeeId } });

    for (const method of ["POST", "DELETE"]) {
      const self = await mod(method, bob, ids.bob);
      expect(self.status).toBe(403);
      expect(self.data).toEqual({ error: "self" });
      const owner = await mod(method, bob, ids.alice);
      expect(owner.status).toBe(403);
      expect(owner.data).toEqual({ error: "owner" });
      const groupTarget = await mod(method, alice, ids.group);
      expect(groupTarget.status).toBe(400);
      expect(groupTarget.data).toEqual({ error: "participant-type" });
    }
    for (const target of [ids.bob, guest.attendeeId]) {
      const res = await mod("POST", alice, target);
      expect(res.status).toBe(400);
      expect(res.data).toEqual({ error: "participant-type" });
    }
    for (const target of [ids.carol, ids.dave]) {
      const res = await mod("DELETE", alice, target);
      expect(res.status).toBe(400);
      expect(res.data).toEqual({ error: "participant-type" });
    }
    // A self-joined user may be promoted (spreed's promotion-demotion.feature): they become a moderator.
    expect((await mod("POST", alice, ids.dave)).status).toBe(200);
    const participants = await list(token, { auth: alice });
    expect(find(participants, "users", bob.user).participantType).toBe(2);
    expect(find(participants, "users", carol.user).participantType).toBe(3);
    expect(find(participants, "users", dave.user).participantType).toBe(2);
    expect(find(participants, "guests", guest.actorId).participantType).toBe(6);
  });

  it("answers 404 participant for an unknown attendee id", async () => {
    const alice = await createUser("alice");
    const token = await createRoom(alice);
    for (const method of ["POST", "DELETE"]) {
      const missing = await ocs(method, `${V4}/room/${token}/moderators`, { auth: alice, body: { attendeeId: 999999 } });
      expect(missing.status).toBe(404);
      expect(missing.data).toEqual({ error: "participant" });
    }
  });

  it("answers 403 for non-moderators, 404 for strangers and 400 for bad ids", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const carol = await createUser("carol");
    const stranger = await createUser("stranger");
    const token = await createRoom(alice);
    await addUser(alice, token, bob);
    await addUser(alice, token, carol);
    const carolId = (await attendeeOf(token, alice, "users", carol.user)).attendeeId;
    for (const method of ["POST", "DELETE"]) {
      const notModerator = await ocs(method, `${V4}/room/${token}/moderators`, { auth: bob, body: { attendeeId: carolId } });
      expect(notModerator.status).toBe(403);
      expect(notModerator.data).toEqual([]);
      expect((await ocs(method, `${V4}/room/${token}/moderators`, { auth: stranger, body: { attendeeId: carolId } })).status).toBe(404);
      expect((await ocs(method, `${V4}/room/nosuchtoken/moderators`, { auth: alice, body: { attendeeId: carolId } })).status).toBe(404);
      for (const body of [{}, { attendeeId: "abc" }, { attendeeId: null }, { attendeeId: "9".repeat(400) }]) {
        const res = await ocs(method, `${V4}/room/${token}/moderators`, { auth: alice, body });
        expect(res.status, `${method} ${JSON.stringify(body)}`).toBe(400);
      }
    }
    expect((await attendeeOf(token, alice, "users", carol.user)).participantType).toBe(3);
  });
});

describe("POST participants/resend-invitations", () => {
  it("queues one invitation per email invitee, or for the one given", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const token = await createRoom(alice, 3, "Resend");
    await addUser(alice, token, bob);
    const first = `${unique("first")}@example.test`;
    const second = `${unique("second")}@example.test`;
    for (const address of [first, second]) {
      expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: address, source: "emails" } })).status).toBe(200);
    }
    expect(await outboxFor(token)).toHaveLength(2);

    const all = await ocs("POST", `${V4}/room/${token}/participants/resend-invitations`, { auth: alice });
    expect(all.status).toBe(200);
    const afterAll = await outboxFor(token);
    expect(afterAll).toHaveLength(4);
    expect(afterAll.slice(2).map((m) => m.recipient).sort()).toEqual([first, second].sort());
    expect(afterAll.every((m) => m.template === "talk.invitation" && JSON.parse(m.payload).roomToken === token)).toBe(true);

    const secondId = (await list(token, { auth: alice })).find((p) => p.invitedActorId === second).attendeeId;
    const one = await ocs("POST", `${V4}/room/${token}/participants/resend-invitations`, { auth: alice, body: { attendeeId: secondId } });
    expect(one.status).toBe(200);
    const afterOne = await outboxFor(token);
    expect(afterOne).toHaveLength(5);
    expect(afterOne[4]?.recipient).toBe(second);

    // A user attendee has no invitation to resend.
    const bobId = (await attendeeOf(token, alice, "users", bob.user)).attendeeId;
    expect((await ocs("POST", `${V4}/room/${token}/participants/resend-invitations`, { auth: alice, body: { attendeeId: bobId } })).status).toBe(200);
    expect(await outboxFor(token)).toHaveLength(5);
  });

  it("answers 401 for guests, 403 for non-moderators, 404 for unknown attendees and rooms", async () => {
    const alice = await createUser("alice");
    const bob = await createUser("bob");
    const stranger = await createUser("stranger");
    const token = await createRoom(alice, 3, "Resend errors");
    await addUser(alice, token, bob);
    expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: `${unique("x")}@example.test`, source: "emails" } })).status).toBe(200);
    const guest = await joinGuest(token);
    await promote({ auth: alice }, token, guest.attendeeId);
    const resend = (who: { auth?: User; jar?: CookieJar }, body?: Record<string, unknown>, t = token) =>
      ocs("POST", `${V4}/room/${t}/participants/resend-invitations`, { ...who, body });

    expect((await resend({ jar: guest.jar })).status).toBe(401);
    expect((await resend({})).status).toBe(401);
    const notModerator = await resend({ auth: bob });
    expect(notModerator.status).toBe(403);
    expect(notModerator.data).toEqual([]);
    expect((await resend({ auth: alice }, { attendeeId: 999999 })).status).toBe(404);
    expect((await resend({ auth: stranger })).status).toBe(404);
    expect((await resend({ auth: alice }, undefined, "nosuchtoken")).status).toBe(404);
    expect((await resend({ auth: alice }, { attendeeId: "abc" })).status).toBe(400);
    expect(await outboxFor(token)).toHaveLength(1);
  });
});

describe("POST v1 guest/{token}/name", () => {
  it("lets a guest name themselves; the owner sees the name", async () => {
    const alice = await createUser("alice");
    const token = await createRoom(alice, 3, "Names");
    const guest = await joinGuest(token);
    const res = await ocs("POST", `${V1}/guest/${token}/name`, { jar: guest.jar, body: { displayName: "Gail Guest" } });
    expect(res.status).toBe(200);
    expect(res.data).toBeNull();
    expect(find(await list(token, { auth: alice }), "guests", guest.actorId)).toMatchObject({ displayName: "Gail Guest", participantType: 4 });

    // Guest moderators are guests too.
    await promote({ auth: alice }, token, guest.attendeeId);
    expect((await ocs("POST", `${V1}/guest/${token}/name`, { jar: guest.jar, body: { displayName: "Gail Moderator" } })).status).toBe(200);
    expect(find(await list(token, { auth: alice }), "guests", guest.actorId).displayName).toBe("Gail Moderator");
  });

  it("answers 403 guest for users and 404 without a session", async () => {
    const alice = await createUser("alice");
    const token = await createRoom(alice, 3, "Names");
    const other = await createRoom(alice, 3, "Other");
    const user = await ocs("POST", `${V1}/guest/${token}/name`, { auth: alice, body: { displayName: "Not a guest" } });
    expect(user.status).toBe(403);
    expect(user.data).toEqual({ error: "guest" });
    expect((await ocs("POST", `${V1}/guest/${token}/name`, { jar: new CookieJar(), body: { displayName: "Nobody" } })).status).toBe(404);
    const guest = await joinGuest(other);
    expect((await ocs("POST", `${V1}/guest/${token}/name`, { jar: guest.jar, body: { displayName: "Wrong room" } })).status).toBe(404);
    expect((await ocs("POST", `${V1}/guest/nosuchtoken/name`, { jar: guest.jar, body: { displayName: "Nowhere" } })).status).toBe(404);
    expect(find(await list(token, { auth: alice }), "users", alice.user).displayName).toBe(`alice ${alice.user}`);
  });

  it("rejects bad names with 400 and keeps the old one", async () => {
    const alice = await createUser("alice");
    const token = await createRoom(alice, 3, "Names");
    const guest = await joinGuest(token);
    expect((await ocs("POST", `${V1}/guest/${token}/name`, { jar: guest.jar, body: { displayName: "Kept" } })).status).toBe(200);
    for (const body of [{}, { displayName: 42 }, { displayName: ["a"] }, { displayName: "x".repeat(256) }]) {
      const res = await ocs("POST", `${V1}/guest/${token}/name`, { jar: guest.jar, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect(find(await list(token, { auth: alice }), "guests", guest.actorId).displayName).toBe("Kept");
  });
});

describe("large groups (D1 binds at most 100 parameters per statement)", () => {
  it("creates a conversation for a group of 101, lists its participants and shows it in the last member's list", async () => {
    const group = unique("big");
    expect((await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: group } })).status).toBe(200);
    const members: Credentials[] = [];
    for (let i = 0; i < 101; i++) members.push(await createUser("bigmember", { groups: [group] }));
    const owner = members[0] as Credentials;
    const created = await ocs("POST", `${V4}/room`, { auth: owner, body: { roomType: 2, roomName: "Everyone", invite: group } });
    expect(created.status).toBe(201);
    const token = created.data.token as string;
    const list = await ocs("GET", `${V4}/room/${token}/participants`, { auth: owner, query: { includeStatus: "true" } });
    expect(list.status).toBe(200);
    expect(list.data.filter((p: { actorType: string }) => p.actorType === "users")).toHaveLength(101);
    // The last member's conversation list shows the room from the index.
    const theirs = await ocs("GET", `${V4}/room`, { auth: members[100] as Credentials });
    expect(theirs.data.map((r: { token: string }) => r.token)).toContain(token);
  }, 60_000);
});

describe("group attendees are followed", () => {
  const attendees = async (token: string, owner: Credentials) =>
    ((await ocs("GET", `${V4}/room/${token}/participants`, { auth: owner })).data as { actorType: string; actorId: string; participantType: number }[])
      .map((p) => `${p.actorType}/${p.actorId}/${p.participantType}`)
      .sort();
  const member = (userid: string, group: string, method: "POST" | "DELETE") => ocs(method, `/ocs/v2.php/cloud/users/${userid}/groups`, { auth: ADMIN, body: { groupid: group } });

  it("adds a user who joins the group, removes one who leaves it unless another attendee group or moderation keeps them", async () => {
    const [g1, g2] = [unique("fg1"), unique("fg2")];
    for (const g of [g1, g2]) expect((await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: g } })).status).toBe(200);
    const owner = await createUser("gfowner");
    const stays = await createUser("gfstays", { groups: [g1, g2] });
    const leaves = await createUser("gfleaves", { groups: [g1] });
    const joiner = await createUser("gfjoiner");
    const created = await ocs("POST", `${V4}/room`, { auth: owner, body: { roomType: 3, roomName: "Groups", source: "groups", invite: g1 } });
    const token = created.data.token as string;
    expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: owner, body: { newParticipant: g2, source: "groups" } })).status).toBe(200);
    // A self-joined user whose group is an attendee becomes a member when they join the group.
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: joiner, jar: new CookieJar() })).status).toBe(200);
    expect((await member(joiner.user, g1, "POST")).status).toBe(200);
    expect(await attendees(token, owner)).toEqual(
      [`groups/${g1}/3`, `groups/${g2}/3`, `users/${owner.user}/1`, `users/${stays.user}/3`, `users/${leaves.user}/3`, `users/${joiner.user}/3`].sort(),
    );
    // Leaving group 1: the user without another attendee group goes, the one in group 2 stays.
    expect((await member(leaves.user, g1, "DELETE")).status).toBe(200);
    expect((await member(stays.user, g1, "DELETE")).status).toBe(200);
    expect(await attendees(token, owner)).not.toContain(`users/${leaves.user}/3`);
    expect(await attendees(token, owner)).toContain(`users/${stays.user}/3`);
    // The room list follows the room object (the user no longer sees it).
    expect(((await ocs("GET", `${V4}/room`, { auth: leaves })).data as { token: string }[]).map((r) => r.token)).not.toContain(token);
    // Removing group 2 takes its plain members along; a moderator stays.
    const joinerId = ((await ocs("GET", `${V4}/room/${token}/participants`, { auth: owner })).data as { actorId: string; attendeeId: number }[]).find((p) => p.actorId === joiner.user)?.attendeeId;
    expect((await ocs("POST", `${V4}/room/${token}/moderators`, { auth: owner, body: { attendeeId: joinerId } })).status).toBe(200);
    const g1Id = ((await ocs("GET", `${V4}/room/${token}/participants`, { auth: owner })).data as { actorId: string; attendeeId: number }[]).find((p) => p.actorId === g1)?.attendeeId;
    const g2Id = ((await ocs("GET", `${V4}/room/${token}/participants`, { auth: owner })).data as { actorId: string; attendeeId: number }[]).find((p) => p.actorId === g2)?.attendeeId;
    expect((await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: owner, body: { attendeeId: g1Id } })).status).toBe(200);
    expect((await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: owner, body: { attendeeId: g2Id } })).status).toBe(200);
    expect(await attendees(token, owner)).toEqual([`users/${owner.user}/1`, `users/${joiner.user}/2`].sort());
  });
});

describe("what the room keeps in memory follows every change", () => {
  it("a participant list and the live count read before a change show the change", async () => {
    const owner = await createUser("keep-own");
    const bob = await createUser("keep-bob");
    const token = await createRoom(owner);
    expect((await list(token, { auth: owner })).map((p) => p.actorId)).toEqual([owner.user]);

    // Added: the list read just before shows the new member.
    await addUser(owner, token, bob);
    const added = find(await list(token, { auth: owner }), "users", bob.user);
    expect(added).toMatchObject({ participantType: 3, sessionIds: [] });

    // New permissions, then a promotion (moderators' permissions cannot be set): both follow.
    const perms = await ocs("PUT", `${V4}/room/${token}/attendees/permissions`, { auth: owner, body: { attendeeId: added.attendeeId, method: "set", permissions: 1 | 16 } });
    expect(perms.status).toBe(200);
    expect(find(await list(token, { auth: owner }), "users", bob.user).attendeePermissions).toBe(1 | 16);
    expect((await ocs("POST", `${V4}/room/${token}/moderators`, { auth: owner, body: { attendeeId: added.attendeeId } })).status).toBe(200);
    expect(find(await list(token, { auth: owner }), "users", bob.user).participantType).toBe(2);

    // A session starts and ends: the owner's conversation object counts it, then no longer.
    const count = async () => (await ocs("GET", `${V4}/room/${token}`, { auth: owner })).data.count as number;
    expect(await count()).toBe(0);
    const bobJar = new CookieJar();
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: bob, jar: bobJar })).status).toBe(200);
    expect(await count()).toBe(1);
    expect(find(await list(token, { auth: owner }), "users", bob.user).sessionIds).toHaveLength(1);
    expect((await ocs("DELETE", `${V4}/room/${token}/participants/active`, { auth: bob, jar: bobJar })).status).toBe(200);
    expect(await count()).toBe(0);

    // Demoted (moderators are not removed, seed 002), then removed: gone from the next list.
    expect((await ocs("DELETE", `${V4}/room/${token}/moderators`, { auth: owner, body: { attendeeId: added.attendeeId } })).status).toBe(200);
    expect(find(await list(token, { auth: owner }), "users", bob.user).participantType).toBe(3);
    expect((await ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: owner, body: { attendeeId: added.attendeeId } })).status).toBe(200);
    expect(find(await list(token, { auth: owner }), "users", bob.user)).toBeUndefined();
  });
});
