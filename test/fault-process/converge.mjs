#!/usr/bin/env node
/**
 * `npm run test:fault` (second part): the D1 room index converges after a crash, with nobody
 * retrying anything.
 *
 * Starts `wrangler dev` on a temporary persistence directory, seeds users and rooms, then fires a
 * burst of room changes in parallel — Talk rooms created with members, renamed, members added and
 * removed, rooms deleted, OpenTalk events created with an invitee — and SIGKILLs wrangler and
 * workerd in the middle of it, twice. After each restart it only reads (reads never repair the
 * index) until every room object and the D1 index agree:
 * - each user's conversation list (D1) holds exactly the rooms whose object has them as attendee,
 *   under the object's current name;
 * - a room whose object is gone is in nobody's list;
 * - every OpenTalk room of the event owner has its event (rooms whose event was never written
 *   remove themselves), and every event's room exists.
 * Exit code 0 on success.
 */
import assert from "node:assert/strict";
import { Client } from "../process/client.mjs";
import { withRestartableEdgeTalk } from "../process/dev-server.mjs";

const ADMIN_PASSWORD = "converge-admin-password";
const ADMIN = { user: "admin", password: ADMIN_PASSWORD };
const V4 = "/ocs/v2.php/apps/spreed/api/v4";
const USERS = ["alice", "bob", "carol", "dave"];
/** Rooms whose event was never written remove themselves after 30 s; the alarm retries D1 every 2 s. */
const CONVERGE_LIMIT_MS = 90_000;

const log = (msg) => console.log(`[fault:converge] ${msg}`);
const auth = (user) => ({ user, password: `${user}-password-123` });
const pick = (items) => items[Math.floor(Math.random() * items.length)];

async function seed(api) {
  for (const user of [...USERS, "eve"]) {
    const res = await api.ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { userid: user, password: auth(user).password, displayName: user, email: `${user}@example.test` } });
    assert.equal(res.status, 200, `create ${user}`);
  }
  const tokens = [];
  for (let i = 0; i < 6; i++) {
    const room = await api.ocs("POST", `${V4}/room`, { auth: auth("alice"), body: { roomType: 2, roomName: `Seed ${i}` } });
    assert.equal(room.status, 201);
    tokens.push(room.data.token);
    assert.equal((await api.ocs("POST", `${V4}/room/${room.data.token}/participants`, { auth: auth("alice"), body: { newParticipant: "bob" } })).status, 200);
  }
  return { tokens, gone: new Set(), eveToken: await api.bearer("eve", auth("eve").password), bobId: null };
}

/** One random room change; network errors (the kill) are expected. Counts what was answered. */
async function change(api, s, n) {
  s.done = (s.done ?? 0) + 1;
  const token = pick(s.tokens);
  switch (n % 6) {
    case 0: {
      const room = await api.ocs("POST", `${V4}/room`, { auth: auth("alice"), body: { roomType: 2, roomName: `Burst ${n}` } });
      if (room.status !== 201) return;
      s.tokens.push(room.data.token);
      await api.ocs("POST", `${V4}/room/${room.data.token}/participants`, { auth: auth("alice"), body: { newParticipant: pick(["bob", "carol"]) } });
      return;
    }
    case 1:
      await api.ocs("PUT", `${V4}/room/${token}`, { auth: auth("alice"), body: { roomName: `Renamed ${n}` } });
      return;
    case 2:
      await api.ocs("POST", `${V4}/room/${token}/participants`, { auth: auth("alice"), body: { newParticipant: pick(["carol", "dave"]) } });
      return;
    case 3: {
      const list = await api.ocs("GET", `${V4}/room/${token}/participants`, { auth: auth("alice") });
      const target = list.data?.find?.((p) => p.actorType === "users" && p.actorId !== "alice");
      if (target) await api.ocs("DELETE", `${V4}/room/${token}/attendees`, { auth: auth("alice"), body: { attendeeId: target.attendeeId } });
      return;
    }
    case 4:
      if (n % 12 === 4) await api.ocs("DELETE", `${V4}/room/${token}`, { auth: auth("alice") });
      return;
    case 5: {
      const ev = await api.v1("POST", "/v1/events", { token: s.eveToken, json: { title: `Event ${n}`, description: "", is_time_independent: true } });
      if (ev.status !== 201) throw new Error(`event: ${ev.status} ${JSON.stringify(ev.body)}`);
      if (ev.status === 201 && s.bobId) await api.v1("POST", `/v1/events/${ev.body.id}/invites`, { token: s.eveToken, json: { invitee: s.bobId } });
      return;
    }
  }
}

