/**
 * WebSocket plumbing shared by the signaling scenarios (2, 3, 5): the OpenTalk meeting owner,
 * meetings of N participants on EdgeTalk, and groups of plain sockets on the baselines.
 */
import { cpuWindow } from "../lib/custom.mjs";
import { mapLimit } from "../lib/ocs.mjs";
import { closeAll, guestTicket, joinMeeting, OpenTalkUser, openSocket, signalingSocket, sleep } from "../lib/opentalk.mjs";
import { PASSWORD } from "./shared.mjs";

/** The user who creates the meetings and sends as moderator (one per run). */
export function meetingOwner(ctx) {
  return ctx.once("opentalk-owner", () => OpenTalkUser.create(ctx, "bench-ot-owner", PASSWORD));
}

/**
 * A fresh EdgeTalk meeting room with `n` joined participants: the owner (a moderator, index 0)
 * and n − 1 invite-code guests. Tickets are single-use and live 30 s, so each is fetched right
 * before its socket connects. Resolves once every participant has joined and the join
 * announcements have been delivered.
 */
export async function edgetalkMeeting(ctx, n, { concurrency = 8 } = {}) {
  const owner = await meetingOwner(ctx);
  const { roomId, inviteCode } = await owner.roomWithInvite();
  const origin = ctx.http.edgetalk.origin;
  const first = await signalingSocket(origin, await owner.ticket(roomId));
  const hello = await joinMeeting(first, "Bench owner");
  const guests = await mapLimit(Array.from({ length: n - 1 }, (_, i) => i), concurrency, async (i) => {
    const socket = await signalingSocket(origin, await guestTicket(ctx.http.edgetalk, roomId, inviteCode));
    await joinMeeting(socket, `Guest ${i + 1}`);
    return socket;
  });
  await sleep(600); // coalesced `joined` announcements (250 ms window) are flushed
  return { roomId, sockets: [first, ...guests], ownerId: hello.id };
}

/** `n` plain sockets on a baseline (bare DO /ws or a Node server). */
export function plainSockets(url, n) {
  return mapLimit(Array.from({ length: n }, (_, i) => i), 16, () => openSocket(url));
}

/** Sends an echo from every EdgeTalk socket, so the room's idle timeout (60 s) never fires. */
export async function keepAlive(sockets) {
  for (const s of sockets) s.handler = () => {};
  for (const s of sockets) s.send('{"namespace":"echo","payload":"keep-alive"}');
  await sleep(300);
}

/**
 * A join storm (scenarios 3 and 7): every socket sends `send(i)` at the same moment; resolves when
 * every socket has seen all the others. `seen(data, state)` returns how many others the socket
 * knows (`state.known` is a Set it may keep them in, `state.i` the socket's index). Measured from
 * the first send: ms, the bytes the clients received, and the server's CPU time (of `pids`).
 */
export function storm({ sockets, send, seen, pids }) {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let complete = 0;
    const states = sockets.map((_, i) => ({ i, known: new Set(), done: false }));
    const t0 = performance.now();
    const cpu = cpuWindow(pids);
    const timer = setTimeout(() => reject(new Error(`join storm: only ${complete} of ${sockets.length} participants saw everyone within 60 s`)), 60_000);
    for (const [i, socket] of sockets.entries()) {
      socket.handler = (data) => {
        bytes += data.length;
        const state = states[i];
        if (state.done || seen(data, state) < sockets.length - 1) return;
        state.done = true;
        complete += 1;
        if (complete < sockets.length) return;
        const ms = performance.now() - t0;
        const used = cpu.stop();
        clearTimeout(timer);
        // Frames still in flight after the last participant completed count too.
        setTimeout(() => {
          for (const s of sockets) s.handler = () => {};
          resolve({ ms, bytes, cpuMs: used.serverSeconds * 1000, otherCpu: used.otherCpu });
        }, 300);
      };
    }
    for (const [i, socket] of sockets.entries()) socket.send(send(i));
  });
}

export { closeAll, sleep };
