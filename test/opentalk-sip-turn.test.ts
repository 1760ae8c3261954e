import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { ocs } from "./helpers/http";
import { createInvite, createRoom, expectError, expectValidation, serviceToken, type Signed, signIn, signInAdmin, v1 } from "./helpers/opentalk";
import { SignalingClient } from "./helpers/signaling";

const DIGITS10 = /^\d{10}$/;

async function addMember(owner: Signed, roomId: string, member: Signed): Promise<void> {
  const row = await env.DB.prepare("SELECT token FROM rooms WHERE id = ?").bind(roomId).first<{ token: string }>();
  const res = await ocs("POST", `/ocs/v2.php/apps/spreed/api/v4/room/${row?.token}/participants`, {
    auth: { user: owner.login, password: owner.password },
    body: { newParticipant: member.login },
  });
  expect(res.status).toBe(200);
}

async function disableCallIn(user: Signed): Promise<void> {
  const admin = await signInAdmin();
  const tariff = await v1("POST", "/v1/admin/tariffs", { token: admin.token, json: { name: `no-call-in-${crypto.randomUUID()}`, disabled_features: ["call_in"] } });
  expect((await v1("PUT", `/v1/admin/users/${user.id}/tariff`, { token: admin.token, json: { tariff_id: tariff.body.id } })).status).toBe(200);
}

describe("/v1/rooms/{room_id}/sip", () => {
  it("enable_sip creates a config; PUT modifies (200); DELETE removes it; PUT creates (201)", async () => {
    const owner = await signIn("sip");
    const room = await createRoom(owner, { enable_sip: true });
    const path = `/v1/rooms/${room.id}/sip`;
    const got = await v1("GET", path, { token: owner.token });
    expect(got.status).toBe(200);
    expect(Object.keys(got.body).sort()).toEqual(["lobby", "password", "room", "sip_id"]);
    expect(got.body).toMatchObject({ room: room.id, lobby: false });
    expect(got.body.sip_id).toMatch(DIGITS10);
    expect(got.body.password).toMatch(DIGITS10);

    const modified = await v1("PUT", path, { token: owner.token, json: { lobby: true } });
    expect(modified.status).toBe(200);
    expect(modified.body).toEqual({ ...got.body, lobby: true });
    const repinned = await v1("PUT", path, { token: owner.token, json: { password: "0123456789" } });
    expect(repinned.body).toEqual({ ...got.body, lobby: true, password: "0123456789" });

    expect((await v1("DELETE", path, { token: owner.token })).status).toBe(204);
    expectError(await v1("GET", path, { token: owner.token }), 404, "not_found");
    expect((await v1("DELETE", path, { token: owner.token })).status).toBe(204);

    const created = await v1("PUT", path, { token: owner.token, json: { lobby: false } });
    expect(created.status).toBe(201);
    expect(created.body.sip_id).toMatch(DIGITS10);
    expect(created.body.sip_id).not.toBe(got.body.sip_id);
    expect(created.body.password).toMatch(DIGITS10);
    const withPin = await createRoom(owner);
    const pinned = await v1("PUT", `/v1/rooms/${withPin.id}/sip`, { token: owner.token, json: { password: "5555555555" } });
    expect(pinned.status).toBe(201);
    expect(pinned.body).toMatchObject({ password: "5555555555", lobby: false });
  });

  it("rejects bad bodies with 422 and changes nothing", async () => {
    const owner = await signIn("sip");
    const room = await createRoom(owner, { enable_sip: true });
    const path = `/v1/rooms/${room.id}/sip`;
    const before = (await v1("GET", path, { token: owner.token })).body;
    expectValidation(await v1("PUT", path, { token: owner.token, json: {} }), undefined, "missing_values");
    expectValidation(await v1("PUT", path, { token: owner.token, json: { password: "12345" } }), "password", "invalid_value");
    expectValidation(await v1("PUT", path, { token: owner.token, json: { password: "abcdefghij" } }), "password", "invalid_value");
    expectError(await v1("PUT", path, { token: owner.token, json: { lobby: "on" } }), 400, "invalid_json");
    expect((await v1("GET", path, { token: owner.token })).body).toEqual(before);
  });

  it("only the creator or an administrator; members 403, strangers 404; tariffs without call-in 403", async () => {
    const owner = await signIn("sip");
    const member = await signIn("member");
    const stranger = await signIn("stranger");
    const room = await createRoom(owner, { enable_sip: true });
    await addMember(owner, room.id, member);
    const path = `/v1/rooms/${room.id}/sip`;
    for (const [method, json] of [["GET", undefined], ["PUT", { lobby: true }], ["DELETE", undefined]] as const) {
      expectError(await v1(method, path, { token: member.token, json }), 403, "forbidden");
      expectError(await v1(method, path, { token: stranger.token, json }), 404, "not_found");
      expectError(await v1(method, path, { json }), 401, "unauthorized");
    }
    const admin = await signInAdmin();
    expect((await v1("GET", path, { token: admin.token })).body.lobby).toBe(false);

    await disableCallIn(owner);
    for (const [method, json] of [["GET", undefined], ["PUT", { lobby: true }], ["DELETE", undefined]] as const) {
      expectError(await v1(method, path, { token: owner.token, json }), 403, "feature_disabled");
    }
  });
});

