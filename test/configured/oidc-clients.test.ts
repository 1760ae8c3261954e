/**
 * Registered OIDC clients from EDGETALK_OIDC_CLIENTS: a confidential client authenticates with its
 * secret on every grant (PKCE optional for it), and may introspect tokens.
 */
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { Browser, exchange, formFields, pkce } from "../helpers/browser";
import { createUser, request } from "../helpers/http";

const CALLBACK = "https://portal.example.test/cb";
const SECRET = "portal-secret-0123456789";
const basic = (id: string, secret: string) => ({ Authorization: `Basic ${btoa(`${id}:${secret}`)}` });

async function portalCode(user: { user: string; password: string }, extra: Record<string, string> = {}) {
  const browser = new Browser();
  const q = new URLSearchParams({ response_type: "code", client_id: "portal", redirect_uri: CALLBACK, scope: "openid", state: "p1", ...extra });
  const start = await browser.get(`/oauth/authorize?${q}`);
  expect(start.status).toBe(302);
  const page = await browser.get(start.headers.get("location") as string);
  const posted = await browser.post("/login", { ...formFields(await page.text()), login: user.user, password: user.password });
  const back = await browser.get(posted.headers.get("location") as string);
  const url = new URL(back.headers.get("location") as string);
  expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
  return url.searchParams.get("code") as string;
}

describe("a confidential OIDC client", () => {
  it("needs its secret for the code and for refreshing; PKCE is optional for it", async () => {
    const user = await createUser("portal");
    const code = await portalCode(user);
    const missing = await exchange({ grant_type: "authorization_code", client_id: "portal", redirect_uri: CALLBACK, code });
    expect(missing.status).toBe(401);
    expect(missing.body.error).toBe("invalid_client");
    expect(missing.headers.get("www-authenticate")).toContain("Basic");
    const wrong = await exchange({ grant_type: "authorization_code", redirect_uri: CALLBACK, code }, basic("portal", "nope"));
    expect(wrong.status).toBe(401);

    const code2 = await portalCode(user);
    const ok = await exchange({ grant_type: "authorization_code", redirect_uri: CALLBACK, code: code2 }, basic("portal", SECRET));
    expect(ok.status).toBe(200);
    expect(decodeJwt(ok.body.id_token).aud).toBe("portal");
    const refreshNoSecret = await exchange({ grant_type: "refresh_token", refresh_token: ok.body.refresh_token });
    expect(refreshNoSecret.status).toBe(401);
    const refreshed = await exchange({ grant_type: "refresh_token", refresh_token: ok.body.refresh_token, client_id: "portal", client_secret: SECRET });
    expect(refreshed.status).toBe(200);

    // A PKCE challenge it sends is still enforced.
    const { verifier, challenge } = await pkce();
    const code3 = await portalCode(user, { code_challenge: challenge, code_challenge_method: "S256" });
    const noVerifier = await exchange({ grant_type: "authorization_code", redirect_uri: CALLBACK, code: code3 }, basic("portal", SECRET));
    expect(noVerifier.status).toBe(400);
    const code4 = await portalCode(user, { code_challenge: challenge, code_challenge_method: "S256" });
    const withVerifier = await exchange({ grant_type: "authorization_code", redirect_uri: CALLBACK, code: code4, code_verifier: verifier }, basic("portal", SECRET));
    expect(withVerifier.status).toBe(200);

    const introspected = await request("POST", "/oauth/introspect", {
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...basic("portal", SECRET) },
      body: new URLSearchParams({ token: refreshed.body.access_token }).toString(),
    });
    expect(await introspected.json()).toMatchObject({ active: true, username: user.user });
  });
});
