/**
 * Talk's standalone signaling protocol served by the room object (issue 18), driven through the
 * Worker as the stock clients drive it: settings → WebSocket → hello (v1 ticket, v2 token, resume)
 * → room join with the Talk session → events and messages → bye.
 */
import { env, exports } from "cloudflare:workers";
import { importSPKI, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { roomStub } from "../src/room/directory";
import { evictDurableObject } from "./helpers/evict";
import { CookieJar, type Credentials, createUser, ocs } from "./helpers/http";
import { ParticipantEntry, type ServerFrame, type Settings, signalingSettings, StandaloneClient, V3 } from "./helpers/standalone";
import { roomIdOf, V4 } from "./helpers/talk";

interface Peer {
  auth?: Credentials;
  jar: CookieJar;
  talkSession: string;
  settings: Settings;
  client: StandaloneClient;
}

/** Joins the conversation over REST (the Talk session), then over the room's signaling socket. */
async function connect(token: string, auth: Credentials | undefined, version: "1.0" | "2.0" = "1.0", jar = new CookieJar()): Promise<Peer> {
  const joined = await ocs("POST", `${V4}/room/${token}/participants/active`, { auth, jar });
  expect(joined.status).toBe(200);
  const settings = await signalingSettings(token, { auth, jar });
  const { client } = await StandaloneClient.connect(settings.server);
  const hello = await client.hello(settings, version);
  expect(hello.type).toBe("hello");
  const room = await client.joinRoom(token, joined.data.sessionId);
  expect(room).toMatchObject({ type: "room", room: { roomid: token } });
  return { auth, jar, talkSession: joined.data.sessionId, settings, client };
}

async function groupRoom(name = "Signaling") {
  const alice = await createUser("alice");
  const bob = await createUser("bob");
  const room = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: name } });
  const token = room.data.token as string;
  await ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: bob.user } });
  return { alice, bob, token };
}

const errorCode = (f: ServerFrame) => (f.type === "error" ? f.error.code : `not an error: ${JSON.stringify(f)}`);

describe("settings and hello", () => {
  it("names the room's WebSocket with v1 and v2 hello parameters; the capabilities publish the v2 key", async () => {
    const { alice, token } = await groupRoom();
    const settings = await signalingSettings(token, { auth: alice });
    expect(settings).toMatchObject({ signalingMode: "external", userId: alice.user, server: `http://localhost/standalone-signaling/${token}/` });
    expect(settings.helloAuthParams["1.0"]).toEqual({ userid: alice.user, ticket: settings.ticket });
    const v2 = settings.helloAuthParams["2.0"]?.token ?? "";
    const caps = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: alice });
    const signaling = caps.data.capabilities.spreed.config.signaling;
    expect(signaling.mode).toBe("external");
    const key = await importSPKI(signaling["hello-v2-token-key"], "EdDSA");
    const { payload } = await jwtVerify(v2, key);
    expect(payload).toMatchObject({ iss: "http://localhost", sub: alice.user, userdata: { displayname: `alice ${alice.user}` } });
    // Without a conversation there is no room socket to name: internal signaling.
    const plain = await ocs("GET", `${V3}/signaling/settings`, { auth: alice });
    expect(plain.data).toMatchObject({ signalingMode: "internal", server: "" });
  });

  it("welcomes without an MCU, authenticates v1 tickets and v2 tokens, refuses anything else", async () => {
    const { alice, token } = await groupRoom();
    const settings = await signalingSettings(token, { auth: alice });
    const { client, welcome } = await StandaloneClient.connect(settings.server);
    expect(welcome).toMatchObject({ type: "welcome", welcome: { features: expect.arrayContaining(["hello-v2", "incall-all", "audio-video-permissions"]) } });
    expect(welcome.type === "welcome" && welcome.welcome.features).not.toContain("mcu");

    // Before hello nothing else is accepted; broken frames are named.
    expect(errorCode(await client.request("room", { roomid: token, sessionid: "x" }))).toBe("hello_expected");
    client.send("not json");
    expect(errorCode(await client.next((f) => f.type === "error"))).toBe("invalid_format");
    expect(errorCode(await client.request("hello", { version: "3.0", auth: { params: {} } }))).toBe("invalid_hello_version");
    expect(errorCode(await client.request("hello", { version: "1.0", auth: { params: { userid: alice.user, ticket: `${settings.ticket}x` } } }))).toBe("invalid_ticket");
    // A ticket is bound to its user.
    expect(errorCode(await client.request("hello", { version: "1.0", auth: { params: { userid: "mallory", ticket: settings.ticket } } }))).toBe("invalid_ticket");
    expect(errorCode(await client.request("hello", { version: "2.0", auth: { params: { token: "a.b.c" } } }))).toBe("invalid_token");
    expect(errorCode(await client.request("hello", { version: "1.0", auth: { type: "internal", params: {} } }))).toBe("invalid_client_type");
    expect(errorCode(await client.request("hello", { version: "1.0", resumeid: "nope" }))).toBe("no_such_session");

    const v1 = await client.hello(settings, "1.0");
    expect(v1).toMatchObject({ type: "hello", hello: { userid: alice.user, version: "1.0", server: { features: expect.any(Array) } } });
    const other = await StandaloneClient.connect(settings.server);
    const v2 = await other.client.hello(settings, "2.0");
    expect(v2).toMatchObject({ type: "hello", hello: { userid: alice.user, version: "2.0" } });
    expect(other.client.sessionId).not.toBe(client.sessionId);
  });
});

