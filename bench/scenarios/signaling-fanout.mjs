/**
 * Scenario 2: signaling fan-out. N participants (50, 200) in one room, one sender; every
 * message reaches all N sockets (the sender's own included, as in both baselines).
 *
 *   EdgeTalk   OpenTalk signaling: the room owner (a moderator) sends
 *              {"namespace":"moderation","payload":{"action":"enable_raise_hands"}}; the room
 *              object answers with a `raise_hands_enabled` frame to every joined participant.
 *              Why this message: it is EdgeTalk's only per-message broadcast to all participants.
 *              There is no chat namespace, and raise/lower hand reaches the others as a coalesced
 *              `update` (in rooms of 25 or more, one per participant per 250 ms window), which
 *              would measure the coalescing window rather than the fan-out.
 *   bare DO    GET /ws on the bare Durable Object: each message goes to every socket in a loop of
 *              send() (hibernation API, like EdgeTalk).
 *   Node ws    bench/baselines/ws-broadcast.mjs: the same loop in a Node `ws` server.
 *   The baselines are sent a text of the same length as EdgeTalk's outgoing frame.
 *
 * Two loads per size: closed loop (8 messages in flight; a message is done when all N sockets
 * have it) and open loop (20 messages/s, whatever the server does; each round measures every
 * target in interleaved 1 s slices, see OPEN_SLICES). Per window: deliveries/s,
 * p50 / p99 send-to-receive latency of every delivery, and server CPU per delivery (CPU time of
 * workerd, or of the Node server, from /proc's per-thread run times in nanoseconds, over the
 * window ÷ deliveries in the window).
 * Messages from one sender reach each socket in order, so the k-th frame a socket receives is the
 * k-th message sent; the run checks that every socket got every message.
 */
import { customRow, summarize } from "../lib/custom.mjs";
import { combineWindows, rawDeliveryWindow } from "../lib/delivery.mjs";
import { closeAll, edgetalkMeeting, keepAlive, plainSockets, sleep } from "./shared-ws.mjs";

const SIZES = [50, 200];
const LOADS = [
  { id: "closed", label: "closed loop, 8 in flight", inFlight: 8 },
  { id: "open", label: "open loop, 20 msg/s", rate: 20 },
];
/**
 * Open loop: per round, each target is measured in this many 1 s slices, interleaved with the
 * others'. At 20 msg/s the server uses a few percent of a core, and what one delivery costs then
 * moves with the machine (in one run the Node server's own figure went from 25 to 99 µs between
 * rounds, as did both workerd targets'); slices seconds apart see the same machine.
 */
const OPEN_SLICES = 6;
const OPEN_SLICE_MS = 1000;
const EDGETALK_FRAME = JSON.stringify({ namespace: "moderation", payload: { action: "enable_raise_hands" } });

/**
 * One window on `sockets` (bench/lib/delivery.mjs): the first socket sends `frame`; messages from
 * one sender reach each socket in order, so the k-th matching frame a socket receives is message k.
 */
function fanoutWindow({ sockets, frame, match, load, warmupMs, windowMs, pids }) {
  return rawDeliveryWindow({
    n: sockets.length,
    load,
    warmupMs,
    windowMs,
    pids,
    send: () => sockets[0].send(frame),
    subscribe(deliver) {
      for (const socket of sockets) {
        let count = 0;
        socket.handler = (data) => {
          if (match(data)) deliver(count++);
        };
      }
      return () => {
        for (const s of sockets) s.handler = () => {};
      };
    },
  });
}

export default {
  id: "signaling-fanout",
  number: "2",
  title: "WebSocket fan-out",

  async prepare(ctx) {
    return { run: (tools) => run(ctx, tools, this) };
  },
};

