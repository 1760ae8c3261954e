/**
 * Scenario 7: Talk signaling, 200 sessions in one conversation (a group room of 200 users).
 *
 *   WebSocket   the standalone signaling protocol served by the room object: each user joins the
 *               conversation over REST (`participants/active`), reads `signaling/settings?token=`,
 *               opens the room's socket (`server` + "spreed") and says hello v1 with the ticket.
 *   long-poll   internal signaling in the same room: the same users' Talk sessions waiting in
 *               `GET api/v3/signaling/{token}` (Basic auth and the session cookie, as the apps do).
 *   bare DO     the bare Durable Object's loop of send() over 200 hibernatable sockets.
 *
 * Join storm: all 200 send `room` (join) at the same moment; measured from the first send until
 * every session has seen the 199 others in `room`/`join` events, with the bytes the server sent
 * and its CPU time. The bare DO storm: each socket sends one join event of the same shape (its own
 * session id), the object sends it to all 200, so everyone learns of everyone.
 *
 * Fan-out: one sender, RATE messages/s. WebSocket: `message` to the room (recipient type "room",
 * delivered to the 199 others); long-poll: one `POST api/v3/signaling/{token}` per message with one
 * entry per other session (how internal signaling addresses a room: session by session), each
 * recipient's poll answering with it; bare DO: a text as long as EdgeTalk's `message` frame to
 * all 200 sockets. Per window: p50 / p99 from sending to each recipient having it, and server CPU
 * (workerd, from /proc) per delivery. The run checks that every recipient got every message.
 */
import { Http } from "../lib/http.mjs";
import { customRow, summarize } from "../lib/custom.mjs";
import { deliveryWindow } from "../lib/delivery.mjs";
import { createGroup, createUser, form, mapLimit, OcsUser, pollLoop, TALK } from "../lib/ocs.mjs";
import { openSocket } from "../lib/opentalk.mjs";
import { PASSWORD } from "./shared.mjs";
import { closeAll, plainSockets, sleep, storm } from "./shared-ws.mjs";

const N = 200;
const RATE = 20;
const V3 = "/ocs/v2.php/apps/spreed/api/v3";

export default {
  id: "talk-signaling",
  number: "7",
  title: `Talk signaling (${N} sessions)`,

  async prepare(ctx) {
    return { run: (tools) => run(ctx, tools, this) };
  },
};

/** N users in a group, and a group conversation of them all (created by the first). */
async function seed(ctx) {
  const group = `bench-talk-${Date.now().toString(36)}`;
  await createGroup(ctx.admin, group);
  const ids = Array.from({ length: N }, (_, i) => `${group}-${String(i).padStart(3, "0")}`);
  await mapLimit(ids, 4, (u) => createUser(ctx.admin, u, PASSWORD, [group]));
  const users = ids.map((u) => new OcsUser(ctx.http.edgetalk, u, PASSWORD));
  const token = (await users[0].call("POST", `${TALK}/room`, { roomType: 2, roomName: "Bench signaling", invite: group })).token;
  return { token, users };
}

