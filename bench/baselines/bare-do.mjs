/**
 * Baseline: a bare Durable Object doing the primitives EdgeTalk's room object does, and nothing
 * else: no router, no auth, no validation, no D1 write-through.
 *
 *   POST   /session?id=…        → RPC insert of one session row into the object's SQLite
 *   DELETE /session?id=…        → RPC delete of that row          (REST join / leave)
 *   GET    /members?n=50        → RPC select of n member rows, returned as JSON (participant list)
 *   GET    /ws (Upgrade)        → a hibernatable WebSocket; every text message is sent to all
 *                                  connected sockets in a plain loop of send() (fan-out)
 *
 * All requests go to one object (`getByName("bench")`), as all requests for one room go to one
 * EdgeTalk room object; `?object=<name>` picks another one (the memory scenario spreads its
 * sockets over as many objects as EdgeTalk has rooms).
 */
import { DurableObject } from "cloudflare:workers";

export class BareRoom extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(
        `CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
         CREATE TABLE IF NOT EXISTS members (id INTEGER PRIMARY KEY, actor_id TEXT NOT NULL, display_name TEXT NOT NULL,
           participant_type INTEGER NOT NULL, permissions INTEGER NOT NULL);`,
      );
    });
  }

  insertSession(id) {
    this.ctx.storage.sql.exec("INSERT INTO sessions (id, created_at) VALUES (?, ?)", id, Date.now());
  }

  deleteSession(id) {
    this.ctx.storage.sql.exec("DELETE FROM sessions WHERE id = ?", id);
  }

  listMembers(n) {
    const sql = this.ctx.storage.sql;
    const have = sql.exec("SELECT count(*) AS n FROM members").one().n;
    for (let i = have; i < n; i++) sql.exec("INSERT INTO members (actor_id, display_name, participant_type, permissions) VALUES (?, ?, 3, 0)", `user${i}`, `User ${i}`);
    return sql.exec("SELECT * FROM members ORDER BY id LIMIT ?", n).toArray();
  }

  fetch(request) {
    if (request.headers.get("Upgrade") !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  webSocketMessage(_ws, message) {
    for (const socket of this.ctx.getWebSockets()) socket.send(message);
  }

  webSocketClose(ws, code) {
    ws.close(code, "closing");
  }
}

const JSON_HEADERS = { "Content-Type": "application/json" };

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const room = env.BARE.getByName(url.searchParams.get("object") ?? "bench");
    if (url.pathname === "/session") {
      const id = url.searchParams.get("id") ?? "";
      if (request.method === "POST") await room.insertSession(id);
      else if (request.method === "DELETE") await room.deleteSession(id);
      else return new Response(null, { status: 405 });
      return new Response('{"ok":true}', { headers: JSON_HEADERS });
    }
    if (url.pathname === "/members") {
      const rows = await room.listMembers(Number(url.searchParams.get("n") ?? "50"));
      return new Response(JSON.stringify(rows), { headers: JSON_HEADERS });
    }
    if (url.pathname === "/ws") return room.fetch(request);
    return new Response(null, { status: 404 });
  },
};
