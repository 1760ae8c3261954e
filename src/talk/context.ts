/** Talk-side plumbing: the caller as the room DO sees it, token → room resolution, outcomes → OCS. */
import { countAttempt, throttledFor } from "../auth/throttle";
import { database } from "../db/client";
import { findUserByLogin } from "../db/users";
import { config } from "../lib/config";
import { clientAddress, currentUser, type AppContext } from "../lib/context";
import { sha256Hex } from "../lib/crypto";
import { OcsError } from "../lib/errors";
import { knownToken, resolveToken, roomStub } from "../room/directory";
import { FORBIDDEN, type Caller, type Outcome } from "../room/contract";
import { ParticipantType } from "../room/types";

export const TALK_V4 = "/ocs/v2.php/apps/spreed/api/v4";
export const TALK_V1 = "/ocs/v2.php/apps/spreed/api/v1";
const TAB_ID = /^[A-Za-z0-9]{64}$/;

/** Cookie session id → the key Talk sessions are bound to (a hash, so the room never sees the id). */
const talkCookieKeys = new Map<string, string>();
const TALK_COOKIE_KEYS_MAX = 10_000;

async function talkCookieKey(session: string): Promise<string> {
  const known = talkCookieKeys.get(session);
  if (known !== undefined) return known;
  const key = await sha256Hex(`talk:${session}`);
  if (talkCookieKeys.size >= TALK_COOKIE_KEYS_MAX) talkCookieKeys.delete(talkCookieKeys.keys().next().value as string);
  talkCookieKeys.set(session, key);
  return key;
}

export async function talkCaller(c: AppContext): Promise<Caller> {
  const user = currentUser(c);
  const tab = c.req.header("x-nextcloud-talk-session-tab-id");
  const cookie = await talkCookieKey(c.get("cookieSession"));
  const base = { cookie, ...(tab && TAB_ID.test(tab) ? { tabId: tab } : {}) };
  if (user) return { ...base, kind: "user", userUuid: user.id, userid: user.userid, displayName: user.displayName, admin: user.isAdmin, readPrivacy: user.readPrivacy };
  return { ...base, kind: "guest" };
}

/**
 * Unknown-token lookups per client address within the sign-in window before lookups answer 429,
 * as Nextcloud's brute-force protection of room tokens does (action `talkRoomToken`).
 */
export const TOKEN_LOOKUP_MAX_MISSES = 30;
/** Addresses this isolate has seen throttled, until when (ms): checked for free on every lookup. */
const throttledAddresses = new Map<string, number>();

function tokenThrottled(retryAfter: number): OcsError {
  return new OcsError(429, [], "Reached maximum delay", 429, { "Retry-After": String(Math.max(1, retryAfter)) });
}

/**
 * The room's DO stub and ids, or an OCS 404 when the token is unknown. Misses are counted per
 * address (D1); a throttled address gets 429 for every token, known or not, so guessing tells it
 * nothing. A token this isolate already knows costs no D1 read; an uncached one checks the
 * throttle in parallel with the lookup.
 */
export async function roomByToken(c: AppContext, token: string) {
  const address = clientAddress(c);
  const until = throttledAddresses.get(address) ?? 0;
  if (until > Date.now()) throw tokenThrottled(Math.ceil((until - Date.now()) / 1000));
  const db = database(c.env);
  const cfg = config(c.env);
  const limit = { key: `room-token:${address}`, max: TOKEN_LOOKUP_MAX_MISSES };
  const [found, wait] = await Promise.all([
    resolveToken(c.env, token),
    knownToken(token) ? Promise.resolve(0) : throttledFor(db, limit),
  ]);
  const blocked = found ? wait : await countAttempt(db, cfg, limit);
  if (blocked > 0) {
    if (throttledAddresses.size > 10_000) throttledAddresses.clear();
    throttledAddresses.set(address, Date.now() + blocked * 1000);
    throw tokenThrottled(blocked);
  }
  if (!found) throw new OcsError(404, []);
  return { ...found, token, stub: roomStub(c.env, found.id) };
}

/** The room and the acting caller, the two things every room endpoint starts from. */
export async function talkRoom(c: AppContext, token: string | undefined) {
  const room = await roomByToken(c, token ?? "");
  return { ...room, caller: await talkCaller(c) };
}

/**
 * The value of a room operation, or the OCS error it stands for. An unknown room, a caller who is
 * not a participant or has no session, and missing moderator rights answer with empty data, as the
 * reference's middleware does; every other failure names its reason as `{error}`. RPC wraps results in Disposable, which defeats union narrowing, hence
 * the cast back to the declared type.
 */
const BLANK_REASONS = new Set(["room", "session", FORBIDDEN]);

export function unwrap<T>(result: Outcome<T>): T {
  const outcome = result as Outcome<T>;
  if (outcome.ok) return outcome.value;
  if (outcome.data !== undefined) throw new OcsError(outcome.status, outcome.data);
  if (BLANK_REASONS.has(outcome.reason)) throw new OcsError(outcome.status, []);
  throw new OcsError(outcome.status, { error: outcome.reason });
}

/**
 * When a one-to-one operation answered 409 `{refill}` (the partner left the room), adds the
 * partners back as owners, as the reference does when the other writes or calls; true when it did
 * (the caller then tries again).
 */
export async function refillPartners(c: AppContext, stub: ReturnType<typeof roomStub>, outcome: Outcome<unknown>): Promise<boolean> {
  const refill = !outcome.ok && outcome.reason === "conflict" ? (outcome.data as { refill?: string[] } | undefined)?.refill : undefined;
  if (!refill) return false;
  const users = await Promise.all(refill.map((login) => findUserByLogin(database(c.env), login)));
  await stub.addMembers(
    users.filter((u) => u !== undefined).map((u) => ({ actorType: "users" as const, actorId: u.userid, displayName: u.displayName, participantType: ParticipantType.Owner, userUuid: u.id })),
  );
  return true;
}
