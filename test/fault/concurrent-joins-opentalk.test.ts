/**
 * Fault test (issue 7), OpenTalk half: 200 invite-code guests join one room over the signaling
 * WebSocket at once. No join may fail with a 5xx, and afterwards every participant is in the room
 * exactly once, checked in the room Durable Object's own storage.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { roomStub } from "../../src/room/directory";
import { createInvite, createRoom, signIn, v1 } from "../helpers/opentalk";
import { SignalingClient } from "../helpers/signaling";

/** A guard against hangs only (200 WebSockets in one test worker take a while on a busy machine). */
const GENEROUS = { timeout: 120_000 };

describe("200 concurrent joins to one room", () => {
  it("OpenTalk: 200 invite-code guests get tickets and join over the signaling WebSocket at once; each is present exactly once", GENEROUS, async () => {
    const owner = await signIn("host");
    const room = await createRoom(owner);
    const code = await createInvite(owner, room.id);

    // Each guest connects as soon as it has its ticket, as the stock client does: all 200 at once,
    // without holding early tickets while the last are issued (tickets live 30 s).
    const tickets: Awaited<ReturnType<typeof v1>>[] = [];
    const clients = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const ticket = await v1("POST", `/v1/rooms/${room.id}/start_invited`, { json: { invite_code: code } });
        tickets.push(ticket);
        if (ticket.status !== 200) throw new Error(`start_invited answered ${ticket.status}: ${JSON.stringify(ticket.body)}`);
        return SignalingClient.connect(ticket.body.ticket as string);
      }),
    );
    expect(tickets.filter((t) => t.status >= 500)).toEqual([]);
    expect(new Set(tickets.map((t) => t.status))).toEqual(new Set([200]));
    expect(new Set(tickets.map((t) => t.body.ticket)).size).toBe(200);
    try {
      for (const [i, c] of clients.entries()) c.send("control", { action: "join", display_name: `Guest ${i}` });
      const joined = await Promise.all(clients.map((c) => c.next("control", "join_success")));
      const ids = joined.map((f) => f.payload.id as string);
      expect(new Set(ids).size).toBe(200);

      const rows = await runInDurableObject(roomStub(env, room.id), (_instance, state) =>
        state.storage.sql.exec<{ id: string; status: string; connected: number }>("SELECT id, status, connected FROM ot_participants").toArray(),
      );
      expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
      expect(rows.every((r) => r.status === "joined" && r.connected === 1)).toBe(true);
    } finally {
      for (const c of clients) c.close();
    }
  });
});
