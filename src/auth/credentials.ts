/**
 * Password and app-password verification (HTTP Basic auth, the password grant, the login page).
 *
 * A PBKDF2 run per request would dominate latency, so a successful verification is remembered
 * for `credentialCacheTtl` seconds under HMAC(secret, login:password): the plaintext is never
 * kept, the key cannot be recomputed without the server secret, and the entry is only honoured
 * while the user's stored hash (for an app password: the app password itself) is unchanged.
 *
 * App passwords are recognised by a keyed-hash lookup, never by PBKDF2: they are 72 random
 * characters, so HMAC(secret, token) is as strong as a slow hash and costs microseconds.
 *
 * Uncached attempts are throttled (throttle.ts): the attempt is counted before anything is
 * evaluated. Every uncached attempt does the same work whether the login exists or not (two
 * lookups in parallel, then one PBKDF2 run against the user's hash or a dummy one), so timing does
 * not tell which logins exist.
 *
 * The entry also keeps the user row. For `USER_RECHECK_MS` after it was last read from D1 the row
 * is served from memory, so a cached request costs one HMAC (none when it carries the cookie
 * session that signed in with the same credential, see `signedIn`) and no D1 round trip; after that the
 * next request re-reads it (and the app password) once. Changes made in this isolate (updateUser,
 * deleteUser, app-password revocation) drop the entries at once; changes made in another isolate
 * are noticed within `USER_RECHECK_MS`.
 */
import type { Db } from "../db/client";
import type { UserRow } from "../db/schema";
import { findAppPassword, findUserById, findUserByLogin } from "../db/users";
import type { Config } from "../lib/config";
import { hashPassword, hmacHex, verifyPassword } from "../lib/crypto";
import { beginSignIn, signInFailed, signInLimits, signInSucceeded } from "./throttle";
import { rememberVerified, verified, type VerifiedEntry } from "./verified";

/** How long a verified user row is trusted without re-reading it (at most the credential TTL). */
export const USER_RECHECK_MS = 5_000;
let dummyHash: Promise<string> | undefined;

export type PasswordCheck =
  | { ok: true; user: UserRow; via: "password" | "app-password"; appPasswordId?: string }
  | { ok: false; retryAfter?: number };

/**
 * (account, address) keys this isolate has seen throttled, until when (ms): a cached credential
 * is not honoured from there either, and checking this costs no D1 read.
 */
const throttledHere = new Map<string, number>();

export async function checkPassword(
  db: Db, cfg: Config, login: string, password: string, address: string, session: string | null = null,
): Promise<PasswordCheck> {
  const limits = signInLimits(cfg, login, address);
  const now = Date.now();
  const until = throttledHere.get(limits.login.key) ?? 0;
  if (until > now) return { ok: false, retryAfter: Math.ceil((until - now) / 1000) };
  const print = session === null ? 0 : fingerprint(`${login}:${password}`);
  const bound = session === null ? undefined : signedIn.get(session);
  if (bound && bound.print === print) {
    const check = await fromCache(db, bound.cacheKey, login, now);
    if (check) return check;
  }
  const cacheKey = await hmacHex(cfg.secret, `credential:${login}:${password}`);
  const hit = await fromCache(db, cacheKey, login, now);
  if (hit) return bind(session, print, cacheKey, hit);

  // Requests with the same credential that arrive together (a client's parallel requests once the
  // cached verification expired) share one verification: each would otherwise count as a sign-in
  // attempt and the burst would throttle a correct password.
  const pending = inFlight.get(cacheKey);
  if (pending) return bind(session, print, cacheKey, copyOf(await pending));
  const run = verifyFully(db, cfg, limits, login, password, cacheKey).finally(() => inFlight.delete(cacheKey));
  inFlight.set(cacheKey, run);
  return bind(session, print, cacheKey, copyOf(await run));
}

/**
 * Cookie sessions signed in with Basic credentials: a fingerprint of the credential and the key of
 * the cache entry that vouched for it. A client sends its credential and its cookie with every
 * request; while the entry holds, a request with the same cookie and credential finds the entry
 * without the HMAC (the entry itself still expires, is re-checked against D1 and is dropped when
 * this isolate changes the user or revokes the app password, as above).
 */
const signedIn = new Map<string, { print: number; cacheKey: string }>();
const SIGNED_IN_MAX = 10_000;

function bind(session: string | null, print: number, cacheKey: string, check: PasswordCheck): PasswordCheck {
  if (session === null) return check;
  if (!check.ok) {
    signedIn.delete(session);
    return check;
  }
  if (signedIn.size >= SIGNED_IN_MAX && !signedIn.has(session)) signedIn.delete(signedIn.keys().next().value as string);
  signedIn.set(session, { print, cacheKey });
  return check;
}

