/**
 * The built-in OIDC issuer's machine endpoints: discovery, JWKS, the token endpoint
 * (authorization_code with PKCE, refresh_token, password, client_credentials), userinfo and
 * introspection. The browser endpoints (authorize, end session) are in authorize.routes.ts.
 *
 * Tokens: access tokens are JWTs with header `typ: at+jwt` and audience `edgetalk`; id tokens
 * `typ: JWT` with the client as audience; refresh tokens are JWTs too (the OpenTalk web app reads
 * their `exp`), with the issuer as audience and `typ: "Refresh"`, so none passes for another. Each
 * refresh token works once (rotation) and is bound to its client and sign-in session.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { database, type Db } from "../db/client";
import type { UserRow } from "../db/schema";
import { consumeRefreshToken, findRefreshToken, storeRefreshToken, takeAuthorizationCode } from "../db/tokens";
import { findUserById } from "../db/users";
import { readUrlEncoded } from "../lib/body";
import { config, type Config, type OidcClient } from "../lib/config";
import { clientAddress, type AppEnv } from "../lib/context";
import { hmacHex, sha256, timingSafeEqual, toBase64Url } from "../lib/crypto";
import { ACCESS_TOKEN_AUDIENCE, SERVICE_SUBJECT_PREFIX, identityFromBearer } from "./bearer";
import { checkPassword } from "./credentials";
import { ACCESS_TOKEN_TYPE, issuerUrl, signToken, signingKey } from "./oidc";

/**
 * The id_token audience when the client names none. It must differ from ACCESS_TOKEN_AUDIENCE:
 * otherwise an id_token would pass the bearer audience check and work as an access token.
 */
const DEFAULT_CLIENT = "edgetalk-client";
const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" };
export const SCOPES = ["openid", "profile", "email", "offline_access"];

type Ctx = Context<AppEnv>;

function oauthError(c: Ctx, status: 400 | 401 | 429, error: string, description: string, headers: Record<string, string> = {}) {
  return c.json({ error, error_description: description }, status, { ...NO_STORE, ...headers });
}

/** 401 invalid_client with the challenge RFC 6749 §5.2 asks for after client authentication. */
function invalidClient(c: Ctx, description: string) {
  return oauthError(c, 401, "invalid_client", description, { "WWW-Authenticate": 'Basic realm="EdgeTalk", charset="UTF-8"' });
}

export function findClient(cfg: Config, clientId: string | null | undefined): OidcClient | undefined {
  return clientId ? cfg.oidcClients.find((client) => client.clientId === clientId) : undefined;
}

