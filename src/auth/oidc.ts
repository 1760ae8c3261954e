/**
 * OIDC as OpenTalk expects it, self-hostable: a built-in issuer (discovery, JWKS, token
 * endpoint) signing ES256 JWTs with EDGETALK_OIDC_PRIVATE_KEY, and optionally an external
 * provider (EDGETALK_OIDC_ISSUER + EDGETALK_OIDC_JWKS_URL) whose tokens are accepted too.
 */
import { SignJWT, createRemoteJWKSet, errors as joseErrors, importJWK, jwtVerify, type JWK, type JWTPayload } from "jose";
import type { Config } from "../lib/config";

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicKey: CryptoKey;
}

const keys = new Map<string, Promise<SigningKey>>();

export function signingKey(cfg: Config): Promise<SigningKey> {
  let key = keys.get(cfg.oidcPrivateKey);
  if (!key) {
    key = loadKey(cfg.oidcPrivateKey);
    keys.set(cfg.oidcPrivateKey, key);
  }
  return key;
}

async function loadKey(serialized: string): Promise<SigningKey> {
  if (!serialized) throw new Error("EDGETALK_OIDC_PRIVATE_KEY is not set (see .dev.vars.example)");
  const jwk = JSON.parse(serialized) as JWK;
  const kid = jwk.kid ?? "edgetalk";
  const { d: _d, ...publicJwk } = jwk;
  const privateKey = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
  const publicKey = (await importJWK({ ...publicJwk, alg: "ES256" }, "ES256")) as CryptoKey;
  return { kid, privateKey, publicKey, publicJwk: { ...publicJwk, kid, alg: "ES256", use: "sig" } };
}

export function issuerUrl(cfg: Config, requestUrl: string): string {
  return cfg.publicUrl || new URL(requestUrl).origin;
}

export interface TokenClaims extends JWTPayload {
  email?: string;
  given_name?: string;
  family_name?: string;
  name?: string;
  preferred_username?: string;
  nickname?: string;
  realm_access?: { roles: string[] };
}

/** Access tokens carry header `typ: at+jwt` (RFC 9068), id tokens `JWT`: one cannot pass for the other. */
export const ACCESS_TOKEN_TYPE = "at+jwt";

export async function signToken(
  cfg: Config,
  issuer: string,
  claims: TokenClaims,
  audience: string,
  ttl: number,
  typ: string = "JWT",
): Promise<string> {
  const key = await signingKey(cfg);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
    .setJti(crypto.randomUUID())
    .sign(key.privateKey);
}

export type VerifyFailure = "expired" | "invalid";

export type Verified = { ok: true; claims: TokenClaims; issuer: string; builtIn: boolean; typ?: string } | { ok: false; reason: VerifyFailure };

const remoteSets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/** Verifies a JWT from the built-in issuer or the configured external provider. */
export async function verifyJwt(cfg: Config, token: string): Promise<Verified> {
  let header: { kid?: string; alg?: string; typ?: string };
  try {
    header = JSON.parse(new TextDecoder().decode(base64UrlDecode(token.split(".")[0] ?? "")));
  } catch {
    return { ok: false, reason: "invalid" };
  }
  try {
    if (cfg.oidcPrivateKey) {
      const key = await signingKey(cfg);
      if (header.kid === key.kid) {
        const { payload } = await jwtVerify(token, key.publicKey, { algorithms: ["ES256"] });
        if (cfg.publicUrl && payload.iss !== cfg.publicUrl) return { ok: false, reason: "invalid" };
        return { ok: true, claims: payload as TokenClaims, issuer: payload.iss ?? "", builtIn: true, typ: header.typ };
      }
    }
    if (cfg.oidcIssuer && cfg.oidcJwksUrl) {
      let set = remoteSets.get(cfg.oidcJwksUrl);
      if (!set) {
        set = createRemoteJWKSet(new URL(cfg.oidcJwksUrl));
        remoteSets.set(cfg.oidcJwksUrl, set);
      }
      const { payload } = await jwtVerify(token, set, { issuer: cfg.oidcIssuer });
      return { ok: true, claims: payload as TokenClaims, issuer: cfg.oidcIssuer, builtIn: false };
    }
    return { ok: false, reason: "invalid" };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: "expired" };
    return { ok: false, reason: "invalid" };
  }
}

function base64UrlDecode(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}
