import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ocs } from "./helpers/http";
import { createEvent, createInvite, createRoom, expectError, signIn, signInAdmin, timedEvent, v1 } from "./helpers/opentalk";

describe("GET /v1/rooms/{id}/event", () => {
  it("describes the event of an event room to its creator, invitees, admins and invite-code guests", async () => {
    const owner = await signIn("re-owner");
    const invitee = await signIn("re-invitee");
    const admin = await signInAdmin();
    const ev = await createEvent(owner, { ...timedEvent("2030-06-01T10:00:00Z"), title: "Town hall", is_adhoc: true });
    expect((await v1("POST", `/v1/events/${ev.id}/invites?suppress_email_notification=true`, { token: owner.token, json: { invitee: invitee.id } })).status).toBe(201);
    const path = `/v1/rooms/${ev.room.id}/event`;
    const expected = { id: ev.id, title: "Town hall", is_adhoc: true };
    for (const user of [owner, invitee, admin]) {
      const res = await v1("GET", path, { token: user.token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual(expected);
    }
    const code = await createInvite(owner, ev.room.id);
    expect((await v1("GET", path, { auth: `InviteCode ${code}` })).body).toEqual(expected);

    // The title follows the event.
    await v1("PATCH", `/v1/events/${ev.id}?suppress_email_notification=true`, { token: owner.token, json: { title: "Renamed" } });
    expect((await v1("GET", path, { token: owner.token })).body.title).toBe("Renamed");
  });

  it("answers 404 for a room without an event, strangers, foreign or deleted invite codes; 401 without credentials", async () => {
    const owner = await signIn("re-owner");
    const stranger = await signIn("re-stranger");
    const room = await createRoom(owner);
    expectError(await v1("GET", `/v1/rooms/${room.id}/event`, { token: owner.token }), 404, "not_found");

    const ev = await createEvent(owner, timedEvent("2030-06-02T10:00:00Z"));
    const path = `/v1/rooms/${ev.room.id}/event`;
    expectError(await v1("GET", path, { token: stranger.token }), 404, "not_found");
    const foreign = await createInvite(owner, room.id);
    expectError(await v1("GET", path, { auth: `InviteCode ${foreign}` }), 404, "not_found");
    const code = await createInvite(owner, ev.room.id);
    expect((await v1("DELETE", `/v1/rooms/${ev.room.id}/invites/${code}`, { token: owner.token })).status).toBe(204);
    expectError(await v1("GET", path, { auth: `InviteCode ${code}` }), 404, "not_found");
    expectError(await v1("GET", path, {}), 401, "unauthorized");
    expectError(await v1("GET", "/v1/rooms/not-a-uuid/event", { token: owner.token }), 404, "not_found");
    expectError(await v1("GET", `/v1/rooms/${crypto.randomUUID()}/event`, { token: owner.token }), 404, "not_found");
  });
});

describe("event rooms and plain rooms", () => {
  it("are created the same way: Talk conversation, password, lobby, SIP config", async () => {
    const owner = await signIn("re-owner");
    const plain = await createRoom(owner, { password: "pw-1", waiting_room: true, enable_sip: true });
    const ev = await createEvent(owner, { ...timedEvent("2030-06-03T10:00:00Z"), password: "pw-1", waiting_room: true });
    const eventRoom = (await v1("GET", `/v1/rooms/${ev.room.id}`, { token: owner.token })).body;
    const strip = ({ id: _id, created_at: _at, ...rest }: Record<string, unknown>) => rest;
    expect(strip(eventRoom)).toEqual(strip(plain as unknown as Record<string, unknown>));
    expect(eventRoom).toMatchObject({ created_by: owner.id, password: "pw-1", waiting_room: true });

    for (const id of [plain.id, ev.room.id]) {
      const sip = await v1("GET", `/v1/rooms/${id}/sip`, { token: owner.token });
      expect(sip.status).toBe(200);
      expect(sip.body).toMatchObject({ room: id, sip_id: expect.stringMatching(/^\d{10}$/), password: expect.stringMatching(/^\d{10}$/), lobby: false });
      const row = await env.DB.prepare("SELECT token FROM rooms WHERE id = ?").bind(id).first<{ token: string }>();
      const talk = await ocs("GET", `/ocs/v2.php/apps/spreed/api/v4/room/${row?.token}`, { auth: { user: owner.login, password: owner.password } });
      expect(talk.data).toMatchObject({ type: 2, participantType: 1, lobbyState: 1, hasPassword: true });
    }
  });
});