export function registerOidcRoutes(app: OpenAPIHono<AppEnv>) {
  app.get("/.well-known/openid-configuration", (c) => {
    const issuer = issuerUrl(config(c.env), c.req.url);
    return c.json({
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      userinfo_endpoint: `${issuer}/oauth/userinfo`,
      end_session_endpoint: `${issuer}/oauth/logout`,
      jwks_uri: `${issuer}/oauth/jwks`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
      scopes_supported: SCOPES,
      response_types_supported: ["code"],
      response_modes_supported: ["query"],
      grant_types_supported: ["authorization_code", "refresh_token", "password", "client_credentials"],
      code_challenge_methods_supported: ["S256"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256"],
      userinfo_signing_alg_values_supported: ["none"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "email", "given_name", "family_name", "name", "preferred_username"],
      claims_parameter_supported: false,
      request_parameter_supported: false,
      frontchannel_logout_supported: false,
    });
  });

  app.get("/oauth/jwks", async (c) => {
    const key = await signingKey(config(c.env));
    return c.json({ keys: [key.publicJwk] }, 200, { "Cache-Control": "public, max-age=300" });
  });

  app.post("/oauth/token", async (c) => {
    const form = await readUrlEncoded(c.req.raw);
    if (!form) return oauthError(c, 400, "invalid_request", "the body must be application/x-www-form-urlencoded");
    const cfg = config(c.env);
    const db = database(c.env);
    const issuer = issuerUrl(cfg, c.req.url);
    const basic = basicClient(c);
    const clientId = form.get("client_id") || basic?.id || "";
    const clientSecret = form.get("client_secret") ?? basic?.secret ?? "";
    if (basic && form.get("client_id") && form.get("client_id") !== basic.id) return invalidClient(c, "client_id differs from the authenticated client");
    // A registered confidential client must prove its secret on every grant.
    const registered = findClient(cfg, clientId);
    if (registered?.secret && !timingSafeEqual(registered.secret, clientSecret)) return invalidClient(c, "Invalid client credentials");

    switch (form.get("grant_type")) {
      case "authorization_code": {
        if (!registered) return invalidClient(c, "Unknown client");
        const code = form.get("code") ?? "";
        const row = code ? await takeAuthorizationCode(db, await hmacHex(cfg.secret, `authorization-code:${code}`)) : undefined;
        const now = Math.floor(Date.now() / 1000);
        if (!row || row.expiresAt <= now || row.clientId !== registered.clientId) return oauthError(c, 400, "invalid_grant", "Invalid or expired authorization code");
        if (row.redirectUri !== (form.get("redirect_uri") ?? "")) return oauthError(c, 400, "invalid_grant", "redirect_uri does not match the authorization request");
        if (row.codeChallenge) {
          const verifier = form.get("code_verifier") ?? "";
          if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return oauthError(c, 400, "invalid_grant", "code_verifier is missing or malformed");
          if (!timingSafeEqual(toBase64Url(await sha256(verifier)), row.codeChallenge)) return oauthError(c, 400, "invalid_grant", "code_verifier does not match the code_challenge");
        }
        const user = await findUserById(db, row.userId);
        if (!user) return oauthError(c, 400, "invalid_grant", "Invalid or expired authorization code");
        const tokens = await issueUserTokens(cfg, db, issuer, user, {
          clientId: row.clientId,
          sessionId: row.sessionId,
          scope: row.scope,
          nonce: row.nonce,
          authTime: row.authTime,
        });
        return c.json(tokens, 200, NO_STORE);
      }
      case "refresh_token": {
        const token = form.get("refresh_token") ?? "";
        const hash = token ? await refreshHash(cfg, token) : "";
        const now = Math.floor(Date.now() / 1000);
        // The client is checked before the token is used up: a failed attempt must not burn it.
        const found = hash ? await findRefreshToken(db, hash, now) : undefined;
        if (!found) return oauthError(c, 400, "invalid_grant", "Invalid refresh token");
        // A refresh token works only for the client it was issued to.
        if (clientId && clientId !== found.clientId) return oauthError(c, 400, "invalid_grant", "Refresh token was issued to another client");
        if (!clientId && findClient(cfg, found.clientId)?.secret) return invalidClient(c, "Client authentication required");
        const row = await consumeRefreshToken(db, hash, now);
        const user = row ? await findUserById(db, row.userId) : undefined;
        if (!row || !user) return oauthError(c, 400, "invalid_grant", "Invalid refresh token");
        const tokens = await issueUserTokens(cfg, db, issuer, user, { clientId: row.clientId, sessionId: row.sessionId, scope: SCOPES.join(" ") });
        return c.json(tokens, 200, NO_STORE);
      }
      case "password": {
        const username = form.get("username") ?? "";
        const password = form.get("password") ?? "";
        if (!username || !password) return oauthError(c, 400, "invalid_request", "username and password are required");
        if (clientId === ACCESS_TOKEN_AUDIENCE) return oauthError(c, 401, "invalid_client", `client_id ${ACCESS_TOKEN_AUDIENCE} is reserved`);
        const result = await checkPassword(db, cfg, username, password, clientAddress(c));
        if (!result.ok) {
          if (result.retryAfter) {
            return oauthError(c, 429, "too_many_requests", "Too many failed login attempts", { "Retry-After": String(result.retryAfter) });
          }
          return oauthError(c, 400, "invalid_grant", "Invalid user credentials");
        }
        const tokens = await issueUserTokens(cfg, db, issuer, result.user, { clientId: clientId || DEFAULT_CLIENT, sessionId: null, scope: SCOPES.join(" ") });
        return c.json(tokens, 200, NO_STORE);
      }
      case "client_credentials": {
        const client = cfg.serviceClients.find((s) => s.clientId === clientId);
        if (!client || !timingSafeEqual(client.secret, clientSecret)) return invalidClient(c, "Invalid client credentials");
        const access = await signToken(
          cfg,
          issuer,
          { sub: `${SERVICE_SUBJECT_PREFIX}${client.clientId}`, azp: client.clientId, realm_access: { roles: client.roles } },
          ACCESS_TOKEN_AUDIENCE,
          cfg.accessTokenTtl,
          ACCESS_TOKEN_TYPE,
        );
        return c.json({ access_token: access, token_type: "Bearer", expires_in: cfg.accessTokenTtl }, 200, NO_STORE);
      }
      default:
        return oauthError(c, 400, "unsupported_grant_type", "grant_type must be authorization_code, refresh_token, password or client_credentials");
    }
  });

  const userinfo = async (c: Ctx) => {
    const header = c.req.header("authorization") ?? "";
    const challenge = (error: string) => ({ "WWW-Authenticate": `Bearer realm="EdgeTalk", error="${error}"`, ...NO_STORE });
    if (!/^bearer\s/i.test(header)) return c.json({ error: "invalid_request", error_description: "Bearer token required" }, 401, challenge("invalid_request"));
    const result = await identityFromBearer(database(c.env), config(c.env), header.slice(7).trim());
    if (!result.ok || result.identity.kind !== "user") {
      return c.json({ error: "invalid_token", error_description: "The access token is invalid or expired" }, 401, challenge("invalid_token"));
    }
    return c.json(userClaims(result.identity.user), 200, NO_STORE);
  };
  app.get("/oauth/userinfo", userinfo);
  app.post("/oauth/userinfo", userinfo);

  /** RFC 7662: only authenticated clients (service clients, confidential OIDC clients) may ask. */
  app.post("/oauth/introspect", async (c) => {
    const form = await readUrlEncoded(c.req.raw);
    const cfg = config(c.env);
    const basic = basicClient(c);
    const id = form?.get("client_id") || basic?.id || "";
    const secret = form?.get("client_secret") ?? basic?.secret ?? "";
    const known = cfg.serviceClients.find((s) => s.clientId === id)?.secret ?? findClient(cfg, id)?.secret ?? "";
    if (!known || !timingSafeEqual(known, secret)) return invalidClient(c, "Client authentication required");
    const token = form?.get("token") ?? "";
    const result = token ? await identityFromBearer(database(c.env), cfg, token) : null;
    if (!result?.ok) return c.json({ active: false }, 200, NO_STORE);
    const identity = result.identity;
    if (identity.kind === "user") return c.json({ active: true, sub: identity.user.id, username: identity.user.userid, token_type: "Bearer" }, 200, NO_STORE);
    if (identity.kind === "service") return c.json({ active: true, sub: `${SERVICE_SUBJECT_PREFIX}${identity.clientId}`, token_type: "Bearer" }, 200, NO_STORE);
    return c.json({ active: false }, 200, NO_STORE);
  });
}

function basicClient(c: Ctx): { id: string; secret: string } | null {
  const header = c.req.header("authorization") ?? "";
  if (!/^basic\s/i.test(header)) return null;
  try {
    const decoded = atob(header.slice(6).trim());
    const at = decoded.indexOf(":");
    const [id, secret] = at < 0 ? [decoded, ""] : [decoded.slice(0, at), decoded.slice(at + 1)];
    // RFC 6749 §2.3.1: both parts are form-urlencoded.
    return id ? { id: decodeURIComponent(id.replace(/\+/g, " ")), secret: decodeURIComponent(secret.replace(/\+/g, " ")) } : null;
  } catch {
    return null;
  }
}

function refreshHash(cfg: Config, token: string) {
  return hmacHex(cfg.secret, `refresh:${token}`);
}

export function userClaims(user: UserRow) {
  return {
    sub: user.id,
    email: user.email,
    given_name: user.firstname,
    family_name: user.lastname,
    name: user.displayName,
    preferred_username: user.userid,
  };
}

interface Grant {
  clientId: string;
  /** The browser sign-in session the grant descends from (null for the password grant). */
  sessionId: string | null;
  scope: string;
  nonce?: string;
  authTime?: number;
}

async function issueUserTokens(cfg: Config, db: Db, issuer: string, user: UserRow, grant: Grant) {
  // Refresh tokens issued before DEFAULT_CLIENT changed still carry the access-token audience.
  const clientId = grant.clientId === ACCESS_TOKEN_AUDIENCE ? DEFAULT_CLIENT : grant.clientId;
  const claims = userClaims(user);
  const session = grant.sessionId ? { sid: grant.sessionId.slice(0, 32) } : {};
  const [accessToken, idToken, refreshToken] = await Promise.all([
    signToken(cfg, issuer, { ...claims, ...session, azp: clientId, scope: grant.scope }, ACCESS_TOKEN_AUDIENCE, cfg.accessTokenTtl, ACCESS_TOKEN_TYPE),
    signToken(
      cfg,
      issuer,
      { ...claims, ...session, azp: clientId, ...(grant.nonce ? { nonce: grant.nonce } : {}), ...(grant.authTime ? { auth_time: grant.authTime } : {}) },
      clientId,
      cfg.accessTokenTtl,
    ),
    signToken(cfg, issuer, { sub: user.id, azp: clientId, typ: "Refresh", ...session, scope: grant.scope }, issuer, cfg.refreshTokenTtl),
  ]);
  await storeRefreshToken(db, user.id, clientId, await refreshHash(cfg, refreshToken), Math.floor(Date.now() / 1000) + cfg.refreshTokenTtl, grant.sessionId);
  return {
    access_token: accessToken,
    ...(grant.scope.split(" ").includes("openid") ? { id_token: idToken } : {}),
    refresh_token: refreshToken,
    token_type: "Bearer",
    expires_in: cfg.accessTokenTtl,
    refresh_expires_in: cfg.refreshTokenTtl,
    scope: grant.scope,
  };
}
