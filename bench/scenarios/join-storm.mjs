/**
 * Scenario 3: join storm. 200 participants, already connected, send `join` to one room at the
 * same moment.
 *
 *   EdgeTalk    OpenTalk signaling (a fresh room per storm, 200 invite-code guests): each joiner
 *               gets `join_success` with everyone present, the others learn of it through
 *               `joined`, coalesced in rooms of 25 or more (one announcement per participant per
 *               250 ms window).
 *   full lists  bench/baselines/ws-fulllist.mjs: a naive Node `ws` server that sends the full
 *               participant list (same per-participant state) to everyone on every join.
 *
 * Measured per storm, from the first `join` sent: the time until every participant has seen all
 * 199 others, the bytes the server sent (WebSocket payloads received by the 200 clients) and the
 * server's CPU time (workerd or the Node server, from /proc) over that time.
 */
import { customRow, summarize } from "../lib/custom.mjs";
import { mapLimit } from "../lib/ocs.mjs";
import { frame, guestTicket, signalingSocket } from "../lib/opentalk.mjs";
import { closeAll, meetingOwner, plainSockets, sleep, storm } from "./shared-ws.mjs";

const N = 200;
const COUNT = /"count":(\d+)/;

/** EdgeTalk: others known from join_success plus `joined` (minus `left`, which a storm has none of). */
function edgetalkSeen(data, state) {
  const msg = JSON.parse(data.toString());
  const p = msg.payload ?? {};
  if (p.message === "join_success") for (const other of p.participants ?? []) state.known.add(other.id);
  else if (p.message === "joined") state.known.add(p.id);
  else if (p.message === "left") state.known.delete(p.id);
  return state.known.size;
}

/** Full lists: the latest list's count, minus the participant itself. */
function fullListSeen(data) {
  const m = COUNT.exec(data.subarray(0, 200).toString());
  return m ? Number(m[1]) - 1 : 0;
}

export default {
  id: "join-storm",
  number: "3",
  title: `Join storm (${N} participants)`,

  async prepare(ctx) {
    return { run: (tools) => run(ctx, tools, this) };
  },
};

async function run(ctx, tools, scenario) {
  const { settings, log } = ctx;
  const owner = await meetingOwner(ctx);
  const naive = await ctx.nodeBaseline("ws-fulllist");
  const origin = ctx.http.edgetalk.origin;
  const targets = [
    {
      id: "edgetalk",
      label: "EdgeTalk",
      pids: [tools.serverPid],
      seen: edgetalkSeen,
      async connect() {
        const { roomId, inviteCode } = await owner.roomWithInvite();
        // Tickets live 30 s: each is fetched right before its socket connects.
        return mapLimit(Array.from({ length: N }, (_, i) => i), 8, async () => signalingSocket(origin, await guestTicket(ctx.http.edgetalk, roomId, inviteCode)));
      },
    },
    { id: "full-list", label: "Node ws, full list on every join", pids: [naive.pid], seen: fullListSeen, connect: () => plainSockets(naive.url, N) },
  ];
  const rounds = [];
  for (let r = 0; r < settings.repeats; r++) {
    const round = {};
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(k + r) % targets.length];
      const sockets = await t.connect();
      await sleep(300);
      await tools.quiet();
      const result = await storm({ sockets, send: (i) => frame("control", { action: "join", display_name: `Guest ${i + 1}` }), seen: t.seen, pids: t.pids });
      round[t.id] = result;
      const other = result.otherCpu === null ? "" : `, other processes ${Math.round(result.otherCpu * 100)} %`;
      log(`  round ${r + 1} ${t.label}: everyone saw everyone after ${result.ms.toFixed(0)} ms, ${(result.bytes / 1024 / 1024).toFixed(2)} MiB sent, server CPU ${result.cpuMs.toFixed(0)} ms${other}`);
      await closeAll(sockets);
      await sleep(500);
    }
    rounds.push(round);
  }
  const summary = summarize(rounds, ["ms", "bytes", "cpuMs"], tools.contendedAt);
  const title = scenario.title;
  const label = targets[1].label;
  const rows = [
    customRow(scenario, { title, metric: { key: "ms", label: "ms until all saw all" }, format: "ms", summary, baseline: "full-list", label }),
    customRow(scenario, { title, metric: { key: "bytes", label: "bytes sent" }, format: "bytes", summary, baseline: "full-list", label, target: { atMost: 0.1 } }),
    customRow(scenario, { title, metric: { key: "cpuMs", label: "server CPU ms" }, format: "ms", summary, baseline: "full-list", label }),
  ];
  return { rows, details: { summary, rounds }, contended: summary.contended };
}
