/** Event invites through the Worker: invite by id or e-mail, roles, list, withdraw, answer; room membership; mails. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { roomStub } from "../src/room/directory";
import { createEvent, expectError, expectValidation, signIn, signInAdmin, timedEvent, v1 } from "./helpers/opentalk";

async function outbox(recipient: string) {
  const rows = await env.DB.prepare("SELECT template, payload FROM email_outbox WHERE recipient = ? ORDER BY id").bind(recipient).all<{ template: string; payload: string }>();
  return rows.results.map((r) => ({ template: r.template, payload: JSON.parse(r.payload) }));
}

async function memberType(roomId: string, login: string): Promise<number | null> {
  const snap = await roomStub(env, roomId).snapshot();
  return snap?.attendees.find((a) => a.actorType === "users" && a.actorId === login)?.participantType ?? null;
}

describe("event invites", () => {
  it("invites a user: 201, then 204 again; the invitee sees the event, joins the room, gets a mail", async () => {
    const owner = await signIn("inv");
    const guest = await signIn("inv");
    const ev = await createEvent(owner, timedEvent("2025-06-02T09:00:00Z"));
    expect((await v1("POST", `/v1/events/${ev.id}/invites`, { token: owner.token, json: { invitee: guest.id } })).status).toBe(201);
    expect((await v1("POST", `/v1/events/${ev.id}/invites`, { token: owner.token, json: { invitee: guest.id } })).status).toBe(204);
    expect((await v1("POST", `/v1/events/${ev.id}/invites`, { token: owner.token, json: { invitee: owner.id } })).status).toBe(204);
    expect(await memberType(ev.room.id, guest.login)).toBe(3);
    expect((await outbox(guest.email)).map((m) => m.template)).toEqual(["event_invite"]);
    const seen = await v1("GET", `/v1/events/${ev.id}?invitees_max=5`, { token: guest.token });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ invite_status: "pending", can_edit: false, invitees_truncated: false });
    expect(seen.body.invitees).toEqual([{ profile: expect.objectContaining({ kind: "registered", id: guest.id, role: "user" }), status: "pending" }]);
    expect((await v1("GET", "/v1/users/me/pending_invites", { token: guest.token })).body).toEqual({ total_pending_invites: 1 });
    const list = await v1("GET", "/v1/events", { token: guest.token });
    expect(list.body.map((e: any) => e.id)).toContain(ev.id);
  });

  it("moderator invites get moderator rights in the room; role changes and withdrawal follow", async () => {
    const owner = await signIn("inv");
    const mod = await signIn("inv");
    const ev = await createEvent(owner, timedEvent("2025-06-02T09:00:00Z"));
    expect((await v1("POST", `/v1/events/${ev.id}/invites?suppress_email_notification=true`, { token: owner.token, json: { invitee: mod.id, role: "moderator" } })).status).toBe(201);
    expect(await memberType(ev.room.id, mod.login)).toBe(2);
    expect(await outbox(mod.email)).toEqual([]);
    expect((await v1("PATCH", `/v1/events/${ev.id}/invites/${mod.id}`, { token: owner.token, json: { role: "user" } })).status).toBe(204);
    expect(await memberType(ev.room.id, mod.login)).toBe(3);
    // Invitees may not change roles or invite.
    expectError(await v1("PATCH", `/v1/events/${ev.id}/invites/${mod.id}`, { token: mod.token, json: { role: "moderator" } }), 403, "forbidden");
    expectError(await v1("POST", `/v1/events/${ev.id}/invites`, { token: mod.token, json: { invitee: owner.id } }), 403, "forbidden");
    expect((await v1("PUT", `/v1/users/me/event_favorites/${ev.id}`, { token: mod.token })).status).toBe(201);
    expect((await v1("DELETE", `/v1/events/${ev.id}/invites/${mod.id}`, { token: owner.token })).status).toBe(204);
    expect(await memberType(ev.room.id, mod.login)).toBeNull();
    expectError(await v1("GET", `/v1/events/${ev.id}`, { token: mod.token }), 404, "not_found");
    expect((await outbox(mod.email)).map((m) => m.template)).toEqual(["event_uninvite"]);
    expectError(await v1("DELETE", `/v1/events/${ev.id}/invites/${mod.id}`, { token: owner.token }), 404, "not_found");
    expectError(await v1("PATCH", `/v1/events/${ev.id}/invites/${mod.id}`, { token: owner.token, json: { role: "user" } }), 404, "not_found");
  });

  it("invites by e-mail: a registered address becomes a user invite, others are e-mail invitees", async () => {
    const owner = await signIn("inv");
    const known = await signIn("inv");
    const ev = await createEvent(owner, timedEvent("2025-06-02T09:00:00Z"));
    expect((await v1("POST", `/v1/events/${ev.id}/invites`, { token: owner.token, json: { email: known.email.toUpperCase() } })).status).toBe(201);
    expect((await v1("POST", `/v1/events/${ev.id}/invites`, { token: owner.token, json: { email: "Outside@Example.org" } })).status).toBe(201);
    expect((await v1("POST", `/v1/events/${ev.id}/invites`, { token: owner.token, json: { email: "outside@example.org" } })).status).toBe(204);
    const list = await v1("GET", `/v1/events/${ev.id}/invites`, { token: owner.token });
    expect(list.body).toEqual([
      { profile: expect.objectContaining({ kind: "registered", id: known.id, role: "user" }), status: "pending" },
      { profile: { kind: "email", email: "outside@example.org", avatar_url: expect.any(String) }, status: "pending" },
    ]);
    expect((await outbox("outside@example.org")).map((m) => m.template)).toEqual(["event_invite"]);
    expect((await v1("DELETE", `/v1/events/${ev.id}/invites/email`, { token: owner.token, json: { email: "outside@example.org" } })).status).toBe(204);
    expect((await v1("DELETE", `/v1/events/${ev.id}/invites/email`, { token: owner.token, json: { email: known.email } })).status).toBe(204);
    expect((await v1("GET", `/v1/events/${ev.id}/invites`, { token: owner.token })).body).toEqual([]);
    expectError(await v1("DELETE", `/v1/events/${ev.id}/invites/email`, { token: owner.token, json: { email: "nobody@example.org" } }), 404, "not_found");
  });

  it("accept and decline; status filter and pages; the creator has no invite to answer", async () => {
    const owner = await signIn("inv");
    const a = await signIn("inv");
    const b = await signIn("inv");
    const ev = await createEvent(owner, timedEvent("2025-06-02T09:00:00Z"));
    for (const u of [a, b]) await v1("POST", `/v1/events/${ev.id}/invites`, { token: owner.token, json: { invitee: u.id } });
    expect((await v1("PATCH", `/v1/events/${ev.id}/invite`, { token: a.token })).status).toBe(204);
    expect((await v1("DELETE", `/v1/events/${ev.id}/invite`, { token: b.token })).status).toBe(204);
    expect((await v1("GET", `/v1/events/${ev.id}`, { token: a.token })).body.invite_status).toBe("accepted");
    expect((await v1("GET", "/v1/users/me/pending_invites", { token: a.token })).body).toEqual({ total_pending_invites: 0 });
    const accepted = await v1("GET", `/v1/events/${ev.id}/invites?status=accepted`, { token: owner.token });
    expect(accepted.body.map((i: any) => i.profile.id)).toEqual([a.id]);
    const page = await v1("GET", `/v1/events/${ev.id}/invites?per_page=1&page=1`, { token: a.token });
    expect(page.body).toHaveLength(1);
    expect(page.headers.get("link")).toContain('rel="next"');
    expectError(await v1("PATCH", `/v1/events/${ev.id}/invite`, { token: owner.token }), 403, "forbidden");
    const stranger = await signIn("inv");
    expectError(await v1("PATCH", `/v1/events/${ev.id}/invite`, { token: stranger.token }), 404, "not_found");
    expectError(await v1("GET", `/v1/events/${ev.id}/invites`, { token: stranger.token }), 404, "not_found");
    const admin = await signInAdmin();
    expectError(await v1("GET", `/v1/events/${ev.id}/invites`, { token: admin.token }), 404, "not_found");
  });

  it("bad input changes nothing", async () => {
    const owner = await signIn("inv");
    const ev = await createEvent(owner, timedEvent("2025-06-02T09:00:00Z"));
    const path = `/v1/events/${ev.id}/invites`;
    expectError(await v1("POST", path, { token: owner.token, json: { invitee: "not-a-uuid" } }), 400, "invalid_json");
    expectError(await v1("POST", path, { token: owner.token, json: { invitee: crypto.randomUUID(), role: "admin" } }), 400, "invalid_json");
    expectValidation(await v1("POST", path, { token: owner.token, json: { email: "not-an-address" } }), "email", "invalid_email");
    expectError(await v1("POST", path, { token: owner.token, json: { invitee: crypto.randomUUID() } }), 404, "not_found");
    expectError(await v1("POST", path, { token: owner.token, body: "{", headers: { "Content-Type": "application/json" } }), 400, "invalid_json");
    expect((await v1("GET", `${path}?status=maybe`, { token: owner.token })).status).toBe(400);
    expect((await v1("GET", `${path}?per_page=101`, { token: owner.token })).status).toBe(400);
    expect((await v1("GET", path, { token: owner.token })).body).toEqual([]);
    expect((await v1("POST", path, { json: { invitee: owner.id } })).status).toBe(401);
  });
});
