import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ocs } from "./helpers/http";
import { createInvite, createRoom, expectError, expectValidation, signIn, signInAdmin, type Signed, v1 } from "./helpers/opentalk";

const ROOM_KEYS = ["created_at", "created_by", "id", "password", "waiting_room"];
const TALK = "/ocs/v2.php/apps/spreed/api/v4";

async function talkToken(roomId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT token FROM rooms WHERE id = ?").bind(roomId).first<{ token: string }>();
  if (!row) throw new Error("room not indexed");
  return row.token;
}

/** Makes `member` a Talk participant of the room (the one room model's "invited user"). */
async function addMember(owner: Signed, roomId: string, member: Signed): Promise<void> {
  const res = await ocs("POST", `${TALK}/room/${await talkToken(roomId)}/participants`, {
    auth: { user: owner.login, password: owner.password },
    body: { newParticipant: member.login, source: "users" },
  });
  expect(res.status).toBe(200);
}

async function roomCount(user: Signed): Promise<number> {
  return (await v1("GET", "/v1/rooms?per_page=100", { token: user.token })).body.length;
}

describe("POST /v1/rooms", () => {
  it("creates a room (201) owned by the caller, with password and waiting room", async () => {
    const owner = await signIn("owner");
    const res = await v1("POST", "/v1/rooms", { token: owner.token, json: { password: "s3cret", enable_sip: false, waiting_room: true } });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(ROOM_KEYS);
    expect(res.body).toMatchObject({ created_by: owner.id, password: "s3cret", waiting_room: true });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(res.body.created_at))).toBe(false);

    // The same room is a public Talk conversation owned by the creator, with its lobby on.
    const talk = await ocs("GET", `${TALK}/room/${await talkToken(res.body.id)}`, { auth: { user: owner.login, password: owner.password } });
    expect(talk.status).toBe(200);
    expect(talk.data).toMatchObject({ type: 2, participantType: 1, lobbyState: 1, hasPassword: true });
  });

  it("accepts an empty body: no password, no SIP, waiting room off", async () => {
    const owner = await signIn("owner");
    const res = await v1("POST", "/v1/rooms", { token: owner.token, json: {} });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ password: null, waiting_room: false });
    expect((await v1("GET", `/v1/rooms/${res.body.id}/sip`, { token: owner.token })).status).toBe(404);
  });

  it("rejects bad input with the reference's errors and creates nothing", async () => {
    const owner = await signIn("owner");
    expectValidation(await v1("POST", "/v1/rooms", { token: owner.token, json: { password: "" } }), "password", "invalid_length");
    expectValidation(await v1("POST", "/v1/rooms", { token: owner.token, json: { password: "x".repeat(256) } }), "password", "invalid_length");
    expectError(await v1("POST", "/v1/rooms", { token: owner.token, json: { waiting_room: "yes" } }), 400, "invalid_json");
    expectError(await v1("POST", "/v1/rooms", { token: owner.token, json: { enable_sip: 1 } }), 400, "invalid_json");
    expectError(await v1("POST", "/v1/rooms", { token: owner.token, body: "{not json", headers: { "Content-Type": "application/json" } }), 400, "invalid_json");
    expectError(await v1("POST", "/v1/rooms", { token: owner.token, body: "{}", headers: { "Content-Type": "text/plain" } }), 400, "invalid_content_type");
    expect(await roomCount(owner)).toBe(0);
  });

  it("refuses anonymous callers (401) and SIP when the tariff disables call-in (403)", async () => {
    expectError(await v1("POST", "/v1/rooms", { json: {} }), 401, "unauthorized");
    const admin = await signInAdmin();
    const tariff = await v1("POST", "/v1/admin/tariffs", { token: admin.token, json: { name: `nosip-${crypto.randomUUID()}`, disabled_features: ["call_in"] } });
    expect(tariff.status).toBe(201);
    const owner = await signIn("nosip");
    expect((await v1("PUT", `/v1/admin/users/${owner.id}/tariff`, { token: admin.token, json: { tariff_id: tariff.body.id } })).status).toBe(200);
    expectError(await v1("POST", "/v1/rooms", { token: owner.token, json: { enable_sip: true } }), 403, "feature_disabled");
    expect(await roomCount(owner)).toBe(0);
    // Without SIP the same user may create rooms.
    expect((await v1("POST", "/v1/rooms", { token: owner.token, json: { enable_sip: false } })).status).toBe(201);
  });
});

