/**
 * Scenario 5: memory of idle sessions. 1,000 signaling sessions, 100 per room in 10 rooms, joined
 * and then left idle.
 *
 *   EdgeTalk   OpenTalk signaling sockets (invite-code guests), each joined to its meeting.
 *   bare DO    1,000 hibernatable WebSockets on the bare Durable Object, 100 per object in 10
 *              objects (as EdgeTalk has 10 room objects).
 *
 * Each target runs in a workerd process of its own, started for it (`ctx.freshServer()`): nothing
 * another scenario or the other target allocated is in its figures. workerd's resident set size
 * (VmRSS from /proc) is read before the sockets open (after the seed data: users, rooms), once all
 * are open (and joined), and again after they sat idle: the hibernation API lets workerd evict an
 * object whose sockets are all idle and keep only the sockets, so the idle figure is the one that
 * counts. Every reading follows a full garbage collection in both Workers' isolates (through the
 * DevTools protocol), so request garbage does not count as session memory. RSS per session =
 * (RSS − RSS before) ÷ 1,000. Pages V8 or the allocator keeps after a collection are not returned
 * to the OS, so these are upper bounds.
 */
import { readFileSync } from "node:fs";
import { customRow } from "../lib/custom.mjs";
import { collectGarbage } from "../lib/inspector.mjs";
import { mapLimit } from "../lib/ocs.mjs";
import { guestTicket, joinMeeting, signalingSocket } from "../lib/opentalk.mjs";
import { closeAll, keepAlive, meetingOwner, plainSockets, sleep } from "./shared-ws.mjs";

const ROOMS = 10;
const PER_ROOM = 100;
const SESSIONS = ROOMS * PER_ROOM;

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

export default {
  id: "idle-memory",
  number: "5",
  title: `Memory per idle session (${SESSIONS.toLocaleString("en-US")} sessions)`,

  async prepare(ctx) {
    return { run: (tools) => run(ctx, tools, this) };
  },
};

async function run(ctx, _tools, scenario) {
  const { settings, log } = ctx;
  const idleMs = settings.quick ? 5_000 : 20_000;

  const targets = [
    {
      id: "bare-do",
      seed: async () => null,
      async open(server) {
        const all = [];
        const ws = server.http["bare-do"].origin.replace(/^http/, "ws");
        for (let r = 0; r < ROOMS; r++) all.push(...(await plainSockets(`${ws}/ws?object=idle-${r}`, PER_ROOM)));
        return all;
      },
    },
    {
      id: "edgetalk",
      async seed(server) {
        const owner = await meetingOwner(server);
        const rooms = [];
        for (let r = 0; r < ROOMS; r++) rooms.push(await owner.roomWithInvite());
        return rooms;
      },
      async open(server, rooms) {
        const all = [];
        const origin = server.http.edgetalk.origin;
        for (const { roomId, inviteCode } of rooms) {
          const sockets = await mapLimit(Array.from({ length: PER_ROOM }, (_, i) => i), 8, async (i) => {
            const socket = await signalingSocket(origin, await guestTicket(server.http.edgetalk, roomId, inviteCode));
            await joinMeeting(socket, `Guest ${i + 1}`);
            return socket;
          });
          all.push(...sockets);
        }
        return all;
      },
    },
  ];

  const figures = {};
  for (const t of targets) {
    const server = await ctx.freshServer({ inspector: true });
    const pid = server.workerdPid;
    // Each reading follows a full collection in both Workers' isolates: what is left is what is
    // kept (request garbage would otherwise count as session memory until V8 collects it).
    const settled = async () => {
      // D1 runs in the same process locally (Miniflare's D1 Worker), not in production: its garbage
      // is collected too (the administrator's user list makes EdgeTalk query it, so that it runs).
      const d1 = () => server.admin.call("GET", "/ocs/v2.php/cloud/users");
      await collectGarbage(server.inspectorPort, {
        edgetalk: () => server.http.edgetalk.request("GET", "/status.php"),
        "bare-do": () => server.http["bare-do"].request("GET", "/", { expect: [404] }),
        "d1:db": d1,
        "d1:db:edgetalk-local": d1,
      });
      await sleep(500);
      return rssBytes(pid);
    };
    try {
      if (!pid) return { rows: [{ number: scenario.number, scenario: scenario.title, note: "not measured (no /proc)" }], details: {}, contended: false };
      const seeded = await t.seed(server);
      await sleep(1000);
      const before = await settled();
      const sockets = await t.open(server, seeded);
      await sleep(1000);
      const open = await settled();
      // Idle: nothing is sent (the EdgeTalk sockets send one echo each first, so the room's 60 s
      // idle timeout cannot close them while we wait; the echo replies are ignored).
      if (t.id === "edgetalk") await keepAlive(sockets);
      await sleep(idleMs);
      const idle = await settled();
      const alive = sockets.filter((s) => s.readyState === 1).length;
      figures[t.id] = { before, open, idle, alive, openPerSession: (open - before) / SESSIONS, idlePerSession: (idle - before) / SESSIONS };
      log(`  ${t.id} (own workerd): RSS ${(before / 2 ** 20).toFixed(1)} MiB before, ${(open / 2 ** 20).toFixed(1)} MiB with ${SESSIONS} sessions open, ${(idle / 2 ** 20).toFixed(1)} MiB after ${idleMs / 1000} s idle (${alive} sockets still open)`);
      if (alive !== SESSIONS) throw new Error(`${t.id}: only ${alive} of ${SESSIONS} sockets stayed open`);
      await closeAll(sockets);
    } finally {
      await server.stop();
    }
  }
  const round = { edgetalk: figures.edgetalk, "bare-do": figures["bare-do"] };
  const summary = {
    medians: round,
    ratios: { "bare-do": { openPerSession: round.edgetalk.openPerSession / round["bare-do"].openPerSession, idlePerSession: round.edgetalk.idlePerSession / round["bare-do"].idlePerSession } },
    contended: false,
  };
  const label = "bare DO (hibernatable sockets)";
  const rows = [
    customRow(scenario, { title: scenario.title, metric: { key: "openPerSession", label: "workerd RSS / session, all open and joined" }, format: "bytes", summary, baseline: "bare-do", label }),
    customRow(scenario, { title: scenario.title, metric: { key: "idlePerSession", label: `workerd RSS / session after ${idleMs / 1000} s idle` }, format: "bytes", summary, baseline: "bare-do", label, target: { atMost: 2 } }),
  ];
  return { rows, details: { idleMs, figures }, contended: false };
}
