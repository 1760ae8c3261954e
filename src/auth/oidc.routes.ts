/** The built-in OIDC issuer: discovery, JWKS, token endpoint (password, refresh_token, client_credentials), introspection. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { database } from "../db/client";
import { consumeRefreshToken, storeRefreshToken } from "../db/tokens";
import { findUserById } from "../db/users";
import type { UserRow } from "../db/schema";
import { config, type Config } from "../lib/config";
import { clientAddress, type AppEnv } from "../lib/context";
import { ALNUM, hmacHex, randomString, timingSafeEqual } from "../lib/crypto";
import { BodyTooLarge, readBodyText } from "../lib/body";
import { ACCESS_TOKEN_AUDIENCE, SERVICE_SUBJECT_PREFIX, identityFromBearer } from "./bearer";
import { checkPassword } from "./credentials";
import { ACCESS_TOKEN_TYPE, issuerUrl, signToken, signingKey } from "./oidc";

/**
 * The id_token audience when the client names none. It must differ from ACCESS_TOKEN_AUDIENCE:
 * otherwise an id_token would pass the bearer audience check and work as an access token.
 */
const DEFAULT_CLIENT = "edgetalk-client";

function oauthError(c: Context<AppEnv>, status: 400 | 401 | 429, error: string, description: string, headers: Record<string, string> = {}) {
  return c.json({ error, error_description: description }, status, { "Cache-Control": "no-store", ...headers });
}

export function registerOidcRoutes(app: OpenAPIHono<AppEnv>) {
  app.get("/.well-known/openid-configuration", (c) => {
    const issuer = issuerUrl(config(c.env), c.req.url);
    return c.json({
      issuer,
      token_endpoint: `${issuer}/oauth/token`,
      jwks_uri: `${issuer}/oauth/jwks`,
      introspection_endpoint: `${issuer}/oauth/introspect`,
      grant_types_supported: ["password", "refresh_token", "client_credentials"],
      response_types_supported: ["token", "id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256"],
      token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic", "none"],
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "email", "given_name", "family_name", "name", "preferred_username"],
    });
  });

  app.get("/oauth/jwks", async (c) => {
    const key = await signingKey(config(c.env));
    return c.json({ keys: [key.publicJwk] }, 200, { "Cache-Control": "public, max-age=300" });
  });

  app.post("/oauth/token", async (c) => {
    const form = await readForm(c);
    if (!form) return oauthError(c, 400, "invalid_request", "the body must be application/x-www-form-urlencoded");
    const cfg = config(c.env);
    const db = database(c.env);
    const issuer = issuerUrl(cfg, c.req.url);
    const clientId = form.get("client_id") || basicClient(c)?.id || DEFAULT_CLIENT;
    switch (form.get("grant_type")) {
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
        return c.json(await issueUserTokens(cfg, db, issuer, result.user, clientId), 200, { "Cache-Control": "no-store" });
      }
      case "refresh_token": {
        const token = form.get("refresh_token") ?? "";
        const row = token ? await consumeRefreshToken(db, await refreshHash(cfg, token), Math.floor(Date.now() / 1000)) : undefined;
        const user = row ? await findUserById(db, row.userId) : undefined;
        if (!row || !user) return oauthError(c, 400, "invalid_grant", "Invalid refresh token");
        return c.json(await issueUserTokens(cfg, db, issuer, user, row.clientId), 200, { "Cache-Control": "no-store" });
      }
      case "client_credentials": {
        const basic = basicClient(c);
        const id = form.get("client_id") ?? basic?.id ?? "";
        const secret = form.get("client_secret") ?? basic?.secret ?? "";
        const client = cfg.serviceClients.find((s) => s.clientId === id);
        if (!client || !timingSafeEqual(client.secret, secret)) return oauthError(c, 401, "invalid_client", "Invalid client credentials");
        const access = await signToken(
          cfg,
          issuer,
          { sub: `${SERVICE_SUBJECT_PREFIX}${client.clientId}`, azp: client.clientId, realm_access: { roles: client.roles } },
          ACCESS_TOKEN_AUDIENCE,
          cfg.accessTokenTtl,
          ACCESS_TOKEN_TYPE,
        );
        return c.json({ access_token: access, token_type: "Bearer", expires_in: cfg.accessTokenTtl }, 200, { "Cache-Control": "no-store" });
      }
      default:
        return oauthError(c, 400, "unsupported_grant_type", "grant_type must be password, refresh_token or client_credentials");
    }
  });

  app.post("/oauth/introspect", async (c) => {
    const form = await readForm(c);
    const token = form?.get("token") ?? "";
    const result = token ? await identityFromBearer(database(c.env), config(c.env), token) : null;
    if (!result?.ok) return c.json({ active: false });
    const identity = result.identity;
    if (identity.kind === "user") return c.json({ active: true, sub: identity.user.id, username: identity.user.userid, token_type: "Bearer" });
    if (identity.kind === "service") return c.json({ active: true, sub: `${SERVICE_SUBJECT_PREFIX}${identity.clientId}`, token_type: "Bearer" });
    return c.json({ active: false });
  });
}

async function readForm(c: Context<AppEnv>): Promise<URLSearchParams | null> {
  if (!(c.req.header("content-type") ?? "").includes("application/x-www-form-urlencoded")) return null;
  try {
    return new URLSearchParams(await readBodyText(c.req.raw, 64 * 1024));
  } catch (err) {
    if (err instanceof BodyTooLarge) return null;
    throw err;
  }
}

function basicClient(c: Context<AppEnv>): { id: string; secret: string } | null {
  const header = c.req.header("authorization") ?? "";
  if (!/^basic\s/i.test(header)) return null;
  try {
    const [id, secret] = atob(header.slice(6).trim()).split(":");
    return id ? { id, secret: secret ?? "" } : null;
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

async function issueUserTokens(cfg: Config, db: ReturnType<typeof database>, issuer: string, user: UserRow, requestedClient: string) {
  // Refresh tokens issued before DEFAULT_CLIENT changed still carry the access-token audience.
  const clientId = requestedClient === ACCESS_TOKEN_AUDIENCE ? DEFAULT_CLIENT : requestedClient;
  const claims = userClaims(user);
  const [accessToken, idToken] = await Promise.all([
    signToken(cfg, issuer, claims, ACCESS_TOKEN_AUDIENCE, cfg.accessTokenTtl, ACCESS_TOKEN_TYPE),
    signToken(cfg, issuer, claims, clientId, cfg.accessTokenTtl),
  ]);
  const refresh = randomString(64, ALNUM);
  await storeRefreshToken(db, user.id, clientId, await refreshHash(cfg, refresh), Math.floor(Date.now() / 1000) + cfg.refreshTokenTtl);
  return {
    access_token: accessToken,
    id_token: idToken,
    refresh_token: refresh,
    token_type: "Bearer",
    expires_in: cfg.accessTokenTtl,
    refresh_expires_in: cfg.refreshTokenTtl,
    scope: "openid profile email",
  };
}
