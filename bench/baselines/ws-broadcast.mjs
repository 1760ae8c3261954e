#!/usr/bin/env node
/**
 * Baseline: a minimal Node `ws` broadcast server, the reference point for the WebSocket fan-out
 * scenarios. Every text message received is sent to every connected client (the sender included),
 * in a plain loop: the same primitive as the bare Durable Object's webSocketMessage().
 *
 * Started by bench/run.mjs on the server core. Listens on 127.0.0.1:$PORT (0 = any free port) and
 * prints `{"port": <port>}` on stdout once it listens.
 */
import { WebSocketServer } from "ws";

const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(process.env.PORT ?? 0) });
wss.on("connection", (socket) => {
  socket.on("message", (data, isBinary) => {
    for (const client of wss.clients) client.send(data, { binary: isBinary });
  });
});
wss.on("listening", () => console.log(JSON.stringify({ port: wss.address().port })));
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wss.close(() => process.exit(0)));
