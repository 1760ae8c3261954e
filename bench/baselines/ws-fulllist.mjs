#!/usr/bin/env node
/**
 * Baseline for the join storm: a naive Node `ws` signaling server that sends the FULL participant
 * list to every participant on every join (no deltas, no coalescing). A participant sends
 * {"namespace":"control","payload":{"action":"join","display_name":…}}; the server adds them, with
 * the same per-participant state EdgeTalk announces (id + control state), and sends everyone
 * present, the newcomer included,
 *
 *   {"namespace":"control","timestamp":…,"payload":{"message":"participants","count":k,"participants":[…]}}
 *
 * The list is serialised once per join and the same text sent to all k participants. Each socket
 * is its own room member; the room empties when all sockets closed.
 *
 * Started by bench/run.mjs on the server core; prints `{"port": <port>}` once it listens.
 */
import { randomUUID } from "node:crypto";
import { WebSocketServer } from "ws";

const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(process.env.PORT ?? 0), perMessageDeflate: false });
const present = new Map(); // socket → { id, control }

wss.on("connection", (socket) => {
  socket.on("message", (data) => {
    let msg;
    try {
      msg = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (msg?.namespace !== "control" || msg.payload?.action !== "join" || present.has(socket)) return;
    const now = new Date().toISOString();
    present.set(socket, {
      id: randomUUID(),
      control: {
        display_name: String(msg.payload.display_name ?? "Guest"),
        role: "guest",
        participation_kind: "guest",
        hand_is_up: false,
        joined_at: now,
        left_at: null,
        hand_updated_at: now,
        is_room_owner: false,
      },
    });
    const participants = [...present.values()];
    const text = JSON.stringify({ namespace: "control", timestamp: now, payload: { message: "participants", count: participants.length, participants } });
    for (const peer of present.keys()) peer.send(text);
  });
  socket.on("close", () => present.delete(socket));
});
wss.on("listening", () => console.log(JSON.stringify({ port: wss.address().port })));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wss.close(() => process.exit(0)));
