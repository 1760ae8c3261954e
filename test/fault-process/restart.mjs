#!/usr/bin/env node
/**
 * `npm run test:fault`: `wrangler dev` killed (SIGKILL) and restarted in the middle of a call.
 *
 * Starts `wrangler dev` the way `npm start` does (scripts/start.mjs: local D1 migrations, then
 * `wrangler dev --persist-to`), but on a free port, with a temporary persistence directory and a
 * temporary env file (secrets, SIP dial-in configured) so it touches neither .wrangler/state nor
 * .dev.vars. It seeds users, creates a Talk conversation, joins three sessions (two users and a
 * guest), starts a call with flags, enables the lobby and SIP, and prepares an OpenTalk room with
 * the waiting room and a SIP config. Then it SIGKILLs wrangler's whole process group (workerd
 * included), starts it again on the same directory and checks through the API that members,
 * sessions (still within their 100 s timeout), call flags, lobby/waiting room and SIP settings are
 * all intact. Offline; no Cloudflare account. Exit code 0 on success.
 */
import assert from "node:assert/strict";
import { Client } from "../process/client.mjs";
import { withRestartableEdgeTalk } from "../process/dev-server.mjs";

const ADMIN_PASSWORD = "restart-admin-password";
const SIP_SECRET = "restart-sip-bridge-secret-0123456789";

const log = (msg) => console.log(`[fault:restart] ${msg}`);

const V4 = "/ocs/v2.php/apps/spreed/api/v4";
const ADMIN = { user: "admin", password: ADMIN_PASSWORD };

async function seed(api) {
  const alice = { user: "alice", password: "alice-password-123" };
  const bob = { user: "bob", password: "bob-password-123" };
  for (const u of [alice, bob]) {
    const res = await api.ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { userid: u.user, password: u.password, displayName: u.user, email: `${u.user}@example.test` } });
    assert.equal(res.status, 200, `create ${u.user}`);
  }
  assert.equal((await api.ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: "sip-users" } })).status, 200);
  assert.equal((await api.ocs("POST", "/ocs/v2.php/cloud/users/alice/groups", { auth: ADMIN, body: { groupid: "sip-users" } })).status, 200);

  const room = await api.ocs("POST", `${V4}/room`, { auth: alice, body: { roomType: 3, roomName: "Survives a crash" } });
  assert.equal(room.status, 201, "create the conversation");
  const token = room.data.token;
  assert.equal((await api.ocs("POST", `${V4}/room/${token}/participants`, { auth: alice, body: { newParticipant: "bob" } })).status, 200);
  // Bob moderates, so the lobby does not hold him back (and out of the call).
  const listed = await api.ocs("GET", `${V4}/room/${token}/participants`, { auth: alice });
  const bobAttendee = listed.data.find((p) => p.actorId === "bob").attendeeId;
  assert.equal((await api.ocs("POST", `${V4}/room/${token}/moderators`, { auth: alice, body: { attendeeId: bobAttendee } })).status, 200, "promote bob");

  const jars = { alice: { value: "" }, bob: { value: "" }, guest: { value: "" } };
  for (const [name, auth] of [["alice", alice], ["bob", bob], ["guest", undefined]]) {
    assert.equal((await api.ocs("POST", `${V4}/room/${token}/participants/active`, { auth, cookie: jars[name] })).status, 200, `${name} joins`);
  }
  assert.equal((await api.ocs("POST", `${V4}/call/${token}`, { auth: alice, cookie: jars.alice, body: { flags: 7 } })).status, 200, "alice starts the call");
  assert.equal((await api.ocs("POST", `${V4}/call/${token}`, { auth: bob, cookie: jars.bob, body: { flags: 3 } })).status, 200, "bob joins the call");
  assert.equal((await api.ocs("PUT", `${V4}/room/${token}/webinar/lobby`, { auth: alice, body: { state: 1 } })).status, 200, "lobby on");
  assert.equal((await api.ocs("PUT", `${V4}/room/${token}/webinar/sip`, { auth: alice, body: { state: 1 } })).status, 200, "SIP on");

  const otToken = await api.bearer("alice", alice.password);
  const otRoom = await api.v1("POST", "/v1/rooms", { token: otToken, json: { password: "meeting-pass", waiting_room: true } });
  assert.equal(otRoom.status, 201, "OpenTalk room");
  const sip = await api.v1("PUT", `/v1/rooms/${otRoom.body.id}/sip`, { token: otToken, json: { lobby: true } });
  assert.equal(sip.status, 201, "OpenTalk SIP config");

  return { alice, bob, token, jars, otRoomId: otRoom.body.id };
}