async function run(ctx, tools, scenario) {
  const { settings, log } = ctx;
  // Closed loop: shorter windows than the REST scenarios (one window holds thousands of
  // deliveries, and the run has a time budget). Open loop: OPEN_SLICES slices of OPEN_SLICE_MS.
  const windowMs = Math.min(settings.windowMs, 3000);
  const warmupMs = Math.min(settings.warmupMs, 1000);
  const ws = await ctx.nodeBaseline("ws-broadcast");
  const rows = [];
  const details = {};
  let contended = false;

  for (const n of SIZES) {
    log(`  ${n} participants: joining EdgeTalk meeting, opening baseline sockets`);
    const meeting = await edgetalkMeeting(ctx, n);
    // Same length as EdgeTalk's broadcast frame (which names the sender and carries a timestamp).
    const sample = JSON.stringify({
      namespace: "moderation",
      timestamp: new Date().toISOString(),
      payload: { message: "raise_hands_enabled", issued_by: meeting.ownerId },
    });
    const targets = [
      { id: "edgetalk", label: "EdgeTalk", sockets: meeting.sockets, frame: EDGETALK_FRAME, match: (d) => d.includes("raise_hands_enabled"), pids: [tools.serverPid] },
      { id: "bare-do", label: "bare DO (send() loop)", sockets: await plainSockets(`${ctx.http["bare-do"].origin.replace(/^http/, "ws")}/ws?object=fanout-${n}`, n), frame: sample, match: () => true, pids: [tools.serverPid] },
      { id: "node-ws", label: "Node ws broadcast server", sockets: await plainSockets(ws.url, n), frame: sample, match: () => true, pids: [ws.pid] },
    ];
    for (const load of LOADS) {
      const phase = `${n}-${load.id}`;
      const rounds = [];
      for (let r = 0; r < settings.repeats; r++) {
        const windows = Object.fromEntries(targets.map((t) => [t.id, []]));
        const slices = load.rate ? OPEN_SLICES : 1;
        const timing = load.rate ? { warmupMs: 300, windowMs: OPEN_SLICE_MS } : { warmupMs, windowMs };
        for (let slice = 0; slice < slices; slice++) {
          for (let k = 0; k < targets.length; k++) {
            const t = targets[(k + r + slice) % targets.length];
            if (t.id === "edgetalk") await keepAlive(t.sockets);
            await tools.quiet();
            windows[t.id].push(await fanoutWindow({ sockets: t.sockets, frame: t.frame, match: t.match, load, ...timing, pids: t.pids }));
          }
        }
        const round = {};
        for (const t of targets) {
          const w = combineWindows(windows[t.id]);
          round[t.id] = w;
          const other = w.otherCpu === null ? "" : `, other processes ${Math.round(w.otherCpu * 100)} %`;
          const sliced = slices > 1 ? ` (${slices} slices)` : "";
          log(`  ${phase} round ${r + 1} ${t.label}${sliced}: ${Math.round(w.rate)} deliveries/s, p50 ${w.p50.toFixed(2)} ms, p99 ${w.p99.toFixed(2)} ms, ${w.cpuUs.toFixed(2)} µs CPU/delivery (server ${Math.round(w.serverCpu * 100)} %${other})`);
        }
        rounds.push(round);
      }
      const summary = summarize(rounds, ["rate", "p50", "p99", "cpuUs"], tools.contendedAt);
      contended ||= summary.contended;
      details[phase] = { summary, rounds };
      const title = `Fan-out, ${n} participants, ${load.label}`;
      const metrics = [
        ...(load.inFlight ? [{ key: "rate", label: "deliveries/s", format: "count" }] : []),
        { key: "p50", label: "p50 ms send → receive", format: "ms" },
        { key: "p99", label: "p99 ms send → receive", format: "ms" },
        { key: "cpuUs", label: "server CPU µs / delivery", format: "us" },
      ];
      for (const metric of metrics) {
        for (const t of targets.slice(1)) {
          const target = metric.key === "cpuUs" && t.id === "bare-do" ? { atMost: 1.1 } : null;
          rows.push(customRow(scenario, { title, metric, format: metric.format, summary, baseline: t.id, label: t.label, target }));
        }
      }
    }
    for (const t of targets) await closeAll(t.sockets);
    await sleep(500);
  }
  return { rows, details, contended };
}
