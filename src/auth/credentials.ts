/**
 * Password and app-password verification for HTTP Basic auth.
 *
 * A PBKDF2 run per request would dominate latency, so a successful verification is remembered
 * for `credentialCacheTtl` seconds under HMAC(secret, login:password): the plaintext is never
 * kept, the key cannot be recomputed without the server secret, and the entry is only honoured
 * while the user's stored hash is unchanged (a password change invalidates it at once).
 *
 * The entry also keeps the user row. For `USER_RECHECK_MS` after it was last read from D1 the row
 * is served from memory, so a cached request costs one HMAC and no D1 round trip; after that the
 * next request re-reads it and checks the stored hash again. Changes made in this isolate
 * (updateUser, deleteUser) drop the entries at once; a password change or deletion made in
 * another isolate is therefore noticed within `USER_RECHECK_MS`.
 */
import type { Db } from "../db/client";
import type { UserRow } from "../db/schema";
import { findAppPassword, findUserById, findUserByLogin } from "../db/users";
import type { Config } from "../lib/config";
import { hashPassword, hmacHex, verifyPassword } from "../lib/crypto";
import { clearFailures, recordFailure, throttledFor, throttleKeys } from "./throttle";
import { rememberVerified, verified } from "./verified";

/** How long a verified user row is trusted without re-reading it (at most the credential TTL). */
export const USER_RECHECK_MS = 5_000;
let dummyHash: Promise<string> | undefined;

export type PasswordCheck =
  | { ok: true; user: UserRow; via: "password" | "app-password" }
  | { ok: false; retryAfter?: number };

export async function checkPassword(db: Db, cfg: Config, login: string, password: string, address: string): Promise<PasswordCheck> {
  const cacheKey = await hmacHex(cfg.secret, `credential:${login}:${password}`);
  const hit = verified.get(cacheKey);
  const now = Date.now();
  if (hit && hit.expires > now) {
    if (hit.fresh > now) return { ok: true, user: { ...hit.user }, via: "password" };
    const user = await findUserById(db, hit.user.id);
    if (user && user.userid === login && user.passwordHash === hit.passwordHash) {
      hit.user = user;
      hit.fresh = Math.min(hit.expires, Date.now() + USER_RECHECK_MS);
      return { ok: true, user: { ...user }, via: "password" };
    }
    verified.delete(cacheKey);
  }

  const keys = throttleKeys(login, address);
  const wait = await throttledFor(db, cfg, keys);
  if (wait > 0) return { ok: false, retryAfter: wait };

  const user = await findUserByLogin(db, login);
  if (user?.passwordHash && (await verifyPassword(password, user.passwordHash))) {
    const verifiedAt = Date.now();
    const expires = verifiedAt + cfg.credentialCacheTtl * 1000;
    rememberVerified(cacheKey, { user, passwordHash: user.passwordHash, expires, fresh: Math.min(expires, verifiedAt + USER_RECHECK_MS) });
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
