import { describe, expect, it } from "vitest";
import { ocs } from "./helpers/http";
import { createInvite, createRoom, expectError, expectValidation, signIn, type Signed, v1 } from "./helpers/opentalk";
import { env } from "cloudflare:workers";

const INVITE_KEYS = ["active", "created", "created_by", "expiration", "invite_code", "room", "updated", "updated_by"];
const PROFILE_KEYS = ["avatar_url", "display_name", "email", "firstname", "id", "lastname", "title"];

async function addMember(owner: Signed, roomId: string, member: Signed): Promise<void> {
  const row = await env.DB.prepare("SELECT token FROM rooms WHERE id = ?").bind(roomId).first<{ token: string }>();
  const res = await ocs("POST", `/ocs/v2.php/apps/spreed/api/v4/room/${row?.token}/participants`, {
    auth: { user: owner.login, password: owner.password },
    body: { newParticipant: member.login },
  });
  expect(res.status).toBe(200);
}

const listOf = async (owner: Signed, roomId: string) => (await v1("GET", `/v1/rooms/${roomId}/invites`, { token: owner.token })).body;

describe("room invites", () => {
  it("creates (200), lists, gets, updates and soft-deletes invite codes", async () => {
    const owner = await signIn("inviter");
    const room = await createRoom(owner, { password: "pw" });
    const base = `/v1/rooms/${room.id}/invites`;

    const created = await v1("POST", base, { token: owner.token, json: {} });
    expect(created.status).toBe(200);
    expect(Object.keys(created.body).sort()).toEqual(INVITE_KEYS);
    expect(created.body).toMatchObject({ room: room.id, active: true, expiration: null });
    expect(Object.keys(created.body.created_by).sort()).toEqual(PROFILE_KEYS);
    expect(created.body.created_by.id).toBe(owner.id);
    expect(created.body.updated_by.id).toBe(owner.id);
    const code = created.body.invite_code as string;

    // No body at all is the same as {}; an expiration is kept as an RFC 3339 instant.
    const bare = await v1("POST", base, { token: owner.token });
    expect(bare.status).toBe(200);
    const expiring = await v1("POST", base, { token: owner.token, json: { expiration: "2099-08-24T14:15:22Z" } });
    expect(expiring.body.expiration).toBe("2099-08-24T14:15:22.000Z");

    const list = await v1("GET", base, { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.body.map((i: { invite_code: string }) => i.invite_code)).toEqual([code, bare.body.invite_code, expiring.body.invite_code]);
    const paged = await v1("GET", `${base}?per_page=2&page=2`, { token: owner.token });
    expect(paged.body).toHaveLength(1);
    expect(paged.headers.get("link")).toContain('rel="first"');

    const one = await v1("GET", `${base}/${code}`, { token: owner.token });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created.body);

    const updated = await v1("PUT", `${base}/${code}`, { token: owner.token, json: { expiration: "2098-01-01T00:00:00+02:00" } });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ invite_code: code, expiration: "2097-12-31T22:00:00.000Z", active: true });
    // PUT with a null expiration clears it; a body that sets nothing is refused (the seed's "non-empty").
    expectValidation(await v1("PUT", `${base}/${code}`, { token: owner.token, json: {} }), undefined, "missing_values");
    expect((await v1("PUT", `${base}/${code}`, { token: owner.token, json: { expiration: null } })).body.expiration).toBeNull();

    const verify = await v1("POST", "/v1/invite/verify", { json: { invite_code: code } });
    expect(verify.status).toBe(201);
    expect(verify.body).toEqual({ room_id: room.id, password_required: true });

    expect((await v1("DELETE", `${base}/${code}`, { token: owner.token })).status).toBe(204);
    const deleted = await v1("GET", `${base}/${code}`, { token: owner.token });
    expect(deleted.body).toMatchObject({ invite_code: code, active: false });
    expectError(await v1("POST", "/v1/invite/verify", { json: { invite_code: code } }), 404, "not_found");
  });

  it("verify: password_required false without a password; expired and unknown codes are 404", async () => {
    const owner = await signIn("inviter");
    const room = await createRoom(owner);
    const code = await createInvite(owner, room.id);
    expect((await v1("POST", "/v1/invite/verify", { json: { invite_code: code } })).body).toEqual({ room_id: room.id, password_required: false });
    const expired = await createInvite(owner, room.id, { expiration: "2001-01-01T00:00:00Z" });
    expectError(await v1("POST", "/v1/invite/verify", { json: { invite_code: expired } }), 404, "not_found");
    expectError(await v1("POST", "/v1/invite/verify", { json: { invite_code: crypto.randomUUID() } }), 404, "not_found");
    expectError(await v1("POST", "/v1/invite/verify", { json: { invite_code: "not-a-uuid" } }), 400, "invalid_json");
    expectError(await v1("POST", "/v1/invite/verify", { json: {} }), 400, "invalid_json");
  });

  it("rejects bad input with nothing changed", async () => {
    const owner = await signIn("inviter");
    const room = await createRoom(owner);
    const code = await createInvite(owner, room.id);
    const base = `/v1/rooms/${room.id}/invites`;
    expectError(await v1("POST", base, { token: owner.token, json: { expiration: "tomorrow" } }), 400, "invalid_json");
    expectError(await v1("POST", base, { token: owner.token, json: { expiration: 5 } }), 400, "invalid_json");
    expectError(await v1("PUT", `${base}/${code}`, { token: owner.token, json: { expiration: "2020-13-45" } }), 400, "invalid_json");
    expectError(await v1("PUT", `${base}/${code}`, { token: owner.token, body: "nope", headers: { "Content-Type": "application/json" } }), 400, "invalid_json");
    expect((await v1("GET", `${base}?per_page=101`, { token: owner.token })).status).toBe(400);
    const list = await listOf(owner, room.id);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ invite_code: code, expiration: null, active: true });
  });

  it("codes of another room, unknown codes and malformed codes are 404", async () => {
    const owner = await signIn("inviter");
    const room = await createRoom(owner);
    const other = await createRoom(owner);
    const foreign = await createInvite(owner, other.id);
    const base = `/v1/rooms/${room.id}/invites`;
    for (const method of ["GET", "PUT", "DELETE"]) {
      const json = method === "PUT" ? { expiration: null } : undefined;
      expectError(await v1(method, `${base}/${foreign}`, { token: owner.token, json }), 404, "not_found");
      expectError(await v1(method, `${base}/${crypto.randomUUID()}`, { token: owner.token, json }), 404, "not_found");
      expectError(await v1(method, `${base}/xyz`, { token: owner.token, json }), 404, "not_found");
    }
    expect((await listOf(owner, other.id))[0]).toMatchObject({ invite_code: foreign, active: true });
  });

  it("only the creator (or an administrator) manages invites: members 403, strangers 404, anonymous 401", async () => {
    const owner = await signIn("inviter");
    const member = await signIn("member");
    const stranger = await signIn("stranger");
    const room = await createRoom(owner);
    await addMember(owner, room.id, member);
    const code = await createInvite(owner, room.id);
    const base = `/v1/rooms/${room.id}/invites`;
    const calls: [string, string, unknown][] = [
      ["GET", base, undefined],
      ["POST", base, {}],
      ["GET", `${base}/${code}`, undefined],
      ["PUT", `${base}/${code}`, { expiration: null }],
      ["DELETE", `${base}/${code}`, undefined],
    ];
    for (const [method, path, json] of calls) {
      expectError(await v1(method, path, { token: member.token, json }), 403, "forbidden");
      expectError(await v1(method, path, { token: stranger.token, json }), 404, "not_found");
      expectError(await v1(method, path, { json }), 401, "unauthorized");
    }
    expectError(await v1("GET", `/v1/rooms/${crypto.randomUUID()}/invites`, { token: owner.token }), 404, "not_found");
    const list = await listOf(owner, room.id);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ invite_code: code, active: true });
  });
});
