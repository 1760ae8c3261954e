/** SIP dial-in and TURN with both configured (this file runs in the "configured" vitest project). */
import { describe, expect, it } from "vitest";
import { ADMIN, CookieJar, createUser, ocs } from "../helpers/http";

const V4 = "/ocs/v2.php/apps/spreed/api/v4";
const SIP_SECRET = "sip-bridge-test-secret-0123456789";

async function hex(bytes: ArrayBuffer): Promise<string> {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function hmac(secret: string, message: string, hash: "SHA-256" | "SHA-1"): Promise<ArrayBuffer> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
}

/** The headers a SIP bridge signs its requests with. */
async function bridgeHeaders(token: string, secret = SIP_SECRET) {
  const random = "r".repeat(16) + crypto.randomUUID().replaceAll("-", "");
  return { "Talk-SIPBridge-Random": random, "Talk-SIPBridge-Checksum": await hex(await hmac(secret, random + token, "SHA-256")) };
}

/** Alice (allowed to use SIP) owns a group room with Bob; Carol is a stranger. */
async function sipRoom() {
  // Created once per run; later calls answer 400 (exists), which is fine.
  await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: "sip-users", displayname: "SIP users" } });
  const alice = await createUser("alice", { groups: ["sip-users"] });
  const bob = await createUser("bob");
  const carol = await createUser("carol");
  const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: "Dial-in" } });
  await ocs("POST", `${V4}/room/${room.data.token}/participants`, { auth: alice, body: { newParticipant: bob.user } });
  return { alice, bob, carol, token: room.data.token as string };
}

describe("SIP dial-in", () => {
  it("uses SIP-compatible numeric tokens and advertises SIP", async () => {
    const { token, alice } = await sipRoom();
    expect(token).toMatch(/^[1-9]\d{9}$/);
    expect(token).not.toMatch(/(\d)\1/);
    const room = await ocs("GET", `${V4}/room/${token}`, { auth: alice });
    expect(room.data).toMatchObject({ sipEnabled: 0, canEnableSIP: true, attendeePin: "" });
    const caps = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: alice });
    expect(caps.data.capabilities.spreed.config.call["sip-enabled"]).toBe(true);
  });

  it("enables dial-in with a 7-digit PIN per user and none for guests", async () => {
    const { alice, bob, token } = await sipRoom();
    const enabled = await ocs("PUT", `${V4}/room/${token}/webinar/sip`, { auth: alice, body: { state: 1 } });
    expect(enabled.status).toBe(200);
    expect(enabled.data.sipEnabled).toBe(1);
    expect(enabled.data.attendeePin).toMatch(/^[1-9]\d{6}$/);
    expect(enabled.data.attendeePin).not.toMatch(/(\d)\1/);
    const bobView = await ocs("GET", `${V4}/room/${token}`, { auth: bob });
    expect(bobView.data.attendeePin).toMatch(/^[1-9]\d{6}$/);
    expect(bobView.data.attendeePin).not.toBe(enabled.data.attendeePin);

    await ocs("POST", `${V4}/room/${token}/public`, { auth: alice });
    const guest = new CookieJar();
    const guestView = await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: guest });
    expect(guestView.data.attendeePin).toBe("");
    // The moderator sees everyone's PIN in the participant list.
    const people = await ocs("GET", `${V4}/room/${token}/participants`, { auth: alice });
    const pins = people.data.filter((p: { actorType: string }) => p.actorType === "users").map((p: { attendeePin: string }) => p.attendeePin);
    expect(pins).toEqual(expect.arrayContaining([enabled.data.attendeePin, bobView.data.attendeePin]));

    // State 2: dial-in without PIN; PINs stay visible. State 0 hides them.
    expect((await ocs("PUT", `${V4}/room/${token}/webinar/sip`, { auth: alice, body: { state: 2 } })).data).toMatchObject({ sipEnabled: 2 });
    const off = await ocs("PUT", `${V4}/room/${token}/webinar/sip`, { auth: alice, body: { state: 0 } });
    expect(off.data).toMatchObject({ sipEnabled: 0, attendeePin: "" });
  });

  it("answers the seed's error rows", async () => {
    const { alice, bob, carol, token } = await sipRoom();
    expect((await ocs("PUT", `${V4}/room/${token}/webinar/sip`, { auth: bob, body: { state: 1 } })).status).toBe(403);
    expect((await ocs("PUT", `${V4}/room/${token}/webinar/sip`, { auth: carol, body: { state: 1 } })).status).toBe(404);
    expect((await ocs("PUT", `${V4}/room/nosuchroom/webinar/sip`, { auth: alice, body: { state: 1 } })).status).toBe(404);
    const guest = await ocs("PUT", `${V4}/room/${token}/webinar/sip`, { body: { state: 1 } });
    expect(guest.status).toBe(401);
    expect(guest.meta.statuscode).toBe(997);
    for (const state of [3, -1, "on"]) {
      expect((await ocs("PUT", `${V4}/room/${token}/webinar/sip`, { auth: alice, body: { state } })).status).toBe(400);
    }
    const same = await ocs("PUT", `${V4}/room/${token}/webinar/sip`, { auth: alice, body: { state: 0 } });
    expect(same.status).toBe(400);
    expect(same.data).toEqual({ error: "value" });

    // A moderator outside the SIP groups may not enable it: 401 (seed), `config` (the reference's value).
    await ocs("POST", `${V4}/room/${token}/moderators`, { auth: alice, body: { attendeeId: (await ocs("GET", `${V4}/room/${token}`, { auth: bob })).data.attendeeId } });
    const notAllowed = await ocs("PUT", `${V4}/room/${token}/webinar/sip`, { auth: bob, body: { state: 1 } });
    expect(notAllowed.status).toBe(401);
    expect(notAllowed.data).toEqual({ error: "config" });

    const direct = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 1, invite: carol.user } });
    const oneToOne = await ocs("PUT", `${V4}/room/${direct.data.token}/webinar/sip`, { auth: alice, body: { state: 1 } });
    expect(oneToOne.status).toBe(400);
    expect(oneToOne.data).toEqual({ error: "type" });
    expect((await ocs("GET", `${V4}/room/${token}`, { auth: alice })).data.sipEnabled).toBe(0);
  });
});

