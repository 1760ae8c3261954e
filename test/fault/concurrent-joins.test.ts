/**
 * Fault test (issue 7): 200 concurrent joins into one room, in both dialects (OpenTalk:
 * concurrent-joins-opentalk.test.ts, a file of its own so the two crowds do not share one test
 * isolate). No join may fail
 * with a 5xx, and afterwards every participant is in the room exactly once — checked in the room
 * Durable Object's own storage and through the public participant list.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { roomStub } from "../../src/room/directory";
import { CookieJar, createUser, ocs } from "../helpers/http";
import { roomIdOf, V4 } from "../helpers/talk";

const GUESTS = 120;
const USERS = 40;
/** Each user joins from two devices at once: 120 + 2 × 40 = 200 concurrent joins. */
const DEVICES = 2;


async function inBatches<T>(count: number, size: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += size) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(size, count - i) }, (_, j) => make(i + j)))));
  }
  return out;
}

/** A guard against hangs only (200 WebSockets in one test worker take a while on a busy machine). */
const GENEROUS = { timeout: 120_000 };

describe("200 concurrent joins to one room", () => {
  it("Talk: guests and users (two devices each) join at once; each is present exactly once, no 5xx", GENEROUS, async () => {
    const owner = await createUser("owner");
    const created = await ocs("POST", `${V4}/room`, { auth: owner, body: { roomType: 3, roomName: "Crowd" } });
    expect(created.status).toBe(201);
    const token = created.data.token as string;
    const users = await inBatches(USERS, 10, () => createUser("crowd"));

    const joins = [
      ...Array.from({ length: GUESTS }, () => ({ jar: new CookieJar() })),
      ...users.flatMap((auth) => Array.from({ length: DEVICES }, () => ({ auth, jar: new CookieJar() }))),
    ];
    expect(joins).toHaveLength(200);
    const replies = await Promise.all(joins.map((who) => ocs("POST", `${V4}/room/${token}/participants/active`, who)));

    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(new Set(statuses)).toEqual(new Set([200]));
    const sessionIds = replies.map((r) => r.data.sessionId as string);
    expect(new Set(sessionIds).size).toBe(200);
    const guestActors = replies.slice(0, GUESTS).map((r) => r.data.actorId as string);
    expect(new Set(guestActors).size).toBe(GUESTS);
    // Both devices of a user share one attendee.
    for (let u = 0; u < USERS; u++) {
      const [a, b] = replies.slice(GUESTS + u * DEVICES, GUESTS + (u + 1) * DEVICES);
      expect(a?.data.attendeeId).toBe(b?.data.attendeeId);
    }

    // The room object's storage: one attendee per actor, one session per join.
    const snapshot = await roomStub(env, await roomIdOf(token)).snapshot();
    const actors = (snapshot?.attendees ?? []).map((a) => `${a.actorType}/${a.actorId}`);
    expect(actors).toHaveLength(new Set(actors).size);
    expect(actors.sort()).toEqual(
      [`users/${owner.user}`, ...users.map((u) => `users/${u.user}`), ...guestActors.map((g) => `guests/${g}`)].sort(),
    );
    expect(snapshot?.sessions.map((s) => s.id).sort()).toEqual([...sessionIds].sort());

    // The participant list as the owner sees it.
    const list = await ocs("GET", `${V4}/room/${token}/participants`, { auth: owner });
    expect(list.status).toBe(200);
    const listed = (list.data as Array<{ actorType: string; actorId: string; sessionIds: string[] }>).map((p) => `${p.actorType}/${p.actorId}`);
    expect(listed.sort()).toEqual(actors.sort());
    const listedSessions = (list.data as Array<{ sessionIds: string[] }>).flatMap((p) => p.sessionIds.filter((s) => s !== "0"));
    expect(listedSessions.sort()).toEqual([...sessionIds].sort());
  });
});