/** Seeds the fingerprints: random per isolate, so they cannot be computed ahead (drawn on first use: Workers allow no randomness at start-up). */
let printSeed: number | undefined;

/**
 * A 53-bit fingerprint of a credential (a cyrb53-style multiply-xorshift hash). It only tells a
 * repeated credential from a different one for the same cookie session; the cookie is the proof,
 * and a wrong password reaches the full check unless it collides (one chance in 2^53).
 */
function fingerprint(text: string): number {
  printSeed ??= crypto.getRandomValues(new Uint32Array(1))[0] as number;
  let h1 = 0xdeadbeef ^ printSeed;
  let h2 = 0x41c6ce57 ^ printSeed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The identity a live cache entry vouches for (its user row re-read once it is no longer fresh). */
async function fromCache(db: Db, cacheKey: string, login: string, now: number): Promise<PasswordCheck | null> {
  const hit = verified.get(cacheKey);
  if (!hit || hit.expires <= now) return null;
  if (hit.fresh > now) return cached(hit, hit.user);
  const still = await stillValid(db, hit, login);
  if (still) {
    hit.user = still;
    hit.fresh = Math.min(hit.expires, Date.now() + USER_RECHECK_MS);
    return cached(hit, still);
  }
  verified.delete(cacheKey);
  return null;
}

/** Verifications under way in this isolate, by credential (see checkPassword). */
const inFlight = new Map<string, Promise<PasswordCheck>>();

const copyOf = (check: PasswordCheck): PasswordCheck => (check.ok ? { ...check, user: { ...check.user } } : check);

async function verifyFully(db: Db, cfg: Config, limits: ReturnType<typeof signInLimits>, login: string, password: string, cacheKey: string): Promise<PasswordCheck> {
  const wait = await beginSignIn(db, cfg, limits);
  if (wait > 0) {
    if (throttledHere.size >= 10_000) throttledHere.clear();
    throttledHere.set(limits.login.key, Date.now() + wait * 1000);
    return { ok: false, retryAfter: wait };
  }

  const tokenHash = await appPasswordHash(cfg, password);
  const [user, app] = await Promise.all([findUserByLogin(db, login), findAppPassword(db, tokenHash)]);
  const remember = (entry: Pick<VerifiedEntry, "passwordHash" | "appPasswordId">, row: UserRow) => {
    const verifiedAt = Date.now();
    const expires = verifiedAt + cfg.credentialCacheTtl * 1000;
    rememberVerified(cacheKey, { ...entry, user: row, expires, fresh: Math.min(expires, verifiedAt + USER_RECHECK_MS) });
  };
  if (user && app && app.userId === user.id) {
    remember({ passwordHash: tokenHash, appPasswordId: app.id }, user);
    await signInSucceeded(db, limits);
    return { ok: true, user, via: "app-password", appPasswordId: app.id };
  }
  dummyHash ??= hashPassword("edgetalk-dummy");
  const valid = await verifyPassword(password, user?.passwordHash ?? (await dummyHash));
  if (user?.passwordHash && valid) {
    remember({ passwordHash: user.passwordHash }, user);
    await signInSucceeded(db, limits);
    return { ok: true, user, via: "password" };
  }
  await signInFailed(db, cfg, limits);
  return { ok: false };
}

function cached(entry: VerifiedEntry, user: UserRow): PasswordCheck {
  if (entry.appPasswordId) return { ok: true, user: { ...user }, via: "app-password", appPasswordId: entry.appPasswordId };
  return { ok: true, user: { ...user }, via: "password" };
}

/** Re-reads what a cache entry vouches for: the same user (same login) and the same credential. */
async function stillValid(db: Db, entry: VerifiedEntry, login: string): Promise<UserRow | null> {
  const [user, app] = await Promise.all([
    findUserById(db, entry.user.id),
    entry.appPasswordId ? findAppPassword(db, entry.passwordHash) : Promise.resolve(undefined),
  ]);
  if (!user || user.userid.toLowerCase() !== login.toLowerCase()) return null;
  if (entry.appPasswordId) return app && app.id === entry.appPasswordId && app.userId === user.id ? user : null;
  return user.passwordHash === entry.passwordHash ? user : null;
}

export function appPasswordHash(cfg: Config, token: string): Promise<string> {
  return hmacHex(cfg.secret, `app-password:${token}`);
}