/** Everything that must survive, read through the API. */
async function observe(api, s) {
  const views = {};
  for (const [name, auth] of [["alice", s.alice], ["bob", s.bob], ["guest", undefined]]) {
    const res = await api.ocs("GET", `${V4}/room/${s.token}`, { auth, cookie: s.jars[name] });
    assert.equal(res.status, 200, `${name} sees the room`);
    const d = res.data;
    views[name] = { sessionId: d.sessionId, participantType: d.participantType, participantFlags: d.participantFlags, attendeeId: d.attendeeId, attendeePin: d.attendeePin };
  }
  const room = (await api.ocs("GET", `${V4}/room/${s.token}`, { auth: s.alice, cookie: s.jars.alice })).data;
  const participants = await api.ocs("GET", `${V4}/room/${s.token}/participants`, { auth: s.alice, cookie: s.jars.alice });
  assert.equal(participants.status, 200);
  const peers = await api.ocs("GET", `${V4}/call/${s.token}`, { auth: s.alice, cookie: s.jars.alice });
  assert.equal(peers.status, 200);
  const otToken = await api.bearer("alice", s.alice.password);
  const otRoom = await api.v1("GET", `/v1/rooms/${s.otRoomId}`, { token: otToken });
  const otSip = await api.v1("GET", `/v1/rooms/${s.otRoomId}/sip`, { token: otToken });
  return {
    views,
    room: {
      type: room.type,
      name: room.name,
      lobbyState: room.lobbyState,
      lobbyTimer: room.lobbyTimer,
      sipEnabled: room.sipEnabled,
      hasCall: room.hasCall,
      callFlag: room.callFlag,
      callStartTime: room.callStartTime,
    },
    members: participants.data
      .map((p) => ({ actor: `${p.actorType}/${p.actorId}`, type: p.participantType, sessions: [...p.sessionIds].sort(), inCall: p.inCall, permissions: p.permissions }))
      .sort((a, b) => a.actor.localeCompare(b.actor)),
    peers: peers.data.map((p) => ({ sessionId: p.sessionId, actor: `${p.actorType}/${p.actorId}` })).sort((a, b) => a.sessionId.localeCompare(b.sessionId)),
    opentalk: { status: otRoom.status, room: otRoom.body, sipStatus: otSip.status, sip: otSip.body },
  };
}

async function main() {
  const t0 = Date.now();
  const options = {
    label: "fault",
    adminPassword: ADMIN_PASSWORD,
    envLines: [
      `EDGETALK_SIP_BRIDGE_SECRET=${SIP_SECRET}`,
      "EDGETALK_SIP_DIALIN_INFO='Dial +49 30 1234567 and enter the conversation token'",
      "EDGETALK_SIP_GROUPS=sip-users",
    ],
  };
  await withRestartableEdgeTalk(options, async (server) => {
    log(`persisting to ${server.persist} (D1 migrations applied)`);
    log(`starting wrangler dev on ${server.base}`);
    await server.start();
    const api = new Client(server.base);
    const s = await seed(api);
    const before = await observe(api, s);
    assert.equal(before.room.lobbyState, 1);
    assert.equal(before.room.sipEnabled, 1);
    assert.equal(before.room.callFlag, 7);
    assert.equal(before.room.hasCall, true);
    assert.equal(before.members.length, 3);
    assert.equal(before.peers.length, 2);
    assert.equal(before.opentalk.room.waiting_room, true);
    assert.equal(before.opentalk.sip.lobby, true);

    log("SIGKILL to wrangler dev and workerd in the middle of the call");
    await server.kill();

    log("restarting on the same persistence directory");
    await server.start();
    const after = await observe(api, s);
    assert.deepEqual(after, before, "state after the restart");
    // The sessions are still alive: a ping (re-reading the room with the session cookie) keeps them.
    const again = await api.ocs("GET", `${V4}/room/${s.token}`, { auth: s.bob, cookie: s.jars.bob });
    assert.equal(again.data.sessionId, before.views.bob.sessionId);
    assert.equal(again.data.participantFlags, 3);
    // And the call goes on: leaving it works for the session that was in it.
    assert.equal((await api.ocs("DELETE", `${V4}/call/${s.token}`, { auth: s.bob, cookie: s.jars.bob })).status, 200);
  });
  log(`passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
