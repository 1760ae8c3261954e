/**
 * Password and app-password verification for HTTP Basic auth.
 *
 * A PBKDF2 run per request would dominate latency, so a successful verification is remembered
 * for `credentialCacheTtl` seconds under HMAC(secret, login:password): the plaintext is never
 * kept, the key cannot be recomputed without the server secret, and the entry is only honoured
 * while the user's stored hash is unchanged (a password change invalidates it at once).
 */
import type { Db } from "../db/client";
import type { UserRow } from "../db/schema";
import { findAppPassword, findUserById, findUserByLogin } from "../db/users";
import type { Config } from "../lib/config";
import { hashPassword, hmacHex, verifyPassword } from "../lib/crypto";
import { clearFailures, recordFailure, throttledFor, throttleKeys } from "./throttle";

interface CacheEntry {
  userId: string;
  passwordHash: string;
  expires: number;
}

const MAX_CACHE_ENTRIES = 10_000;
const verified = new Map<string, CacheEntry>();
let dummyHash: Promise<string> | undefined;

export type PasswordCheck =
  | { ok: true; user: UserRow; via: "password" | "app-password" }
  | { ok: false; retryAfter?: number };

export async function checkPassword(db: Db, cfg: Config, login: string, password: string, address: string): Promise<PasswordCheck> {
  const cacheKey = await hmacHex(cfg.secret, `credential:${login}:${password}`);
  const hit = verified.get(cacheKey);
  if (hit && hit.expires > Date.now()) {
    const user = await findUserById(db, hit.userId);
    if (user && user.userid === login && user.passwordHash === hit.passwordHash) return { ok: true, user, via: "password" };
    verified.delete(cacheKey);
  }

  const keys = throttleKeys(login, address);
  const wait = await throttledFor(db, cfg, keys);
  if (wait > 0) return { ok: false, retryAfter: wait };

  const user = await findUserByLogin(db, login);
  if (user?.passwordHash && (await verifyPassword(password, user.passwordHash))) {
    remember(cacheKey, { userId: user.id, passwordHash: user.passwordHash, expires: Date.now() + cfg.credentialCacheTtl * 1000 });
    await clearFailures(db, login);
    return { ok: true, user, via: "password" };
  }
  if (user) {
    const app = await findAppPassword(db, await appPasswordHash(cfg, password));
    if (app && app.userId === user.id) return { ok: true, user, via: "app-password" };
  } else {
    // Same work for unknown accounts, so timing does not reveal which logins exist.
    dummyHash ??= hashPassword("edgetalk-dummy");
    await verifyPassword(password, await dummyHash);
  }
  await recordFailure(db, cfg, keys);
  return { ok: false };
}

export function appPasswordHash(cfg: Config, token: string): Promise<string> {
  return hmacHex(cfg.secret, `app-password:${token}`);
}

function remember(key: string, entry: CacheEntry) {
  if (verified.size >= MAX_CACHE_ENTRIES) {
    const oldest = verified.keys().next().value;
    if (oldest !== undefined) verified.delete(oldest);
  }
  verified.set(key, entry);
}
