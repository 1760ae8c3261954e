/**
 * Browser sign-in through the built-in issuer, as the OpenTalk web app does it: authorization code
 * with PKCE (S256) and state, the login page, the sign-in session shared by clients, JWT refresh
 * tokens that rotate, userinfo, and RP-initiated sign-out.
 */
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { authorizeUrl, Browser, CALLBACK, codeFlow, exchange, formFields, pkce, WEB_APP } from "./helpers/browser";
import { createUser, request } from "./helpers/http";

function location(res: Response): URL {
  return new URL(res.headers.get("location") as string, "http://localhost");
}

describe("authorization endpoint", () => {
  it("shows an error page, never a redirect, for an unknown client or an unregistered redirect URI", async () => {
    const browser = new Browser();
    const { challenge } = await pkce();
    const unknown = await browser.get(authorizeUrl({ client_id: "nobody", code_challenge: challenge, code_challenge_method: "S256" }));
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get("location")).toBeNull();
    expect(await unknown.text()).toContain("Unknown application");
    const foreign = await browser.get(authorizeUrl({ redirect_uri: "https://evil.example/auth/callback", code_challenge: challenge, code_challenge_method: "S256" }));
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get("location")).toBeNull();
    // Exact match only: a longer path on the registered origin is not registered.
    const longer = await browser.get(authorizeUrl({ redirect_uri: `${CALLBACK}/x`, code_challenge: challenge, code_challenge_method: "S256" }));
    expect(longer.status).toBe(400);
  });

  it("sends request errors back to the client with the state", async () => {
    const browser = new Browser();
    const noPkce = await browser.get(authorizeUrl({ state: "s1" }));
    expect(noPkce.status).toBe(302);
    const url = location(noPkce);
    expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
    expect(url.searchParams.get("error")).toBe("invalid_request");
    expect(url.searchParams.get("state")).toBe("s1");
    const { challenge } = await pkce();
    const plain = location(await browser.get(authorizeUrl({ state: "s2", code_challenge: challenge, code_challenge_method: "plain" })));
    expect(plain.searchParams.get("error")).toBe("invalid_request");
    const token = location(await browser.get(authorizeUrl({ state: "s3", response_type: "token", code_challenge: challenge, code_challenge_method: "S256" })));
    expect(token.searchParams.get("error")).toBe("unsupported_response_type");
    const silent = location(await browser.get(authorizeUrl({ state: "s4", prompt: "none", code_challenge: challenge, code_challenge_method: "S256" })));
    expect(silent.searchParams.get("error")).toBe("login_required");
    expect(silent.searchParams.get("state")).toBe("s4");
  });

  it("runs the code flow: login page, code, token exchange, /v1 call, rotation, and single-use codes", async () => {
    const user = await createUser("browser");
    const browser = new Browser();
    const { verifier, challenge } = await pkce();
    const start = await browser.get(authorizeUrl({ code_challenge: challenge, code_challenge_method: "S256", state: "xyz", nonce: "n-1" }));
    expect(start.status).toBe(302);
    const login = location(start);
    expect(login.pathname).toBe("/login");
    expect(login.searchParams.get("return_to")).toMatch(/^\/oauth\/authorize\?/);

    const page = await browser.get(`${login.pathname}${login.search}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<label for="login">');
    expect(html).toContain('<label for="password">');
    expect(html).not.toContain("<script");
    const fields = formFields(html);
    expect(fields.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const wrong = await browser.post("/login", { ...fields, login: user.user, password: "wrong" });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain("Wrong account name or password.");
    expect(browser.jar.header()).not.toContain("edgetalk_login");

    const posted = await browser.post("/login", { ...fields, login: user.user, password: user.password });
    expect(posted.status).toBe(303);
    expect(posted.headers.getSetCookie().join("\n")).toMatch(/edgetalk_login=[A-Za-z0-9]{43}; Max-Age=604800; Path=\/; HttpOnly; SameSite=Lax/);
    const callback = await browser.get(posted.headers.get("location") as string);
    expect(callback.status).toBe(302);
    const back = location(callback);
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK);
    expect(back.searchParams.get("state")).toBe("xyz");
    const code = back.searchParams.get("code") as string;

    const wrongVerifier = `${verifier.slice(0, -1)}${verifier.endsWith("A") ? "B" : "A"}`;
    const badVerifier = await exchange({ grant_type: "authorization_code", client_id: "Frontend", redirect_uri: CALLBACK, code, code_verifier: wrongVerifier });
    expect(badVerifier.status).toBe(400);
    expect(badVerifier.body.error).toBe("invalid_grant");
    // The failed attempt used the code up: codes work once, whoever presents them.
    const again = await exchange({ grant_type: "authorization_code", client_id: "Frontend", redirect_uri: CALLBACK, code, code_verifier: verifier });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({ error: "invalid_grant", error_description: "Invalid or expired authorization code" });

    const flow = await codeFlow(user, browser);
    const access = decodeJwt(flow.tokens.access_token);
    const id = decodeJwt(flow.tokens.id_token);
    const refresh = decodeJwt(flow.tokens.refresh_token);
    expect(access.aud).toBe("edgetalk");
    expect(access.azp).toBe("Frontend");
    expect(typeof access.iat).toBe("number");
    expect(id.aud).toBe("Frontend");
    expect(id.nonce).toBe("n-123");
    expect(typeof id.auth_time).toBe("number");
    expect(refresh.exp).toBeGreaterThan(access.exp as number);
    expect(flow.tokens.scope).toBe("openid profile email");

    const me = await request("GET", "/v1/users/me", { headers: { Authorization: `Bearer ${flow.tokens.access_token}`, Origin: WEB_APP } });
    expect(me.status).toBe(200);
    expect(me.headers.get("access-control-allow-origin")).toBe(WEB_APP);
    expect(((await me.json()) as { id: string }).id).toBe(access.sub);

    const renewed = await exchange({ grant_type: "refresh_token", client_id: "Frontend", refresh_token: flow.tokens.refresh_token });
    expect(renewed.status).toBe(200);
    expect(renewed.headers.get("access-control-allow-origin")).toBe(WEB_APP);
    expect(renewed.body.refresh_token).not.toBe(flow.tokens.refresh_token);
    expect(decodeJwt(renewed.body.access_token).sub).toBe(access.sub);
    const replayed = await exchange({ grant_type: "refresh_token", client_id: "Frontend", refresh_token: flow.tokens.refresh_token });
    expect(replayed.status).toBe(400);
    // A refresh token works only for its own client.
    const foreign = await exchange({ grant_type: "refresh_token", client_id: "someone-else", refresh_token: renewed.body.refresh_token });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe("invalid_grant");
  });

  it("signs a second client in from the session without the password", async () => {
    const user = await createUser("sso");
    const first = await codeFlow(user);
    const { challenge } = await pkce();
    const second = await first.browser.get(authorizeUrl({ code_challenge: challenge, code_challenge_method: "S256", state: "two" }));
    expect(second.status).toBe(302);
    const url = location(second);
    expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
    expect(url.searchParams.get("code")).toMatch(/^[A-Za-z0-9]{43}$/);
    // prompt=login asks for the password again.
    const forced = await first.browser.get(authorizeUrl({ code_challenge: challenge, code_challenge_method: "S256", prompt: "login" }));
    expect(location(forced).pathname).toBe("/login");
    expect(location(forced).searchParams.get("return_to")).not.toContain("prompt");
  });

  it("refuses a login form without its CSRF token or from another origin", async () => {
    const user = await createUser("csrf");
    const browser = new Browser();
    const page = await browser.get("/login");
    const fields = formFields(await page.text());
    const missing = await browser.post("/login", { login: user.user, password: user.password });
    expect(missing.status).toBe(403);
    const crossSite = await browser.post("/login", { ...fields, login: user.user, password: user.password }, { Origin: "https://evil.example" });
    expect(crossSite.status).toBe(403);
    const otherBrowser = new Browser();
    const stolen = await otherBrowser.post("/login", { ...fields, login: user.user, password: user.password });
    expect(stolen.status).toBe(403);
    for (const res of [missing, crossSite, stolen]) expect(res.headers.getSetCookie().join()).not.toContain("edgetalk_login=");
  });

  it("keeps return_to on this server", async () => {
    const user = await createUser("returnto");
    const browser = new Browser();
    const page = await browser.get("/login?return_to=https://evil.example/");
    const fields = formFields(await page.text());
    expect(fields.return_to).toBeUndefined();
    const posted = await browser.post("/login", { ...fields, return_to: "//evil.example/x", login: user.user, password: user.password });
    expect(posted.status).toBe(303);
    expect(posted.headers.get("location")).toBe("/account");
  });
});

describe("userinfo and sign-out", () => {
  it("answers userinfo for a valid access token only", async () => {
    const user = await createUser("userinfo");
    const { tokens } = await codeFlow(user);
    const res = await request("GET", "/oauth/userinfo", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: decodeJwt(tokens.access_token).sub, preferred_username: user.user, email: `${user.user}@example.test` });
    const withId = await request("GET", "/oauth/userinfo", { headers: { Authorization: `Bearer ${tokens.id_token}` } });
    expect(withId.status).toBe(401);
    expect(withId.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const none = await request("GET", "/oauth/userinfo");
    expect(none.status).toBe(401);
  });

  it("asks before signing out, then ends the session and its refresh tokens and returns to the client", async () => {
    const user = await createUser("signout");
    const { browser, tokens } = await codeFlow(user);
    const params = new URLSearchParams({ client_id: "Frontend", post_logout_redirect_uri: `${WEB_APP}/`, state: "bye" });
    const ask = await browser.get(`/oauth/logout?${params}`);
    expect(ask.status).toBe(200);
    const fields = formFields(await ask.text());
    expect(fields).toMatchObject({ client_id: "Frontend", post_logout_redirect_uri: `${WEB_APP}/`, state: "bye" });

    // A cross-site POST cannot sign anybody out.
    const forged = await browser.post("/oauth/logout", { ...fields }, { Origin: "https://evil.example" });
    expect(forged.status).toBe(403);

    const done = await browser.post("/oauth/logout", fields);
    expect(done.status).toBe(302);
    expect(done.headers.get("location")).toBe(`${WEB_APP}/?state=bye`);
    expect(done.headers.getSetCookie().join()).toContain("edgetalk_login=; Max-Age=0");

    const refresh = await exchange({ grant_type: "refresh_token", client_id: "Frontend", refresh_token: tokens.refresh_token });
    expect(refresh.status).toBe(400);
    const { challenge } = await pkce();
    const again = await browser.get(authorizeUrl({ code_challenge: challenge, code_challenge_method: "S256" }));
    expect(location(again).pathname).toBe("/login");
  });

  it("signs out at once with an id_token_hint of the signed-in user, and refuses unregistered return addresses", async () => {
    const user = await createUser("hint");
    const { browser, tokens } = await codeFlow(user);
    const bad = await browser.get(`/oauth/logout?${new URLSearchParams({ client_id: "Frontend", post_logout_redirect_uri: "https://evil.example/" })}`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get("location")).toBeNull();
    const res = await browser.get(`/oauth/logout?${new URLSearchParams({ id_token_hint: tokens.id_token, post_logout_redirect_uri: `${WEB_APP}/` })}`);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`${WEB_APP}/`);
  });
});
