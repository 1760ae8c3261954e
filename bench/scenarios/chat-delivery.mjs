/**
 * Scenario 6: chat delivery across both dialects. One room, 200 participants: 100 in the OpenTalk
 * meeting (the room's creator and 99 invite-code guests, each on a signaling socket) and 100 Talk
 * users waiting in the chat long-poll (`GET api/v1/chat/{token}?lookIntoFuture=1&timeout=30`,
 * Basic auth, as the Talk apps do it, each re-polling from the last message it got). 20 messages/s,
 * alternately from the meeting (`chat/send_message`, global scope) and from Talk (`POST
 * api/v1/chat/{token}`); every message reaches all 200 (the OpenTalk sockets as `message_sent`, the
 * long-polls in their answer).
 *
 *   bare DO   the same 20 messages/s to 200 hibernatable sockets of the bare Durable Object (a loop
 *             of send()), a text as long as EdgeTalk's `message_sent` frame.
 *
 * Per window: p50 / p99 from sending a message to each participant having it, and server CPU
 * (workerd, from /proc) per delivered message. The run checks that every participant got every
 * message sent in the window.
 */
import { Http } from "../lib/http.mjs";
import { customRow, summarize } from "../lib/custom.mjs";
import { deliveryWindow } from "../lib/delivery.mjs";
import { basicAuth, createGroup, createUser, mapLimit, OcsUser, pollLoop, TALK } from "../lib/ocs.mjs";
import { guestTicket, joinMeeting, OpenTalkUser, signalingSocket } from "../lib/opentalk.mjs";
import { PASSWORD } from "./shared.mjs";
import { closeAll, keepAlive, plainSockets, sleep } from "./shared-ws.mjs";

const PER_DIALECT = 100;
const RATE = 20;
const CHAT = "/ocs/v2.php/apps/spreed/api/v1/chat";

export default {
  id: "chat-delivery",
  number: "6",
  title: "Chat delivery, both dialects",

  async prepare(ctx) {
    return { run: (tools) => run(ctx, tools, this) };
  },
};

/**
 * The room: a public Talk conversation with a group of PER_DIALECT + 1 users; its creator also starts the
 * OpenTalk meeting of the same room and invites the guests.
 */
async function seed(ctx) {
  const group = `bench-chat-${Date.now().toString(36)}`;
  await createGroup(ctx.admin, group);
  const users = Array.from({ length: PER_DIALECT + 1 }, (_, i) => `${group}-${String(i).padStart(3, "0")}`);
  await mapLimit(users, 4, (u) => createUser(ctx.admin, u, PASSWORD, [group]));
  const creator = new OcsUser(ctx.http.edgetalk, users[0], PASSWORD);
  // Public (type 3): the meeting's invite-code guests may join it.
  const token = (await creator.call("POST", `${TALK}/room`, { roomType: 3, roomName: "Bench chat", invite: group })).token;
  // The creator's only room: its OpenTalk id is the one /v1/rooms lists.
  const owner = await OpenTalkUser.signIn(ctx, users[0], PASSWORD);
  const rooms = await owner.v1("GET", "/v1/rooms");
  const roomId = rooms[0].id;
  const invite = await owner.v1("POST", `/v1/rooms/${roomId}/invites`, {});
  return { token, roomId, inviteCode: invite.invite_code, owner, talkUsers: users.slice(1) };
}

async function meeting(ctx, room) {
  const origin = ctx.http.edgetalk.origin;
  const first = await signalingSocket(origin, await room.owner.ticket(room.roomId));
  await joinMeeting(first, "Bench creator");
  const guests = await mapLimit(Array.from({ length: PER_DIALECT - 1 }, (_, i) => i), 8, async (i) => {
    const socket = await signalingSocket(origin, await guestTicket(ctx.http.edgetalk, room.roomId, room.inviteCode));
    await joinMeeting(socket, `Guest ${i + 1}`);
    return socket;
  });
  await sleep(600);
  return [first, ...guests];
}

/** A Talk client's chat long-poll loop; `onMessage(tag, k)` for each bench message it receives. */
function longPoller(http, token, user, lastKnown) {
  const auth = basicAuth(user, PASSWORD);
  let last = lastKnown;
  return pollLoop(`chat long-poll of ${user}`, async (poller) => {
    const res = await http.request("GET", `${CHAT}/${token}?lookIntoFuture=1&timeout=30&limit=100&lastKnownMessageId=${last}`, {
      headers: { authorization: auth, "ocs-apirequest": "true", accept: "application/json" },
      expect: [200, 304],
    });
    if (res.status === 304) return;
    for (const m of JSON.parse(res.text).ocs.data) {
      last = Math.max(last, m.id);
      const match = /^bench (\d+) (\d+)$/.exec(m.message);
      if (match) poller.onMessage(Number(match[1]), Number(match[2]));
    }
  });
}

/**
 * One window (bench/lib/delivery.mjs) at RATE messages/s, sent alternately by `senders`; each
 * message's text carries the window's tag and its number, which the recipients report back.
 */
