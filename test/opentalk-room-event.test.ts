import { describe, expect, it } from "vitest";
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
