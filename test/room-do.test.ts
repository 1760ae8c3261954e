import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { findUserByLogin } from "../src/db/users";
import { newRoomToken, resolveToken, roomStub } from "../src/room/directory";
import { RoomType } from "../src/room/types";
import { ageSessions } from "./helpers/clock";
import { evictDurableObject } from "./helpers/evict";
import { createUser } from "./helpers/http";

describe("room Durable Object", () => {
  it("creates a room over RPC, indexes it in D1, and keeps its state across a real eviction", async () => {
    const creds = await createUser("owner");
    const owner = await findUserByLogin(database(env), creds.user);
    if (!owner) throw new Error("user missing");
    const id = crypto.randomUUID();
    const token = newRoomToken();
    expect(token).toMatch(/^[a-z0-9]{12}$/);
    const stub = roomStub(env, id);

    const created = await stub.create({
      id,
      token,
      type: RoomType.Group,
      name: "Design review",
      createdBy: owner.id,
      owner: { actorType: "users", actorId: owner.userid, displayName: owner.displayName, userUuid: owner.id },
    });
    expect(created.meta).toMatchObject({ id, token, type: 2, name: "Design review", lobbyState: 0 });
    expect(created.attendees).toEqual([
      expect.objectContaining({ actorType: "users", actorId: owner.userid, participantType: 1, permissions: 0 }),
    ]);

    // The directory resolves the token, and the per-user index lists the room for its owner.
    expect(await resolveToken(env, token)).toEqual({ id, serial: expect.any(Number) });
    const member = await env.DB.prepare("SELECT participant_type, attendee_id FROM room_members WHERE room_id = ? AND user_id = ?")
      .bind(id, owner.id)
      .first();
    expect(member).toEqual({ participant_type: 1, attendee_id: created.attendees[0]?.id });

    // Creating again with the same id is idempotent.
    const again = await stub.create({ id, token, type: RoomType.Public, name: "other", createdBy: null });
    expect(again.meta.name).toBe("Design review");

    await evictDurableObject(stub);
    const after = await stub.snapshot();
    expect(after).toEqual(created);
  }, 60_000);

  it("reports no state for a room that was never created", async () => {
    expect(await roomStub(env, crypto.randomUUID()).snapshot()).toBeNull();
    expect(await resolveToken(env, "nosuchtoken1")).toBeNull();
    expect(await resolveToken(env, "Bad-Token!")).toBeNull();
  });
});

describe("session expiry and activity alarm", () => {
  it("publishes activity counts, is armed only while needed and ends sessions not pinged for 100 s", async () => {
    const id = crypto.randomUUID();
    const stub = roomStub(env, id);
    await stub.create({ id, token: newRoomToken(), type: RoomType.Public, name: "Expiry", createdBy: null });
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();

    const guest = { kind: "guest" as const, cookie: "cookie-hash-1" };
    const joined = await stub.join(guest, { force: true });
    if (!joined.ok) throw new Error("join failed");
    // First due: publishing the new activity count (coalesced, a few seconds out)…
    const publish = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(publish).toBeLessThanOrEqual(Date.now() + 5_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const published = await env.DB.prepare("SELECT active_users, active_guests FROM rooms WHERE id = ?").bind(id).first();
    expect(published).toEqual({ active_users: 0, active_guests: 1 });
    // …then the session's expiry; a fresh session survives it.
    const expiry = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    expect(expiry).toBeGreaterThan(Date.now() + 90_000);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot())?.sessions).toHaveLength(1);
    // …a stale one is ended, the unnamed guest removed, and no alarm stays armed.
    await ageSessions(stub, 101);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = await stub.snapshot();
    expect(after?.sessions).toEqual([]);
    expect(after?.attendees).toEqual([]);
    expect(after?.meta).toMatchObject({ activeUsers: 0, activeGuests: 0 });
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
  });
});
