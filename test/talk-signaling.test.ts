/** Internal signaling (the long-poll stock Talk clients use without a signaling server). */
import { describe, expect, it } from "vitest";
import { CookieJar, createUser, ocs, type Credentials } from "./helpers/http";

const V4 = "/ocs/v2.php/apps/spreed/api/v4";
const V3 = "/ocs/v2.php/apps/spreed/api/v3";

interface Peer {
  auth: Credentials;
  jar: CookieJar;
  sessionId: string;
}

/** Alice owns a group room with Bob; both have a session and are in the call. */
async function callOfTwo() {
  const alice = await createUser("alice");
  const bob = await createUser("bob");
  const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: "Call" } });
  const token = room.data.token as string;
  await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: bob.user } });
  const join = async (auth: Credentials): Promise<Peer> => {
    const jar = new CookieJar();
    const joined = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth, jar });
    await ocs("POST", `${V4}/call/${token}`, { auth, jar, body: { flags: 7 } });
    return { auth, jar, sessionId: joined.data.sessionId };
  };
  return { token, a: await join(alice), b: await join(bob) };
}

function send(token: string, from: Peer, messages: { sessionId?: string; fn: unknown }[]) {
  const encoded = messages.map((m) => ({ ev: "message", sessionId: m.sessionId ?? from.sessionId, fn: JSON.stringify(m.fn) }));
  return ocs("POST", `${V3}/signaling/${token}`, { auth: from.auth, jar: from.jar, form: { messages: JSON.stringify(encoded) } });
}

function pull(token: string, peer: Peer) {
  return ocs("GET", `${V3}/signaling/${token}`, { auth: peer.auth, jar: peer.jar });
}

