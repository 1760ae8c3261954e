/** Resolves `Authorization: Bearer <jwt>` to a user (or a service client) on both APIs. */
import type { Db } from "../db/client";
import { createUser, findUserById, findUserByOidc } from "../db/users";
import type { Config } from "../lib/config";
import type { Identity } from "../lib/context";
import { ACCESS_TOKEN_TYPE, verifyJwt, type TokenClaims } from "./oidc";

export const ACCESS_TOKEN_AUDIENCE = "edgetalk";
export const SERVICE_SUBJECT_PREFIX = "service:";

export type BearerResult = { ok: true; identity: Identity } | { ok: false; reason: "expired" | "invalid" | "unknown_sub" };

export async function identityFromBearer(db: Db, cfg: Config, token: string): Promise<BearerResult> {
  const verified = await verifyJwt(cfg, token);
  if (!verified.ok) return verified;
  const { claims } = verified;
  if (!claims.sub) return { ok: false, reason: "invalid" };
  if (verified.builtIn) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (verified.typ !== ACCESS_TOKEN_TYPE || !aud.includes(ACCESS_TOKEN_AUDIENCE)) return { ok: false, reason: "invalid" };
    if (claims.sub.startsWith(SERVICE_SUBJECT_PREFIX)) {
      return {
        ok: true,
        identity: { kind: "service", clientId: claims.sub.slice(SERVICE_SUBJECT_PREFIX.length), roles: claims.realm_access?.roles ?? [] },
      };
    }
    const user = await findUserById(db, claims.sub);
    if (!user) return { ok: false, reason: "unknown_sub" };
    return { ok: true, identity: { kind: "user", user, via: "bearer" } };
  }
  const user = (await findUserByOidc(db, verified.issuer, claims.sub)) ?? (await createFromClaims(db, verified.issuer, claims));
  return { ok: true, identity: { kind: "user", user, via: "bearer" } };
}

/** An external provider's first valid token creates the user. */
export async function createFromClaims(db: Db, issuer: string, claims: TokenClaims) {
  const first = claims.given_name ?? "";
  const last = claims.family_name ?? "";
  const displayName = claims.nickname ?? claims.name ?? (`${first} ${last}`.trim() || (claims.email ?? claims.sub ?? "user"));
  const login = claims.preferred_username ?? claims.email ?? (claims.sub as string);
  return createUser(db, {
    userid: `${login}`,
    displayName,
    email: claims.email ?? "",
    firstname: first,
    lastname: last,
    passwordHash: null,
    oidcIssuer: issuer,
    oidcSub: claims.sub as string,
  });
}