describe("GET /v1/rooms", () => {
  it("lists the caller's rooms page by page with the reference's Link header", async () => {
    const owner = await signIn("lister");
    const stranger = await signIn("stranger");
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createRoom(owner, { password: `pw${i}` })).id);

    const all = await v1("GET", "/v1/rooms", { token: owner.token });
    expect(all.status).toBe(200);
    expect(all.body.map((r: { id: string }) => r.id)).toEqual(ids);
    expect(all.body[1]).toMatchObject({ password: "pw1", created_by: owner.id });
    expect(all.headers.get("link")).toBeNull();

    const page2 = await v1("GET", "/v1/rooms?per_page=1&page=2", { token: owner.token });
    expect(page2.body.map((r: { id: string }) => r.id)).toEqual([ids[1]]);
    expect(page2.headers.get("link")).toBe(
      [
        '<http://localhost/v1/rooms?per_page=1&page=1>; rel="first"',
        '<http://localhost/v1/rooms?per_page=1&page=1>; rel="prev"',
        '<http://localhost/v1/rooms?per_page=1&page=3>; rel="next"',
        '<http://localhost/v1/rooms?per_page=1&page=3>; rel="last"',
      ].join(","),
    );
    expect(await roomCount(stranger)).toBe(0);
  });

  it("rejects out-of-range paging with 400 and anonymous callers with 401", async () => {
    const owner = await signIn("pager");
    for (const q of ["per_page=0", "per_page=101", "page=0", "page=x"]) {
      expect((await v1("GET", `/v1/rooms?${q}`, { token: owner.token })).status).toBe(400);
    }
    expectError(await v1("GET", "/v1/rooms"), 401, "unauthorized");
  });
});