/** Waits for the first frame `match` accepts on a socket (its handler is replaced meanwhile). */
function nextFrame(socket, match, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within 30 s`)), 30_000);
    socket.handler = (data) => {
      const msg = JSON.parse(data.toString());
      if (!match(msg)) return;
      clearTimeout(timer);
      socket.handler = () => {};
      resolve(msg);
    };
  });
}

/** A Talk session of `user` (REST join) with the room's signaling socket, after hello v1. */
async function wsSession(user, token) {
  const talk = (await user.call("POST", `${TALK}/room/${token}/participants/active`, {})).sessionId;
  const settings = await user.call("GET", `${V3}/signaling/settings?token=${token}`);
  const socket = await openSocket(`${settings.server.replace(/^http/, "ws")}spreed`);
  const hello = nextFrame(socket, (m) => m.type === "hello" || m.type === "error", "hello");
  socket.send(JSON.stringify({ type: "hello", hello: { version: "1.0", auth: { url: `${user.http.origin}${V3}/signaling/backend`, params: settings.helloAuthParams["1.0"] } } }));
  const answer = await hello;
  if (answer.type !== "hello") throw new Error(`hello refused: ${JSON.stringify(answer)}`);
  return { socket, talk, sid: answer.hello.sessionid };
}

/** Every user's fresh Talk session and socket (the previous ones said bye, which ended them). */
async function wsSessions(room) {
  return mapLimit(room.users, 8, (u) => wsSession(u, room.token));
}

async function byeAll(sessions) {
  for (const s of sessions) s.socket.send(JSON.stringify({ type: "bye", bye: {} }));
  await closeAll(sessions.map((s) => s.socket));
}

/** One open-loop window; `subscribe(deliver)` wires the recipients, `send(k)` sends message k. */
function fanoutWindow({ n, send, subscribe, warmupMs, windowMs, pids }) {
  return deliveryWindow({ n, load: { rate: RATE }, warmupMs, windowMs, pids, drainMs: 40_000, send, subscribe });
}

/** A signaling long-poll of one Talk session; `onMessage(tag, k)` per bench message it receives. */
function longPoller(http, token, user) {
  return pollLoop(`signaling long-poll of ${user.user}`, async (poller) => {
    const res = await http.request("GET", `${V3}/signaling/${token}`, { headers: user.headers(), expect: [200] });
    for (const entry of JSON.parse(res.text).ocs.data) {
      if (entry.type !== "message") continue;
      const m = JSON.parse(entry.data);
      if (m.type === "bench") poller.onMessage(m.payload.tag, m.payload.k);
    }
  });
}

const roomMessage = (tag, k) => JSON.stringify({ type: "message", message: { recipient: { type: "room" }, data: { type: "bench", tag, k } } });

async function run(ctx, tools, scenario) {
  const { settings, log } = ctx;
  const windowMs = Math.min(settings.windowMs, 3000);
  const warmupMs = Math.min(settings.warmupMs, 1000);
  const pids = [tools.serverPid];
  log(`  seeding ${N} users and their conversation`);
  const room = await seed(ctx);
  const bareUrl = (object) => `${ctx.http["bare-do"].origin.replace(/^http/, "ws")}/ws?object=${object}`;

  // --- join storms, alternating EdgeTalk and the bare DO
  let sessions = [];
  const storms = [];
  for (let r = 0; r < settings.repeats; r++) {
    const round = {};
    for (const id of r % 2 === 0 ? ["edgetalk", "bare-do"] : ["bare-do", "edgetalk"]) {
      if (id === "edgetalk") {
        await byeAll(sessions);
        sessions = await wsSessions(room);
        await sleep(300);
        await tools.quiet();
        const own = sessions.map((s) => s.sid);
        round[id] = await storm({
          sockets: sessions.map((s) => s.socket),
          send: (i) => JSON.stringify({ id: "join", type: "room", room: { roomid: room.token, sessionid: sessions[i].talk } }),
          seen(data, state) {
            const msg = JSON.parse(data.toString());
            if (msg.type === "event" && msg.event.target === "room" && msg.event.type === "join") for (const j of msg.event.join) if (j.sessionid !== own[state.i]) state.known.add(j.sessionid);
            if (msg.type === "event" && msg.event.target === "room" && msg.event.type === "leave") for (const sid of msg.event.leave) state.known.delete(sid);
            return state.known.size;
          },
          pids,
        });
      } else {
        const sockets = await plainSockets(bareUrl(`talk-storm-${r}-${Date.now()}`), N);
        await sleep(300);
        await tools.quiet();
        round[id] = await storm({
          sockets,
          // One join entry of EdgeTalk's shape, the sender's own.
          send: (i) =>
            JSON.stringify({
              type: "event",
              event: { target: "room", type: "join", join: [{ sessionid: `bench-session-${String(i).padStart(27, "0")}`, userid: room.users[i].user, user: { displayname: `Bench ${room.users[i].user}` }, roomsessionid: "x".repeat(255), features: [] }] },
            }),
          seen(data, state) {
            for (const j of JSON.parse(data.toString()).event.join) if (j.sessionid !== `bench-session-${String(state.i).padStart(27, "0")}`) state.known.add(j.sessionid);
            return state.known.size;
          },
          pids,
        });
        await closeAll(sockets);
      }
      const w = round[id];
      log(`  storm ${r + 1} ${id}: everyone saw everyone after ${w.ms.toFixed(0)} ms, ${(w.bytes / 1024 / 1024).toFixed(2)} MiB, server CPU ${w.cpuMs.toFixed(0)} ms`);
    }
    storms.push(round);
  }

  // --- fan-out: the last storm's sessions (all joined) against the bare DO, then long-poll
  const sockets = sessions.map((s) => s.socket);
  const sample = JSON.stringify({ type: "message", message: { sender: { type: "room", sessionid: sessions[0].sid, userid: room.users[0].user }, data: { type: "bench", tag: 1, k: 123 } } });
  const bare = await plainSockets(bareUrl(`talk-fanout-${Date.now()}`), N);
  let tag = 0;
  const fanout = [];
  for (let r = 0; r < settings.repeats; r++) {
    const round = {};
    for (const id of r % 2 === 0 ? ["edgetalk", "bare-do"] : ["bare-do", "edgetalk"]) {
      tag += 1;
      const current = tag;
      const recipients = id === "edgetalk" ? sockets.slice(1) : bare;
      await tools.quiet();
      round[id] = await fanoutWindow({
        n: recipients.length,
        warmupMs,
        windowMs,
        pids,
        send: id === "edgetalk" ? (k) => sockets[0].send(roomMessage(current, k)) : (k) => bare[0].send(sample.replace('"tag":1,"k":123', `"tag":${current},"k":${k}`)),
        subscribe(deliver) {
          for (const s of recipients) {
            s.handler = (data) => {
              const m = JSON.parse(data.toString());
              if (m.type === "message" && m.message.data?.tag === current) deliver(m.message.data.k);
            };
          }
          return () => {
            for (const s of recipients) s.handler = () => {};
          };
        },
      });
      const w = round[id];
      log(`  fan-out ${r + 1} ${id}: p50 ${w.p50.toFixed(2)} ms, p99 ${w.p99.toFixed(2)} ms, ${w.cpuUs.toFixed(2)} µs CPU/delivery`);
    }
    fanout.push(round);
  }
  await byeAll(sessions);
  await closeAll(bare);

  // --- long-poll: the same users' Talk sessions in internal signaling
  log(`  ${N} Talk sessions switching to the signaling long-poll`);
  const talks = await mapLimit(room.users, 8, async (u) => (await u.call("POST", `${TALK}/room/${room.token}/participants/active`, {})).sessionId);
  const pollHttp = new Http(ctx.http.edgetalk.origin, N + 8);
  const pollers = room.users.slice(1).map((u) => longPoller(pollHttp, room.token, u));
  await sleep(500);
  const sender = room.users[0];
  const longPoll = [];
  try {
    for (let r = 0; r < settings.repeats; r++) {
      tag += 1;
      const current = tag;
      await tools.quiet();
      const w = await fanoutWindow({
        n: pollers.length,
        warmupMs,
        windowMs,
        pids,
        send: (k) => {
          const messages = talks.slice(1).map((to) => ({ ev: "message", sessionId: talks[0], fn: JSON.stringify({ to, type: "bench", roomType: "video", payload: { tag: current, k } }) }));
          ctx.http.edgetalk
            .request("POST", `${V3}/signaling/${room.token}`, { headers: sender.headers({ "content-type": "application/x-www-form-urlencoded" }), body: form({ messages: JSON.stringify(messages) }) })
            .catch((err) => log(`  long-poll send failed: ${err.message}`));
        },
        subscribe(deliver) {
          for (const p of pollers) p.onMessage = (t, k) => {
            if (t === current) deliver(k);
          };
          return () => {
            for (const p of pollers) p.onMessage = () => {};
          };
        },
      });
      longPoll.push({ "long-poll": w, "bare-do": fanout[r]["bare-do"] });
      log(`  long-poll ${r + 1}: p50 ${w.p50.toFixed(2)} ms, p99 ${w.p99.toFixed(2)} ms, ${w.cpuUs.toFixed(2)} µs CPU/delivery`);
    }
  } finally {
    for (const p of pollers) p.stop();
    await pollHttp.pool.destroy().catch(() => {});
  }

  const stormSummary = summarize(storms, ["ms", "bytes", "cpuMs"], tools.contendedAt);
  const fanoutSummary = summarize(fanout, ["p50", "p99", "cpuUs"], tools.contendedAt);
  // The long-poll rows: the same summary with the long-poll windows in EdgeTalk's column.
  const pollSummary = summarize(longPoll.map((r) => ({ edgetalk: r["long-poll"], "bare-do": r["bare-do"] })), ["p50", "p99", "cpuUs"], tools.contendedAt);
  const bareLabel = `bare DO (send() loop, ${N} sockets)`;
  const rows = [
    ...[
      { key: "ms", label: "ms until all saw all", format: "ms" },
      { key: "bytes", label: "bytes sent", format: "bytes" },
      { key: "cpuMs", label: "server CPU ms", format: "ms" },
    ].map((metric) => customRow(scenario, { title: `${scenario.title}: WebSocket join storm`, metric, format: metric.format, summary: stormSummary, baseline: "bare-do", label: bareLabel })),
    ...[
      [`${scenario.title}: WebSocket fan-out, ${RATE} msg/s to the room`, fanoutSummary],
      [`${scenario.title}: long-poll fan-out, same room, ${RATE} msg/s`, pollSummary],
    ].flatMap(([title, summary]) =>
      [
        { key: "p50", label: "p50 ms send → recipient", format: "ms" },
        { key: "p99", label: "p99 ms send → recipient", format: "ms" },
        { key: "cpuUs", label: "server CPU µs / delivery", format: "us" },
      ].map((metric) => customRow(scenario, { title, metric, format: metric.format, summary, baseline: "bare-do", label: bareLabel })),
    ),
  ];
  const contended = stormSummary.contended || fanoutSummary.contended || pollSummary.contended;
  return { rows, details: { storms: stormSummary, fanout: fanoutSummary, longPoll: pollSummary, rounds: { storms, fanout, longPoll } }, contended };
}
