/** OpenTalk `/v1/auth/login`: the provider config, and login with an id_token. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { createFromClaims } from "../auth/bearer";
import { ACCESS_TOKEN_TYPE, issuerUrl, verifyJwt, type Verified } from "../auth/oidc";
import { database } from "../db/client";
import { findUserById, findUserByOidc, updateUser } from "../db/users";
import { config } from "../lib/config";
import type { AppEnv } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";

const TAGS = ["auth"];
const REQUIRED_CLAIMS = ["sub", "email", "given_name", "family_name", "exp", "iat", "iss"] as const;

export function registerOpenTalkAuthRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    {
      method: "get",
      path: "/v1/auth/login",
      summary: "Get the configured OIDC provider",
      tags: TAGS,
      auth: "none",
      success: { status: 200, description: "Provider", schema: z.object({ oidc: z.object({ name: z.string(), url: z.string() }) }).openapi("OidcProvider") },
    },
    async (c) => {
      const cfg = config(c.env);
      return c.json({ oidc: { name: "default", url: cfg.oidcIssuer || issuerUrl(cfg, c.req.url) } });
    },
  );

  otRoute(
    app,
    {
      method: "post",
      path: "/v1/auth/login",
      summary: "Log in with an OIDC id_token",
      tags: TAGS,
      auth: "none",
      body: z.object({ id_token: z.string().max(16384) }).openapi("Login"),
      // The document's own code for a malformed login body (its list: bad_request, invalid_claims).
      badBodyCode: "bad_request",
      success: { status: 200, description: "Permissions", schema: z.object({ permissions: z.array(z.string()) }).openapi("LoginResult") },
    },
    async (c, { body }) => {
      const cfg = config(c.env);
      const db = database(c.env);
      const found = await verifyJwt(cfg, body.id_token);
      // An access token of the built-in issuer is not an id_token: it proves a session, not a login.
      const verified: Verified = found.ok && found.builtIn && found.typ === ACCESS_TOKEN_TYPE ? { ok: false, reason: "invalid" } : found;
      if (!verified.ok) {
        if (verified.reason === "expired") {
          throw OpenTalkError.unauthorized("The session for this user has expired", "unauthorized", {
            "WWW-Authenticate": 'Bearer error="invalid_token", error_description="The user session expired"',
          });
        }
        throw OpenTalkError.unauthorized("Authentication failed", "unauthorized", {
          "WWW-Authenticate": 'Bearer error="invalid_token", error_description="The provided access token is invalid"',
        });
      }
      const claims = verified.claims;
      if (REQUIRED_CLAIMS.some((k) => claims[k] === undefined || claims[k] === null)) {
        throw new OpenTalkError(400, "invalid_claims", "some required attributes are missing or malformed");
      }
      const sub = claims.sub as string;
      const existing = verified.builtIn ? await findUserById(db, sub) : await findUserByOidc(db, verified.issuer, sub);
      if (verified.builtIn && !existing) throw new OpenTalkError(400, "invalid_claims", "some required attributes are missing or malformed");
      const user = existing ?? (await createFromClaims(db, verified.issuer, claims));
      await updateUser(db, user.id, {
        email: claims.email ?? user.email,
        firstname: claims.given_name ?? user.firstname,
        lastname: claims.family_name ?? user.lastname,
        sessionExpiresAt: claims.exp ?? null,
      });
      return c.json({ permissions: [] });
    },
  );
}
