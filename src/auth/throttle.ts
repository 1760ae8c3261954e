/**
 * Attempt throttling in D1: sign-ins (per client address, and per account at that address) and
 * room-token lookups (per address).
 *
 * A sign-in attempt is counted for its (account, address) **before** it is evaluated, in one
 * atomic statement that returns the new count, so parallel guesses cannot slip past the limit: of
 * 24 parallel guesses exactly the allowed number are checked and the rest are answered 429
 * unchecked. A successful sign-in resets that counter. The address counter (all accounts at one
 * address, a higher limit) counts failures, so many people signing in at once from one office
 * address are never throttled; a spray over many accounts stops at that limit.
 *
 * Keys never name an account alone: a stranger who types wrong passwords for `alice` throttles
 * `alice` at the stranger's address only, so Alice still signs in from anywhere else. The window
 * backs off: a window that ended throttled is followed by one twice as long (up to a day), a calm
 * window resets it.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { loginFailures } from "../db/schema";
import type { Config } from "../lib/config";

const MAX_SPAN = 24 * 3600;

export interface Limit {
  key: string;
  max: number;
}

export function signInLimits(cfg: Config, account: string, address: string): { login: Limit; address: Limit } {
  return {
    address: { key: `address:${address}`, max: cfg.loginMaxFailuresPerAddress },
    login: { key: `login:${address}:${account.trim().toLowerCase()}`, max: cfg.loginMaxFailures },
  };
}

type Row = { count: number; windowStart: number; span: number };

/** The upsert that counts one event on `limit.key`, returning the row after it. */
function bump(db: Db, cfg: Config, { key, max }: Limit, now: number) {
  // A window ends at window_start + span. The next one is twice as long if the one that ended
  // was throttled (count over max), else the configured window again.
  const base = cfg.loginWindow;
  const ended = sql`${loginFailures.windowStart} + ${loginFailures.span} <= ${now}`;
  return db
    .insert(loginFailures)
    .values({ key, count: 1, windowStart: now, span: base })
    .onConflictDoUpdate({
      target: loginFailures.key,
      set: {
        span: sql`case when ${ended} then (case when ${loginFailures.count} > ${max} then min(${loginFailures.span} * 2, ${MAX_SPAN}) else ${base} end) else ${loginFailures.span} end`,
        count: sql`case when ${ended} then 1 else ${loginFailures.count} + 1 end`,
        windowStart: sql`case when ${ended} then ${now} else ${loginFailures.windowStart} end`,
      },
    })
    .returning({ count: loginFailures.count, windowStart: loginFailures.windowStart, span: loginFailures.span });
}

/** Seconds left in `row`'s window when it holds more than `allowed` events, else 0. */
function waitFor(row: Row | undefined, allowed: number, now: number): number {
  if (!row || row.count <= allowed || row.windowStart + row.span <= now) return 0;
  return Math.max(row.windowStart + row.span - now, 1);
}

function read(db: Db, key: string) {
  return db
    .select({ count: loginFailures.count, windowStart: loginFailures.windowStart, span: loginFailures.span })
    .from(loginFailures)
    .where(sql`${loginFailures.key} = ${key}`);
}

/**
 * Start of an uncached sign-in: counts the attempt for (account, address) and reads the address's
 * failures, in one round trip. Returns the seconds to wait when either is over its limit (the
 * attempt must then not be evaluated), or 0.
 */
export async function beginSignIn(db: Db, cfg: Config, limits: { login: Limit; address: Limit }, now = Math.floor(Date.now() / 1000)): Promise<number> {
  const [login, address] = await db.batch([bump(db, cfg, limits.login, now), read(db, limits.address.key)]);
  return Math.max(waitFor(login[0], limits.login.max, now), waitFor(address[0], limits.address.max - 1, now));
}

/** A failed sign-in counts against the address (all accounts together). */
export async function signInFailed(db: Db, cfg: Config, limits: { address: Limit }, now = Math.floor(Date.now() / 1000)): Promise<void> {
  await bump(db, cfg, limits.address, now);
}

/** A successful sign-in: the (account, address) counter starts over. */
export async function signInSucceeded(db: Db, limits: { login: Limit }): Promise<void> {
  await db.delete(loginFailures).where(sql`${loginFailures.key} = ${limits.login.key}`);
}

/** Counts one event (an unknown room token, say) and returns the seconds to wait once over the limit, or 0. */
export async function countAttempt(db: Db, cfg: Config, limit: Limit, now = Math.floor(Date.now() / 1000)): Promise<number> {
  const [row] = await bump(db, cfg, limit, now);
  return waitFor(row, limit.max, now);
}

/** Seconds to wait when the key already holds `max` events, without counting one. */
export async function throttledFor(db: Db, limit: Limit, now = Math.floor(Date.now() / 1000)): Promise<number> {
  const [row] = await read(db, limit.key);
  return waitFor(row, limit.max - 1, now);
}