describe("POST /v1/services/call_in/start", () => {
  it("gives the call-in gateway a ticket for a SIP participant", async () => {
    const owner = await signIn("sip");
    const room = await createRoom(owner, { enable_sip: true });
    const sip = (await v1("GET", `/v1/rooms/${room.id}/sip`, { token: owner.token })).body;
    const gateway = await serviceToken();
    const res = await v1("POST", "/v1/services/call_in/start", { token: gateway, json: { id: sip.sip_id, pin: sip.password } });
    expect(res.status).toBe(200);
    expect(res.body.ticket).toMatch(/^[A-Za-z0-9]{64}$/);

    const phone = await SignalingClient.connect(res.body.ticket);
    phone.send("control", { action: "join" });
    const joined = (await phone.next("control", "join_success")).payload;
    expect(joined).toMatchObject({ role: "guest", display_name: "Call-in participant" });
    phone.close();
  });

  it("answers 400 invalid_credentials for wrong ids or pins, 422 for a malformed pin, 401 without the service role", async () => {
    const owner = await signIn("sip");
    const room = await createRoom(owner, { enable_sip: true });
    const sip = (await v1("GET", `/v1/rooms/${room.id}/sip`, { token: owner.token })).body;
    const gateway = await serviceToken();
    const call = (json: unknown, token: string | null = gateway) => v1("POST", "/v1/services/call_in/start", { token, json });
    const wrongPin = sip.password === "0000000000" ? "1111111111" : "0000000000";
    const bad = await call({ id: sip.sip_id, pin: wrongPin });
    expectError(bad, 400, "invalid_credentials");
    expect(bad.body.message).toBe("given call-in id & pin combination is not valid");
    expectError(await call({ id: sip.sip_id === "0000000000" ? "0000000001" : "0000000000", pin: sip.password }), 400, "invalid_credentials");
    expectError(await call({ id: "abc", pin: sip.password }), 400, "invalid_credentials");
    expectValidation(await call({ id: sip.sip_id, pin: "12ab" }), "pin", "invalid_value");
    expectValidation(await call({ id: "12345678901", pin: sip.password }), "id", "invalid_length");
    expectError(await call({ id: sip.sip_id }), 400, "invalid_json");
    expectError(await call({ id: sip.sip_id, pin: sip.password }, owner.token), 401, "unauthorized");
    expectError(await call({ id: sip.sip_id, pin: sip.password }, null), 401, "unauthorized");

    await disableCallIn(owner);
    expectError(await call({ id: sip.sip_id, pin: sip.password }), 403, "feature_disabled");
  });
});

describe("GET /v1/turn", () => {
  /** The Worker's app with TURN/STUN settings of its own (the suite's bindings configure none). */
  function turnApp(vars: Record<string, string>) {
    // Own properties over the suite's env (an assignment would reach through to the shared env).
    const custom = Object.create(env, Object.fromEntries(Object.entries(vars).map(([k, value]) => [k, { value, enumerable: true }]))) as Env;
    const app = createApp();
    return async (auth: string | null) => {
      const res = await app.fetch(new Request("http://localhost/v1/turn", { headers: auth ? { Authorization: auth } : {} }), custom);
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
    };
  }

  it("issues coturn REST credentials (HMAC-SHA1 of the shared secret) and lists STUN servers", async () => {
    const user = await signIn("turn");
    const turn = turnApp({ EDGETALK_TURN_SERVERS: "turn.example.test:3478", EDGETALK_TURN_SECRET: "coturn-shared-secret", EDGETALK_TURN_TTL: "600", EDGETALK_STUN_SERVERS: "stun.example.test:3478" });
    const before = Math.floor(Date.now() / 1000);
    const res = await turn(`Bearer ${user.token}`);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(2);
    const [entry, stun] = res.body;
    expect(stun).toEqual({ uris: ["stun:stun.example.test:3478"] });
    expect(entry.uris).toEqual(["turn:turn.example.test:3478?transport=udp", "turn:turn.example.test:3478?transport=tcp"]);
    const [expiry, random] = (entry.username as string).split(":");
    expect(random).toMatch(/^turn_random_for_privacy_/);
    expect(entry.ttl).toBe(expiry);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600);
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("coturn-shared-secret"), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(entry.username)));
    expect(entry.password).toBe(btoa(String.fromCharCode(...mac)));
  });

  it("accepts an invite code as the bearer; refuses anonymous callers and dead codes", async () => {
    const owner = await signIn("turn");
    const room = await createRoom(owner);
    const code = await createInvite(owner, room.id);
    const turn = turnApp({ EDGETALK_STUN_SERVERS: "stun.example.test" });
    const guest = await turn(`Bearer ${code}`);
    expect(guest.status).toBe(200);
    expect(guest.body).toEqual([{ uris: ["stun:stun.example.test"] }]);
    expectError(await turn(null), 401, "unauthorized");
    expectError(await turn(`Bearer ${crypto.randomUUID()}`), 401, "unauthorized");
    await v1("DELETE", `/v1/rooms/${room.id}/invites/${code}`, { token: owner.token });
    expectError(await turn(`Bearer ${code}`), 401, "unauthorized");
  });

  it("answers 500 with a JSON error when nothing is configured (the seed's behaviour)", async () => {
    const user = await signIn("turn");
    const res = await v1("GET", "/v1/turn", { token: user.token });
    expectError(res, 500, "internal_server_error");
    // TURN servers without the shared secret cannot issue credentials: the same.
    expectError(await turnApp({ EDGETALK_TURN_SERVERS: "turn.example.test" })(`Bearer ${user.token}`), 500, "internal_server_error");
  });
});
