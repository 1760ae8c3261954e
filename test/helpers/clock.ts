/**
 * Time passing for a room's sessions: their last ping moved `seconds` into the past through the
 * room's own write path (`RoomStore.ping`), so the rows the object keeps in memory see it too,
 * as they would see real pings stop.
 */
import { runInDurableObject } from "cloudflare:test";
import type { RoomStore } from "../../src/room/store";

type Stub = Parameters<typeof runInDurableObject>[0];

/** Every session of the room, or only `sessionId`, last pinged `seconds` earlier than it was. */
export async function ageSessions(stub: Stub, seconds: number, sessionId?: string): Promise<void> {
  await runInDurableObject(stub, (instance) => {
    const store = (instance as unknown as { store: RoomStore }).store;
    for (const s of store.sessions()) if (sessionId === undefined || s.id === sessionId) store.ping(s.id, s.lastPing - seconds);
  });
}