async function burst(api, s, count) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      try {
        await change(api, s, n);
      } catch (err) {
        if (err instanceof Error && err.message.startsWith("event:")) throw err;
        return; // the server went away
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** What disagrees between the room objects and the D1 index right now (empty: converged). */
async function disagreements(api, s) {
  const problems = [];
  const lists = {};
  for (const user of USERS) {
    const res = await api.ocs("GET", `${V4}/room`, { auth: auth(user) });
    assert.equal(res.status, 200, `${user} lists rooms`);
    lists[user] = new Map(res.data.map((r) => [r.token, r.displayName]));
  }
  const tokens = new Set([...s.tokens, ...Object.values(lists).flatMap((m) => [...m.keys()])]);
  for (const token of tokens) {
    // A token that named no room in D1 stays unknown unless its summary row appears, and then its
    // members list it: looking it up again would only count against the token-guessing throttle.
    const listedNow = USERS.some((u) => lists[u].has(token));
    if (s.gone.has(token) && !listedNow) continue;
    // Alice owns the Talk rooms, Eve the event rooms: the owner sees the participants while the room exists.
    let owner = null;
    let participants = null;
    for (const who of ["alice", "eve"]) {
      const res = await api.ocs("GET", `${V4}/room/${token}/participants`, { auth: auth(who) });
      if (res.status === 429) return { problems: ["throttled (token lookups): read again"], rooms: tokens.size, events: 0 };
      if (res.status === 200) {
        owner = who;
        participants = res;
        break;
      }
    }
    const listed = USERS.filter((u) => lists[u].has(token));
    if (!owner) {
      if (listed.length > 0) problems.push(`${token}: gone, still listed for ${listed.join(", ")}`);
      else s.gone.add(token);
      continue;
    }
    const view = await api.ocs("GET", `${V4}/room/${token}`, { auth: auth(owner) });
    const members = new Set(participants.data.filter((p) => p.actorType === "users").map((p) => p.actorId));
    for (const user of USERS) {
      if (members.has(user) !== lists[user].has(token)) problems.push(`${token}: ${user} ${members.has(user) ? "member, not listed" : "listed, no member"}`);
      else if (members.has(user) && lists[user].get(token) !== view.data.displayName) problems.push(`${token}: ${user} lists "${lists[user].get(token)}", the room is "${view.data.displayName}"`);
    }
  }
  const rooms = await api.v1("GET", "/v1/rooms?per_page=100", { token: s.eveToken });
  assert.equal(rooms.status, 200);
  for (const room of rooms.body) {
    const ev = await api.v1("GET", `/v1/rooms/${room.id}/event`, { token: s.eveToken });
    if (ev.status !== 200) problems.push(`OpenTalk room ${room.id} without its event (${ev.status})`);
  }
  const events = await api.v1("GET", "/v1/events?per_page=100", { token: s.eveToken });
  assert.equal(events.status, 200);
  for (const ev of events.body) {
    const room = await api.v1("GET", `/v1/rooms/${ev.room.id}`, { token: s.eveToken });
    if (room.status !== 200) problems.push(`event ${ev.id} without its room (${room.status})`);
  }
  return { problems, rooms: tokens.size, events: events.body.length };
}

async function converged(api, s) {
  const deadline = Date.now() + CONVERGE_LIMIT_MS;
  for (;;) {
    const found = await disagreements(api, s);
    if (found.problems.length === 0) return found;
    if (Date.now() > deadline) throw new Error(`no convergence:\n${found.problems.join("\n")}`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

async function main() {
  const t0 = Date.now();
  // Deleted rooms' tokens count as guessed tokens: a short throttle window keeps the reads going.
  const options = { label: "converge", adminPassword: ADMIN_PASSWORD, envLines: ["EDGETALK_LOGIN_WINDOW=2"] };
  await withRestartableEdgeTalk(options, async (server) => {
    await server.start();
    const api = new Client(server.base);
    const s = await seed(api);
    const bob = await api.bearer("bob", auth("bob").password);
    s.bobId = JSON.parse(Buffer.from(bob.split(".")[1], "base64url").toString()).sub;
    for (let round = 1; round <= 2; round++) {
      log(`round ${round}: a burst of changes, SIGKILL in the middle`);
      s.done = 0;
      const running = burst(api, s, 2_000);
      await new Promise((r) => setTimeout(r, 2_000 + Math.random() * 2_000));
      await server.kill();
      await running;
      log(`round ${round}: ${s.done} changes sent before the kill`);
      await server.start();
      const found = await converged(api, s);
      log(`round ${round}: ${found.rooms} rooms and ${found.events} events agree with the index`);
    }
  });
  log(`passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
