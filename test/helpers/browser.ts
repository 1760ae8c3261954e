/**
 * A browser as the sign-in pages see it: one cookie jar, form posts, redirects read one at a time.
 * The code flow helper plays the OpenTalk web app (public client `Frontend`, PKCE S256, state).
 */
import { expect } from "vitest";
import { BASE, CookieJar, request } from "./http";

export const WEB_APP = "http://localhost:3000";
export const CALLBACK = `${WEB_APP}/auth/callback`;

export class Browser {
  readonly jar = new CookieJar();

  constructor(readonly address = randomAddress()) {}

  async get(pathOrUrl: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.send("GET", pathOrUrl, undefined, headers);
  }

  async post(pathOrUrl: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.send("POST", pathOrUrl, new URLSearchParams(form).toString(), { "Content-Type": "application/x-www-form-urlencoded", Origin: BASE, ...headers });
  }

  private async send(method: string, pathOrUrl: string, body: string | undefined, headers: Record<string, string>): Promise<Response> {
    const path = pathOrUrl.startsWith(`${BASE}/`) ? pathOrUrl.slice(BASE.length) : pathOrUrl;
    const cookie = this.jar.header();
    const res = await request(method, path, {
      body,
      // A browser shows each redirect to the test: the callback is another origin.
      redirect: "manual",
      headers: { "CF-Connecting-IP": this.address, ...(cookie ? { Cookie: cookie } : {}), ...headers },
    });
    this.jar.store(res);
    return res;
  }
}

export function randomAddress(): string {
  const [a = 0, b = 0, c = 0] = crypto.getRandomValues(new Uint8Array(3));
  return `10.${a}.${b}.${c}`;
}

/** Hidden input values of a page's form, by name. */
export function formFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    out[match[1] as string] = (match[2] as string).replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">");
  }
  return out;
}

export function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(48)));
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))));
  return { verifier, challenge };
}

export function authorizeUrl(params: Record<string, string>): string {
  return `/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: "Frontend", redirect_uri: CALLBACK, scope: "openid profile email", ...params })}`;
}

/** Signs in on the login page the authorization request led to; returns the redirect to the callback. */
export async function signInOnPage(browser: Browser, loginLocation: string, login: string, password: string): Promise<Response> {
  const page = await browser.get(loginLocation);
  expect(page.status).toBe(200);
  const fields = formFields(await page.text());
  const posted = await browser.post("/login", { ...fields, login, password });
  expect(posted.status).toBe(303);
  const back = posted.headers.get("location") as string;
  return browser.get(back);
}

export async function exchange(form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await request("POST", "/oauth/token", {
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: WEB_APP, ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

/** The whole code flow as the web app runs it; returns the token response and the browser. */
export async function codeFlow(user: { user: string; password: string }, browser = new Browser()) {
  const { verifier, challenge } = await pkce();
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const start = await browser.get(authorizeUrl({ code_challenge: challenge, code_challenge_method: "S256", state, nonce: "n-123" }));
  const back = start.headers.get("location") as string;
  const callback = back.startsWith("/login") ? await signInOnPage(browser, back, user.user, user.password) : start;
  expect(callback.status).toBe(302);
  const url = new URL(callback.headers.get("location") as string);
  expect(`${url.origin}${url.pathname}`).toBe(CALLBACK);
  expect(url.searchParams.get("state")).toBe(state);
  const code = url.searchParams.get("code") as string;
  const tokens = await exchange({ grant_type: "authorization_code", client_id: "Frontend", redirect_uri: CALLBACK, code, code_verifier: verifier });
  expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
  return { browser, tokens: tokens.body, code, verifier };
}