describe("participant by PIN (SIP bridge)", () => {
  it("finds the attendee for a signed request and refuses everything else", async () => {
    const { alice, token } = await sipRoom();
    const enabled = await ocs("PUT", `${V4}/room/${token}/webinar/sip`, { auth: alice, body: { state: 1 } });
    const pin = enabled.data.attendeePin as string;

    const found = await ocs("GET", `${V4}/room/${token}/pin/${pin}`, { headers: await bridgeHeaders(token) });
    expect(found.status).toBe(200);
    expect(found.data).toMatchObject({ token, actorType: "users", actorId: alice.user, participantType: 1, attendeePin: pin });

    const wrongSecret = await ocs("GET", `${V4}/room/${token}/pin/${pin}`, { headers: await bridgeHeaders(token, "not-the-secret-0123456789abcdef") });
    expect(wrongSecret.status).toBe(401);
    const otherToken = await ocs("GET", `${V4}/room/${token}/pin/${pin}`, { headers: await bridgeHeaders("1234567890") });
    expect(otherToken.status).toBe(401);
    const shortRandom = await bridgeHeaders(token);
    shortRandom["Talk-SIPBridge-Random"] = "short";
    expect((await ocs("GET", `${V4}/room/${token}/pin/${pin}`, { headers: shortRandom })).status).toBe(401);
    expect((await ocs("GET", `${V4}/room/${token}/pin/${pin}`, { auth: alice })).status).toBe(401);

    const unknownPin = pin === "1212121" ? "2121212" : "1212121";
    expect((await ocs("GET", `${V4}/room/${token}/pin/${unknownPin}`, { headers: await bridgeHeaders(token) })).status).toBe(404);
    expect((await ocs("GET", `${V4}/room/9898989898/pin/${pin}`, { headers: await bridgeHeaders("9898989898") })).status).toBe(404);
  });
});

describe("signaling settings with STUN and TURN configured", () => {
  it("hands out coturn REST credentials and the dial-in info", async () => {
    const alice = await createUser("alice");
    const before = Math.floor(Date.now() / 1000);
    const res = await ocs("GET", "/ocs/v2.php/apps/spreed/api/v3/signaling/settings", { auth: alice });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({
      signalingMode: "internal",
      userId: alice.user,
      server: "",
      stunservers: [{ urls: ["stun:stun.example.test:3478"] }],
      sipDialinInfo: "Dial +49 30 1234567 and enter the conversation token",
    });
    // Configured to stay on internal signaling: a conversation's settings name no socket either.
    const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: "Internal" } });
    const forRoom = await ocs("GET", "/ocs/v2.php/apps/spreed/api/v3/signaling/settings", { auth: alice, query: { token: room.data.token } });
    expect(forRoom.data).toMatchObject({ signalingMode: "internal", server: "" });
    expect(forRoom.data.helloAuthParams["2.0"]).toEqual({ token: expect.any(String) });
    const [turn] = res.data.turnservers;
    expect(turn.urls).toEqual(["turn:turn.example.test:3478?transport=udp", "turn:turn.example.test:3478?transport=tcp"]);
    const [expiry, user] = turn.username.split(":");
    expect(user).toBe(alice.user);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 86400);
    const expected = btoa(String.fromCharCode(...new Uint8Array(await hmac("turn-test-secret", turn.username, "SHA-1"))));
    expect(turn.credential).toBe(expected);
  });
});