describe("internal signaling", () => {
  it("routes an offer and an answer between two sessions in a call", async () => {
    const { token, a, b } = await callOfTwo();
    const offer = { to: b.sessionId, type: "offer", roomType: "video", sid: "1", payload: { type: "offer", sdp: "v=0 offer" } };
    const sent = await send(token, a, [{ fn: offer }]);
    expect(sent.status).toBe(200);
    expect(sent.data).toEqual([]);

    const atBob = await pull(token, b);
    expect(atBob.status).toBe(200);
    expect(atBob.data).toHaveLength(2);
    expect(atBob.data[0].type).toBe("message");
    expect(JSON.parse(atBob.data[0].data)).toEqual({ ...offer, from: a.sessionId });
    const users = atBob.data[1];
    expect(users.type).toBe("usersInRoom");
    expect(users.data.map((u: { sessionId: string }) => u.sessionId).sort()).toEqual([a.sessionId, b.sessionId].sort());
    expect(users.data.find((u: { sessionId: string }) => u.sessionId === a.sessionId)).toMatchObject({
      inCall: 7,
      participantPermissions: 254,
      roomId: expect.any(Number),
      // Talk ≥ 20 names the actor of each session; the web call view reads it.
      actorType: "users",
      actorId: a.auth.user,
      userId: a.auth.user,
    });

    const answer = { to: a.sessionId, type: "answer", roomType: "video", sid: "1", payload: { type: "answer", sdp: "v=0 answer" } };
    await send(token, b, [{ fn: answer }]);
    const atAlice = await pull(token, a);
    expect(JSON.parse(atAlice.data[0].data)).toEqual({ ...answer, from: b.sessionId });
  });

  it("drops messages with a foreign sender session, to unknown sessions, and control messages from non-moderators", async () => {
    const { token, a, b } = await callOfTwo();
    await send(token, b, [
      { sessionId: a.sessionId, fn: { to: a.sessionId, type: "offer", payload: "forged" } },
      { fn: { to: "no-such-session", type: "offer", payload: "lost" } },
      { fn: { to: a.sessionId, type: "control", payload: { action: "forceMute" } } },
      { fn: "not an object" },
      { fn: { to: a.sessionId, type: "candidate", payload: { candidate: { candidate: "c1", sdpMid: "0", sdpMLineIndex: 0 } } } },
    ]);
    const atAlice = await pull(token, a);
    const messages = atAlice.data.filter((m: { type: string }) => m.type === "message").map((m: { data: string }) => JSON.parse(m.data));
    expect(messages).toEqual([expect.objectContaining({ type: "candidate", from: b.sessionId })]);
    // The owner may send control messages.
    await send(token, a, [{ fn: { to: b.sessionId, type: "control", payload: { action: "forceMute" } } }]);
    const atBob = await pull(token, b);
    expect(JSON.parse(atBob.data[0].data)).toMatchObject({ type: "control", from: a.sessionId });
  });

  it("returns a waiting poll early when the participant list changes", async () => {
    const { token, a } = await callOfTwo();
    const waiting = pull(token, a);
    // Carol joins the (public) room while Alice waits.
    await ocs("POST", `${V4}/room/${token}/public`, { auth: a.auth });
    const carolJar = new CookieJar();
    const carol = await ocs("POST", `${V4}/room/${token}/participants/active`, { jar: carolJar });
    const res = await waiting;
    expect(res.status).toBe(200);
    const users = res.data.at(-1);
    expect(users.type).toBe("usersInRoom");
    const again = await ocs("GET", `${V4}/room/${token}`, { auth: a.auth, jar: a.jar });
    expect(again.data.lastPing).toBeGreaterThan(0);
    expect(carol.data.sessionId).toEqual(expect.any(String));
  });

  it("answers 404 without a session and 409 for a member whose session is gone", async () => {
    const { token, a } = await callOfTwo();
    const stranger = await createUser("stranger");
    const none = await ocs("GET", `${V3}/signaling/${token}`, { auth: stranger, jar: new CookieJar() });
    expect(none.status).toBe(404);
    expect(none.data).toEqual([{ type: "usersInRoom", data: [] }]);
    expect((await ocs("GET", `${V3}/signaling/nosuchroom`, { jar: new CookieJar() })).status).toBe(404);
    // Alice leaves the conversation (session ended) but stays a member.
    await ocs("DELETE", `${V4}/room/${token}/participants/active`, { auth: a.auth, jar: a.jar });
    const gone = await pull(token, a);
    expect(gone.status).toBe(409);
    expect(gone.data).toEqual([{ type: "usersInRoom", data: [] }]);
  });

  it("rejects malformed message lists with 400 and queues nothing", async () => {
    const { token, a, b } = await callOfTwo();
    for (const messages of ["not json", "{}", JSON.stringify([{ ev: "bye" }]), JSON.stringify([{ ev: "message", sessionId: 5, fn: "{}" }])]) {
      const res = await ocs("POST", `${V3}/signaling/${token}`, { auth: a.auth, jar: a.jar, form: { messages } });
      expect(res.status).toBe(400);
      expect(res.data).toBe("");
    }
    expect((await ocs("POST", `${V3}/signaling/${token}`, { auth: a.auth, jar: a.jar, body: {} })).status).toBe(400);
    // Nothing reached Bob: a message sent now is the only one he gets.
    await send(token, a, [{ fn: { to: b.sessionId, type: "offer", payload: "only" } }]);
    const atBob = await pull(token, b);
    expect(atBob.data.filter((m: { type: string }) => m.type === "message")).toHaveLength(1);
  });
});

describe("signaling settings", () => {
  it("names the room's signaling socket, with the default STUN server and no TURN when none is configured", async () => {
    const alice = await createUser("alice");
    const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: "Settings" } });
    const res = await ocs("GET", `${V3}/signaling/settings`, { auth: alice, query: { token: room.data.token } });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({
      signalingMode: "external",
      userId: alice.user,
      hideWarning: false,
      server: `http://localhost/standalone-signaling/${room.data.token}/`,
      stunservers: [{ urls: ["stun:stun.nextcloud.com:443"] }],
      turnservers: [],
      sipDialinInfo: "",
    });
    expect(res.data.helloAuthParams["1.0"]).toEqual({ userid: alice.user, ticket: res.data.ticket });
    const guest = await ocs("GET", `${V3}/signaling/settings`, { jar: new CookieJar() });
    expect(guest.data.userId).toBeNull();
    // A token the caller cannot see: 404.
    const stranger = await createUser("stranger");
    expect((await ocs("GET", `${V3}/signaling/settings`, { auth: stranger, query: { token: room.data.token } })).status).toBe(404);
    expect((await ocs("GET", `${V3}/signaling/settings`, { auth: alice, query: { token: "x".repeat(65) } })).status).toBe(400);
  });
});
