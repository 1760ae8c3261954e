import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createEvent, createRoom, expectError, expectValidation, signIn, signInAdmin, type Signed, timedEvent, v1 } from "./helpers/opentalk";

const TARGET = { name: "Live", kind: "custom", streaming_endpoint: "rtmp://live.example.com/app", streaming_key: "secret-key", public_url: "https://example.com/live" };
const KEYS = ["id", "kind", "name", "public_url", "streaming_endpoint", "streaming_key"];

/** An event room with `invitee` invited (a room member who may read but not write). */
async function eventRoom(owner: Signed, invitee: Signed): Promise<{ roomId: string; eventId: string }> {
  const ev = await createEvent(owner, timedEvent("2030-05-01T08:00:00Z"));
  const res = await v1("POST", `/v1/events/${ev.id}/invites?suppress_email_notification=true`, { token: owner.token, json: { invitee: invitee.id } });
  expect(res.status).toBe(201);
  return { roomId: ev.room.id, eventId: ev.id };
}

async function outboxCount(template: string, recipient: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM email_outbox WHERE template = ? AND recipient = ?").bind(template, recipient).first<{ n: number }>();
  return row?.n ?? 0;
}

describe("/v1/rooms/{id}/streaming_targets", () => {
  it("creates (201), lists with pages, gets, patches and deletes (204)", async () => {
    const owner = await signIn("st-owner");
    const room = await createRoom(owner);
    const base = `/v1/rooms/${room.id}/streaming_targets`;

    const created = await v1("POST", base, { token: owner.token, json: TARGET });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(KEYS);
    expect(created.body).toMatchObject({ ...TARGET, id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const second = await v1("POST", base, { token: owner.token, json: { ...TARGET, name: "Second", streaming_endpoint: "https://ingest.example.com/x" } });
    expect(second.status).toBe(201);

    const page1 = await v1("GET", `${base}?per_page=1`, { token: owner.token });
    expect(page1.status).toBe(200);
    expect(page1.body.map((t: { name: string }) => t.name)).toEqual(["Live"]);
    expect(page1.headers.get("link")).toContain('page=2>; rel="next"');
    const page2 = await v1("GET", `${base}?per_page=1&page=2`, { token: owner.token });
    expect(page2.body.map((t: { name: string }) => t.name)).toEqual(["Second"]);
    expect(page2.headers.get("link")).toContain('rel="prev"');

    const one = await v1("GET", `${base}/${created.body.id}`, { token: owner.token });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created.body);

    const patched = await v1("PATCH", `${base}/${created.body.id}`, { token: owner.token, json: { name: "Renamed", public_url: "http://example.org/watch" } });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ ...created.body, name: "Renamed", public_url: "http://example.org/watch" });
    expect((await v1("GET", `${base}/${created.body.id}`, { token: owner.token })).body.name).toBe("Renamed");

    expect((await v1("DELETE", `${base}/${created.body.id}`, { token: owner.token })).status).toBe(204);
    expectError(await v1("GET", `${base}/${created.body.id}`, { token: owner.token }), 404, "not_found");
    expectError(await v1("DELETE", `${base}/${created.body.id}`, { token: owner.token }), 404, "not_found");
    expect((await v1("GET", base, { token: owner.token })).body.map((t: { name: string }) => t.name)).toEqual(["Second"]);
  });

  it("lets invitees list (key hidden) but not get, change or delete; strangers see nothing; admins manage", async () => {
    const owner = await signIn("st-owner");
    const invitee = await signIn("st-invitee");
    const stranger = await signIn("st-stranger");
    const admin = await signInAdmin();
    const { roomId } = await eventRoom(owner, invitee);
    const base = `/v1/rooms/${roomId}/streaming_targets`;
    const target = (await v1("POST", base, { token: owner.token, json: TARGET })).body;

    const listed = await v1("GET", base, { token: invitee.token });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([{ ...target, streaming_key: "" }]);
    expectError(await v1("GET", `${base}/${target.id}`, { token: invitee.token }), 403, "forbidden");
    expectError(await v1("POST", base, { token: invitee.token, json: TARGET }), 403, "forbidden");
    expectError(await v1("PATCH", `${base}/${target.id}`, { token: invitee.token, json: { name: "x" } }), 403, "forbidden");
    expectError(await v1("DELETE", `${base}/${target.id}`, { token: invitee.token }), 403, "forbidden");

    for (const [method, path, json] of [
      ["GET", base, undefined],
      ["POST", base, TARGET],
      ["GET", `${base}/${target.id}`, undefined],
      ["PATCH", `${base}/${target.id}`, { name: "x" }],
      ["DELETE", `${base}/${target.id}`, undefined],
    ] as const) {
      expectError(await v1(method, path, { token: stranger.token, json }), 404, "not_found");
    }
    expectError(await v1("GET", base, {}), 401, "unauthorized");

    // Administrators manage every room; the key stays the creator's to see.
    const adminView = await v1("GET", `${base}/${target.id}`, { token: admin.token });
    expect(adminView.status).toBe(200);
    expect(adminView.body.streaming_key).toBe("");
    expect((await v1("PATCH", `${base}/${target.id}`, { token: admin.token, json: { name: "By admin" } })).status).toBe(200);
    expect((await v1("GET", `${base}/${target.id}`, { token: owner.token })).body).toMatchObject({ name: "By admin", streaming_key: "secret-key" });
    expect((await v1("DELETE", `${base}/${target.id}`, { token: admin.token })).status).toBe(204);
    expect((await v1("GET", base, { token: owner.token })).body).toEqual([]);
  });

  it("mails the event's invitees about changes unless suppressed", async () => {
    const owner = await signIn("st-owner");
    const invitee = await signIn("st-invitee");
    const { roomId } = await eventRoom(owner, invitee);
    const base = `/v1/rooms/${roomId}/streaming_targets`;
    const before = await outboxCount("event_update", invitee.email);
    const target = (await v1("POST", `${base}?suppress_email_notification=true`, { token: owner.token, json: TARGET })).body;
    expect(await outboxCount("event_update", invitee.email)).toBe(before);
    await v1("PATCH", `${base}/${target.id}`, { token: owner.token, json: { name: "Mailed" } });
    expect(await outboxCount("event_update", invitee.email)).toBe(before + 1);
    await v1("DELETE", `${base}/${target.id}`, { token: owner.token });
    expect(await outboxCount("event_update", invitee.email)).toBe(before + 2);
  });

  it("rejects bad input with the reference's errors and changes nothing", async () => {
    const owner = await signIn("st-owner");
    const room = await createRoom(owner);
    const base = `/v1/rooms/${room.id}/streaming_targets`;
    const post = (json: unknown) => v1("POST", base, { token: owner.token, json });

    expectValidation(await post({ ...TARGET, streaming_endpoint: "not a uri" }), "streaming_endpoint", "invalid_url");
    expectValidation(await post({ ...TARGET, streaming_endpoint: "ftp://example.com/x" }), "streaming_endpoint", "invalid_url");
    expectValidation(await post({ ...TARGET, public_url: "rtmp://example.com/x" }), "public_url", "invalid_url");
    expectValidation(await post({ ...TARGET, public_url: "javascript:alert(1)" }), "public_url", "invalid_url");
    expectError(await post({ ...TARGET, kind: "youtube" }), 400, "invalid_json");
    const { name: _name, ...withoutName } = TARGET;
    expectError(await post(withoutName), 400, "invalid_json");
    expectError(await v1("POST", base, { token: owner.token, body: "{", headers: { "Content-Type": "application/json" } }), 400, "invalid_json");
    expectError(await v1("POST", base, { token: owner.token, body: JSON.stringify(TARGET), headers: { "Content-Type": "text/plain" } }), 400, "invalid_content_type");
    expect((await v1("GET", base, { token: owner.token })).body).toEqual([]);

    const target = (await post(TARGET)).body;
    const path = `${base}/${target.id}`;
    expectError(await v1("PATCH", path, { token: owner.token, json: {} }), 400, "bad_request");
    expectValidation(await v1("PATCH", path, { token: owner.token, json: { streaming_endpoint: "nope" } }), "streaming_endpoint", "invalid_url");
    expectValidation(await v1("PATCH", path, { token: owner.token, json: { name: "" } }), "name", "invalid_length");
    expect((await v1("GET", path, { token: owner.token })).body).toEqual(target);

    expectError(await v1("GET", `${base}/not-a-uuid`, { token: owner.token }), 404, "not_found");
    expectError(await v1("GET", `/v1/rooms/${crypto.randomUUID()}/streaming_targets`, { token: owner.token }), 404, "not_found");
    // A target of another room is not found through this one.
    const other = await createRoom(owner);
    expectError(await v1("GET", `/v1/rooms/${other.id}/streaming_targets/${target.id}`, { token: owner.token }), 404, "not_found");
    for (const q of ["per_page=0", "per_page=101", "page=0"]) expect((await v1("GET", `${base}?${q}`, { token: owner.token })).status).toBe(400);
  });
});