describe("room, participants and messages", () => {
  it("two users and a guest join; offers, answers and candidates go session to session; control needs a moderator", async () => {
    const { alice, bob, token } = await groupRoom();
    expect((await ocs("POST", `${V4}/room/${token}/public`, { auth: alice })).status).toBe(200);
    const a = await connect(token, alice, "1.0");
    const first = await a.client.event("room", "join");
    expect(first.map((j: { roomsessionid: string }) => j.roomsessionid)).toEqual([a.talkSession]);
    expect(first[0]).toEqual({ sessionid: a.client.sessionId, userid: alice.user, user: { displayname: `alice ${alice.user}` }, roomsessionid: a.talkSession, features: [] });

    const b = await connect(token, bob, "2.0");
    const bobJoin = await a.client.event("room", "join", (list) => list.some((j: { userid: string }) => j.userid === bob.user));
    expect(bobJoin[0]).toMatchObject({ sessionid: b.client.sessionId, roomsessionid: b.talkSession });
    const initial = await b.client.event("room", "join");
    expect(initial.map((j: { sessionid: string }) => j.sessionid).sort()).toEqual([a.client.sessionId, b.client.sessionId].sort());

    const g = await connect(token, undefined, "1.0");
    expect(g.settings.userId).toBeNull();
    const guestJoin = await a.client.event("room", "join", (list) => list.some((j: { sessionid: string }) => j.sessionid === g.client.sessionId));
    expect(guestJoin[0]).toMatchObject({ userid: "", roomsessionid: g.talkSession });

    // Alice joins the call: everyone hears the participant update with her flags.
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: alice, jar: a.jar, body: { flags: 7 } })).status).toBe(200);
    const update = await b.client.event("participants", "update", (u) => u.changed?.some((x: { inCall: number }) => x.inCall === 7));
    expect(update.roomid).toBe(token);
    const mine = ParticipantEntry.parse(update.changed[0]);
    expect(mine).toMatchObject({ inCall: 7, sessionId: a.client.sessionId, nextcloudSessionId: a.talkSession, participantType: 1, actorType: "users", actorId: alice.user, userId: alice.user, participantPermissions: 254 });
    expect(update.users.map((u: unknown) => ParticipantEntry.parse(u).sessionId).sort()).toEqual([a.client.sessionId, b.client.sessionId, g.client.sessionId].sort());
    await g.client.event("participants", "update");

    // Offer → answer → candidate, session to session.
    const offer = { to: b.client.sessionId, type: "offer", roomType: "video", sid: "1", payload: { type: "offer", sdp: "v=0" } };
    a.client.send({ type: "message", message: { recipient: { type: "session", sessionid: b.client.sessionId }, data: offer } });
    const atBob = await b.client.next((f) => f.type === "message");
    expect(atBob).toEqual({ type: "message", message: { sender: { type: "session", sessionid: a.client.sessionId, userid: alice.user }, data: offer } });
    const answer = { to: a.client.sessionId, type: "answer", roomType: "video", sid: "1", payload: { type: "answer", sdp: "v=0" } };
    b.client.send({ type: "message", message: { recipient: { type: "session", sessionid: a.client.sessionId }, data: answer } });
    expect(await a.client.next((f) => f.type === "message")).toEqual({ type: "message", message: { sender: { type: "session", sessionid: b.client.sessionId, userid: bob.user }, data: answer } });
    const candidate = { to: a.client.sessionId, type: "candidate", roomType: "video", payload: { candidate: { candidate: "candidate:1 1 udp 1 10.0.0.1 9 typ host", sdpMid: "0", sdpMLineIndex: 0 } } };
    g.client.send({ type: "message", message: { recipient: { type: "session", sessionid: a.client.sessionId }, data: candidate } });
    expect(await a.client.next((f) => f.type === "message")).toEqual({ type: "message", message: { sender: { type: "session", sessionid: g.client.sessionId }, data: candidate } });
    // Nobody else heard the session messages.
    expect(g.client.pending().filter((f) => f.type === "message")).toEqual([]);

    // To the whole room, and to a user.
    a.client.send({ type: "message", message: { recipient: { type: "room" }, data: { type: "nickChanged", payload: { name: "A" } } } });
    expect((await b.client.next((f) => f.type === "message")).type).toBe("message");
    expect(await g.client.next((f) => f.type === "message")).toMatchObject({ message: { sender: { type: "room", sessionid: a.client.sessionId } } });
    g.client.send({ type: "message", message: { recipient: { type: "user", userid: bob.user }, data: { type: "raiseHand", payload: { state: true } } } });
    expect(await b.client.next((f) => f.type === "message")).toMatchObject({ message: { sender: { type: "user", sessionid: g.client.sessionId }, data: { type: "raiseHand" } } });

    // control: Bob (no moderator) is ignored; Alice (owner) reaches Bob.
    b.client.send({ type: "control", control: { recipient: { type: "session", sessionid: a.client.sessionId }, data: { action: "forceMute", peerId: a.client.sessionId } } });
    a.client.send({ type: "control", control: { recipient: { type: "session", sessionid: b.client.sessionId }, data: { action: "forceMute", peerId: b.client.sessionId } } });
    expect(await b.client.next((f) => f.type === "control")).toEqual({ type: "control", control: { sender: { type: "session", sessionid: a.client.sessionId, userid: alice.user }, data: { action: "forceMute", peerId: b.client.sessionId } } });
    // Alice's next frame is the answer to a probe, not Bob's control.
    expect(errorCode(await a.client.request("room", { roomid: token, sessionid: a.talkSession }))).toBe("already_joined");
    expect(a.client.pending().filter((f) => f.type === "control")).toEqual([]);
  });

  it("a room join needs the hello's own Talk session of this conversation", async () => {
    const { alice, bob, token } = await groupRoom();
    const other = await ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 2, roomName: "Other" } });
    const aliceJar = new CookieJar();
    const bobJar = new CookieJar();
    const aSession = (await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: alice, jar: aliceJar })).data.sessionId as string;
    const bSession = (await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: bob, jar: bobJar })).data.sessionId as string;
    const settings = await signalingSettings(token, { auth: alice });
    const { client } = await StandaloneClient.connect(settings.server);
    await client.hello(settings, "1.0");
    expect(errorCode(await client.joinRoom(token, bSession))).toBe("no_such_room");
    expect(errorCode(await client.joinRoom(other.data.token, aSession))).toBe("no_such_room");
    expect(errorCode(await client.joinRoom(token, "unknown"))).toBe("no_such_room");
    expect(errorCode(await client.request("message", { recipient: { type: "session", sessionid: bSession }, data: {} }))).toBe("not_in_room");
    expect(errorCode(await client.request("message", { recipient: { type: "nobody" }, data: {} }))).toBe("invalid_format");
    expect(await client.joinRoom(token, aSession)).toMatchObject({ type: "room", room: { roomid: token, properties: { name: "Signaling", type: 2, "lobby-state": 0, "read-only": 0 } } });
    // The same Talk session on a second socket: duplicate.
    const second = await StandaloneClient.connect(settings.server);
    await second.client.hello(settings, "2.0");
    expect(errorCode(await second.client.joinRoom(token, aSession))).toBe("duplicate_session");
    // An unknown conversation has no socket.
    const res = await exports.default.fetch(new Request("http://localhost/standalone-signaling/zzzzzzzzzzzz/spreed", { headers: { Upgrade: "websocket" } }));
    expect(res.status).toBe(404);
  });
});

