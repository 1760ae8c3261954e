/**
 * The issuer's browser endpoints: the authorization endpoint (code flow with PKCE) and the
 * end-session endpoint (RP-initiated logout).
 *
 * `GET /oauth/authorize` checks the client and its exact redirect URI first (a mismatch is shown
 * as a page, never redirected), then the request (errors go back to the client as
 * `?error=…&state=…`). Without a sign-in session it sends the browser to the sign-in page and
 * back; with one it issues a single-use code at once, so a second client signs in without the
 * password. Public clients must send an S256 `code_challenge`.
 *
 * `/oauth/logout` ends the sign-in session and the refresh tokens issued under it, then returns
 * to a registered `post_logout_redirect_uri`. Without an `id_token_hint` of the signed-in user it
 * asks first (a form with a CSRF token), as Keycloak does, so a cross-site link cannot sign
 * anybody out.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { database } from "../db/client";
import { storeAuthorizationCode } from "../db/tokens";
import { readUrlEncoded } from "../lib/body";
import { config } from "../lib/config";
import type { AppContext, AppEnv } from "../lib/context";
import { ALNUM, hmacHex, randomString } from "../lib/crypto";
import { errorPage, esc, hiddenFields, renderPage } from "../web/page";
import { loginUrl } from "../web/login.routes";
import { csrfToken, csrfValid, currentLoginSession, stopLoginSession } from "./login-session";
import { issuerUrl, verifyJwt } from "./oidc";
import { findClient, SCOPES } from "./oidc.routes";

const CODE_TTL = 60;

function redirectTo(uri: string, params: Record<string, string | undefined>): Response {
  const url = new URL(uri);
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== "") url.searchParams.set(key, value);
  return new Response(null, { status: 302, headers: { Location: url.toString(), "Cache-Control": "no-store" } });
}

export function registerAuthorizeRoutes(app: OpenAPIHono<AppEnv>) {
  app.get("/oauth/authorize", async (c) => {
    const cfg = config(c.env);
    const q = new URL(c.req.url).searchParams;
    const client = findClient(cfg, q.get("client_id"));
    if (!client) return errorPage(400, "Unknown application", "The application that sent you here is not registered with this server.");
    const redirectUri = q.get("redirect_uri") ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
    if (!redirectUri || !client.redirectUris.includes(redirectUri)) {
      return errorPage(400, "Invalid redirect", "The application asked to return to an address that is not registered for it.");
    }
    const state = q.get("state") ?? undefined;
    const fail = (error: string, description: string) => redirectTo(redirectUri, { error, error_description: description, state });
    for (const name of ["response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method", "nonce", "prompt"]) {
      if (q.getAll(name).length > 1) return fail("invalid_request", `${name} is repeated`);
    }
    if (q.get("response_type") !== "code") return fail("unsupported_response_type", "only response_type=code is supported");
    if (q.get("request") || q.get("request_uri")) return fail("request_not_supported", "request objects are not supported");
    const challenge = q.get("code_challenge") ?? "";
    const method = q.get("code_challenge_method") ?? (challenge ? "plain" : "");
    if (challenge || !client.secret) {
      if (!challenge) return fail("invalid_request", "code_challenge is required (PKCE with S256)");
      if (method !== "S256") return fail("invalid_request", "code_challenge_method must be S256");
      if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) return fail("invalid_request", "code_challenge is malformed");
    }
    const scope = (q.get("scope") ?? "openid").split(" ").filter((s) => SCOPES.includes(s)).join(" ");
    const nonce = q.get("nonce") ?? "";
    if (nonce.length > 512 || (state?.length ?? 0) > 2048) return fail("invalid_request", "state or nonce is too long");
    const prompt = (q.get("prompt") ?? "").split(" ");

    const session = await currentLoginSession(c);
    if (!session || prompt.includes("login")) {
      if (prompt.includes("none")) return fail("login_required", "the user is not signed in");
      // Back to this request after signing in, without prompt=login (or it would ask again).
      const back = new URL(c.req.url);
      back.searchParams.delete("prompt");
      return new Response(null, { status: 302, headers: { Location: loginUrl(`${back.pathname}${back.search}`, Boolean(session)), "Cache-Control": "no-store" } });
    }

    const code = randomString(43, ALNUM);
    const now = Math.floor(Date.now() / 1000);
    await storeAuthorizationCode(database(c.env), {
      codeHash: await hmacHex(cfg.secret, `authorization-code:${code}`),
      clientId: client.clientId,
      redirectUri,
      userId: session.user.id,
      sessionId: session.id,
      codeChallenge: challenge,
      nonce,
      scope,
      authTime: session.createdAt,
      expiresAt: now + CODE_TTL,
    });
    return redirectTo(redirectUri, { code, state });
  });

  const endSession = async (c: AppContext) => {
    const cfg = config(c.env);
    const post = c.req.method === "POST";
    const params = post ? await readUrlEncoded(c.req.raw) : new URL(c.req.url).searchParams;
    if (!params) return errorPage(400, "Bad request", "The sign-out form could not be read.");
    const hintToken = params.get("id_token_hint") ?? "";
    const hint = hintToken ? await verifyJwt(cfg, hintToken) : null;
    const hinted = hint?.ok && hint.builtIn && hint.typ === "JWT" && hint.claims.typ === undefined ? hint.claims : null;
    if (hintToken && !hinted) return errorPage(400, "Sign out failed", "The sign-out request names an invalid token.");
    const clientId = params.get("client_id") || (typeof hinted?.aud === "string" ? hinted.aud : "");
    const returnUri = params.get("post_logout_redirect_uri") ?? "";
    if (returnUri && !findClient(cfg, clientId)?.postLogoutRedirectUris.includes(returnUri)) {
      return errorPage(400, "Invalid redirect", "The application asked to return to an address that is not registered for it.");
    }
    const state = params.get("state") ?? undefined;
    const session = await currentLoginSession(c);

    if (session) {
      const confirmed = post ? await csrfValid(c, params.get("csrf")) : hinted?.sub === session.user.id;
      if (post && !confirmed) return errorPage(403, "Sign out failed", "Your sign-out form expired. Please try again.");
      if (!confirmed) {
        const csrf = await csrfToken(c);
        const fields: Record<string, string> = { csrf: csrf.token };
        if (clientId) fields.client_id = clientId;
        if (returnUri) fields.post_logout_redirect_uri = returnUri;
        if (state) fields.state = state;
        const body = `<h1>Sign out</h1>
<p>Do you want to sign out of EdgeTalk as <strong>${esc(session.user.displayName || session.user.userid)}</strong>?</p>
<form method="post" action="/oauth/logout">
${hiddenFields(fields)}
<button type="submit">Sign out</button>
</form>`;
        return renderPage({ title: "Sign out", body, headers: csrf.setCookie ? { "Set-Cookie": csrf.setCookie } : {} });
      }
    }

    const clear = session ? await stopLoginSession(c, session.id) : undefined;
    const done = returnUri
      ? redirectTo(returnUri, { state })
      : renderPage({ title: "Signed out", body: `<h1>Signed out</h1>\n<p>You have signed out of EdgeTalk.</p>\n<p><a href="${esc(issuerUrl(cfg, c.req.url))}/login">Sign in again</a></p>` });
    if (clear) done.headers.append("Set-Cookie", clear);
    return done;
  };
  app.get("/oauth/logout", endSession);
  app.post("/oauth/logout", endSession);
}