function chatWindow({ tag, recipients, senders, warmupMs, windowMs, pids }) {
  return deliveryWindow({
    n: recipients.length,
    load: { rate: RATE },
    warmupMs,
    windowMs,
    pids,
    drainMs: 40_000,
    send: (k) => senders[k % senders.length](`bench ${tag} ${k}`),
    subscribe(deliver) {
      for (const r of recipients) {
        r.onMessage = (windowTag, k) => {
          if (windowTag === tag) deliver(k);
        };
      }
      return () => {
        for (const r of recipients) r.onMessage = () => {};
      };
    },
  });
}

async function run(ctx, tools, scenario) {
  const { settings, log } = ctx;
  const windowMs = Math.min(settings.windowMs, 3000);
  const warmupMs = Math.min(settings.warmupMs, 1000);
  log(`  seeding ${PER_DIALECT + 1} Talk users and the room`);
  const room = await seed(ctx);
  log(`  ${PER_DIALECT} OpenTalk participants joining, ${PER_DIALECT} Talk long-polls starting`);
  const sockets = await meeting(ctx, room);
  // Long-polls hold one connection each; their own pool, so the seeding pool is not starved.
  const pollHttp = new Http(ctx.http.edgetalk.origin, PER_DIALECT + 8);
  const talkSender = new OcsUser(ctx.http.edgetalk, room.talkUsers[0], PASSWORD);
  const latest = await talkSender.call("POST", `${CHAT}/${room.token}`, { message: "hello" });
  const pollers = room.talkUsers.map((u) => longPoller(pollHttp, room.token, u, latest.id));
  const otRecipients = sockets.map((socket) => {
    const r = { onMessage: () => {} };
    socket.handler = otHandler(r);
    return r;
  });
  let runId = 0;
  const edgetalkSenders = [
    (text) => sockets[0].send(JSON.stringify({ namespace: "chat", payload: { action: "send_message", scope: "global", content: text } })),
    (text) => talkSender.call("POST", `${CHAT}/${room.token}`, { message: text }).catch((err) => log(`  Talk send failed: ${err.message}`)),
  ];
  const sample = JSON.stringify({
    namespace: "chat",
    timestamp: new Date().toISOString(),
    payload: { message: "message_sent", id: "00000000-0000-4000-8000-000000000123", source: "0d7a5b0c-3f53-4b6e-9f3c-2a1e5c4d6b7a", content: "bench 1 123", scope: "global" },
  });
  const bare = await plainSockets(`${ctx.http["bare-do"].origin.replace(/^http/, "ws")}/ws?object=chat-${PER_DIALECT * 2}`, PER_DIALECT * 2);
  const bareRecipients = bare.map((socket) => {
    const r = { onMessage: () => {} };
    socket.handler = (data) => {
      const match = /bench (\d+) (\d+)/.exec(data.toString());
      if (match) r.onMessage(Number(match[1]), Number(match[2]));
    };
    return r;
  });
  const bareSenders = [(text) => bare[0].send(sample.replace("bench 1 123", text))];

  const rounds = [];
  try {
    for (let r = 0; r < settings.repeats; r++) {
      const round = {};
      const targets = [
        { id: "edgetalk", label: "EdgeTalk", recipients: [...otRecipients, ...pollers], senders: edgetalkSenders },
        { id: "bare-do", label: "bare DO (send() loop)", recipients: bareRecipients, senders: bareSenders },
      ];
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + r) % targets.length];
        if (t.id === "edgetalk") {
          await keepAlive(sockets);
          for (const [j, s] of sockets.entries()) s.handler = otHandler(otRecipients[j]);
        }
        await tools.quiet();
        runId += 1;
        const w = await chatWindow({ tag: runId, recipients: t.recipients, senders: t.senders, warmupMs, windowMs, pids: [tools.serverPid] });
        round[t.id] = w;
        log(`  round ${r + 1} ${t.label}: p50 ${w.p50.toFixed(2)} ms, p99 ${w.p99.toFixed(2)} ms, ${w.cpuUs.toFixed(2)} µs CPU/delivery (server ${Math.round(w.serverCpu * 100)} %)`);
      }
      rounds.push(round);
    }
  } finally {
    for (const p of pollers) p.stop();
    await closeAll([...sockets, ...bare]);
  }
  const summary = summarize(rounds, ["p50", "p99", "cpuUs"], tools.contendedAt);
  const title = `Chat, ${PER_DIALECT} OpenTalk sockets + ${PER_DIALECT} Talk long-polls, ${RATE} msg/s from both dialects`;
  const rows = [
    { key: "p50", label: "p50 ms send → every participant", format: "ms" },
    { key: "p99", label: "p99 ms send → every participant", format: "ms" },
    { key: "cpuUs", label: "server CPU µs / delivered message", format: "us" },
  ].map((metric) => customRow(scenario, { title, metric, format: metric.format, summary, baseline: "bare-do", label: "bare DO (send() loop, 200 sockets)" }));
  await pollHttp.pool.destroy().catch(() => {});
  return { rows, details: { summary, rounds }, contended: summary.contended };
}

/** The OpenTalk socket handler feeding a recipient (re-installed after keep-alive pings). */
function otHandler(recipient) {
  return (data) => {
    const text = data.toString();
    if (!text.includes('"message_sent"')) return;
    const match = /"content":"bench (\d+) (\d+)"/.exec(text);
    if (match) recipient.onMessage(Number(match[1]), Number(match[2]));
  };
}