describe("GET/PATCH/DELETE /v1/rooms/{room_id}", () => {
  it("shows the room to its owner, members and administrators; 404 to strangers", async () => {
    const owner = await signIn("owner");
    const member = await signIn("member");
    const stranger = await signIn("stranger");
    const room = await createRoom(owner, { password: "hunter2" });
    await addMember(owner, room.id, member);

    const mine = await v1("GET", `/v1/rooms/${room.id}`, { token: owner.token });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({ ...room });
    // Members read the room but the password is shown only to those who may change it.
    const theirs = await v1("GET", `/v1/rooms/${room.id}`, { token: member.token });
    expect(theirs.status).toBe(200);
    expect(theirs.body).toMatchObject({ id: room.id, password: null });
    const admin = await signInAdmin();
    expect((await v1("GET", `/v1/rooms/${room.id}`, { token: admin.token })).body.password).toBe("hunter2");

    expectError(await v1("GET", `/v1/rooms/${room.id}`, { token: stranger.token }), 404, "not_found");
    expectError(await v1("GET", `/v1/rooms/${crypto.randomUUID()}`, { token: owner.token }), 404, "not_found");
    expectError(await v1("GET", "/v1/rooms/not-a-uuid", { token: owner.token }), 404, "not_found");
    expectError(await v1("GET", `/v1/rooms/${room.id}`), 401, "unauthorized");
  });

  it("patches password and waiting room; the waiting room is the Talk lobby", async () => {
    const owner = await signIn("owner");
    const room = await createRoom(owner);
    const set = await v1("PATCH", `/v1/rooms/${room.id}`, { token: owner.token, json: { password: "new-pass", waiting_room: true } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ id: room.id, password: "new-pass", waiting_room: true });
    const talk = await ocs("GET", `${TALK}/room/${await talkToken(room.id)}`, { auth: { user: owner.login, password: owner.password } });
    expect(talk.data).toMatchObject({ lobbyState: 1, hasPassword: true });

    // An empty patch changes nothing (the reference fails with 500 here; §3.1).
    const same = await v1("PATCH", `/v1/rooms/${room.id}`, { token: owner.token, json: {} });
    expect(same.status).toBe(200);
    expect(same.body).toEqual(set.body);

    const cleared = await v1("PATCH", `/v1/rooms/${room.id}`, { token: owner.token, json: { password: null, waiting_room: false } });
    expect(cleared.body).toMatchObject({ password: null, waiting_room: false });
    const after = await ocs("GET", `${TALK}/room/${await talkToken(room.id)}`, { auth: { user: owner.login, password: owner.password } });
    expect(after.data).toMatchObject({ lobbyState: 0, hasPassword: false });
  });

  it("refuses bad patches and foreign callers, changing nothing", async () => {
    const owner = await signIn("owner");
    const member = await signIn("member");
    const stranger = await signIn("stranger");
    const room = await createRoom(owner, { password: "keep-me" });
    await addMember(owner, room.id, member);
    const path = `/v1/rooms/${room.id}`;
    expectValidation(await v1("PATCH", path, { token: owner.token, json: { password: "" } }), "password", "invalid_length");
    expectError(await v1("PATCH", path, { token: owner.token, json: { waiting_room: 1 } }), 400, "invalid_json");
    expectError(await v1("PATCH", path, { token: member.token, json: { waiting_room: true } }), 403, "forbidden");
    expectError(await v1("PATCH", path, { token: stranger.token, json: { waiting_room: true } }), 404, "not_found");
    expectError(await v1("PATCH", path, { json: { waiting_room: true } }), 401, "unauthorized");
    expect((await v1("GET", path, { token: owner.token })).body).toEqual(room);
  });

  it("deletes a room (creator or administrator); others get 403/404", async () => {
    const owner = await signIn("owner");
    const member = await signIn("member");
    const stranger = await signIn("stranger");
    const room = await createRoom(owner);
    await addMember(owner, room.id, member);
    const invite = await createInvite(owner, room.id);
    expectError(await v1("DELETE", `/v1/rooms/${room.id}`, { token: member.token }), 403, "forbidden");
    expectError(await v1("DELETE", `/v1/rooms/${room.id}`, { token: stranger.token }), 404, "not_found");
    expect((await v1("GET", `/v1/rooms/${room.id}`, { token: owner.token })).status).toBe(200);

    const res = await v1("DELETE", `/v1/rooms/${room.id}`, { token: owner.token });
    expect(res.status).toBe(204);
    expectError(await v1("GET", `/v1/rooms/${room.id}`, { token: owner.token }), 404, "not_found");
    expectError(await v1("DELETE", `/v1/rooms/${room.id}`, { token: owner.token }), 404, "not_found");
    // Its invites went with it.
    expectError(await v1("POST", "/v1/invite/verify", { json: { invite_code: invite } }), 404, "not_found");

    const other = await createRoom(owner);
    const admin = await signInAdmin();
    expect((await v1("DELETE", `/v1/rooms/${other.id}`, { token: admin.token })).status).toBe(204);
    expect(await roomCount(owner)).toBe(0);
  });
});

describe("GET /v1/rooms/{room_id}/tariff", () => {
  it("returns the creator's tariff to members and to holders of an invite code", async () => {
    const owner = await signIn("owner");
    const room = await createRoom(owner);
    const mine = await v1("GET", "/v1/users/me/tariff", { token: owner.token });
    const res = await v1("GET", `/v1/rooms/${room.id}/tariff`, { token: owner.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(mine.body);

    const invite = await createInvite(owner, room.id);
    const guest = await v1("GET", `/v1/rooms/${room.id}/tariff`, { auth: `InviteCode ${invite}` });
    expect(guest.status).toBe(200);
    expect(guest.body).toEqual(mine.body);
  });

  it("refuses strangers, foreign or deleted invite codes and anonymous callers", async () => {
    const owner = await signIn("owner");
    const stranger = await signIn("stranger");
    const room = await createRoom(owner);
    const other = await createRoom(owner);
    const foreign = await createInvite(owner, other.id);
    const path = `/v1/rooms/${room.id}/tariff`;
    expectError(await v1("GET", path, { token: stranger.token }), 404, "not_found");
    expectError(await v1("GET", path, { auth: `InviteCode ${foreign}` }), 404, "not_found");
    const own = await createInvite(owner, room.id);
    expect((await v1("DELETE", `/v1/rooms/${room.id}/invites/${own}`, { token: owner.token })).status).toBe(204);
    expectError(await v1("GET", path, { auth: `InviteCode ${own}` }), 404, "not_found");
    expectError(await v1("GET", path), 401, "unauthorized");
  });
});
