/**
 * Sign-in hardening: the throttle under parallel guesses, no lock-out of the owner from elsewhere,
 * case-insensitive login names, introspection for clients only, no cross-site state change on
 * /v1, security headers, malformed multipart and XML control characters, room-token guessing, and
 * the same work for unknown and existing logins.
 */
import { env } from "cloudflare:workers";
import { drizzle } from "drizzle-orm/d1";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sessionCookieValue } from "../src/auth/cookie";
import { checkPassword } from "../src/auth/credentials";
import * as schema from "../src/db/schema";
import { config } from "../src/lib/config";
import { randomAddress } from "./helpers/browser";
import { ADMIN, basic, CookieJar, createUser, ocs, request, unique } from "./helpers/http";
import { createRoom, signIn, v1 } from "./helpers/opentalk";
import { V4 } from "./helpers/talk";

const from = (address: string) => ({ "CF-Connecting-IP": address });

describe("sign-in throttle", () => {
  it("checks exactly the allowed number of 24 parallel wrong passwords and answers the rest 429 unchecked", async () => {
    const user = await createUser("race");
    const address = randomAddress();
    const replies = await Promise.all(
      Array.from({ length: 24 }, (_, i) => ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { user: user.user, password: `wrong-${i}` }, headers: from(address) })),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(19);
    // The right password is not evaluated from this address now either.
    const right = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: user, headers: from(address) });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("never locks the owner out from elsewhere: password and app passwords keep working from another address", async () => {
    const user = await createUser("nolock");
    const app = await ocs("GET", "/ocs/v2.php/core/getapppassword", { auth: user, headers: from(randomAddress()) });
    expect(app.status).toBe(200);
    const attacker = randomAddress();
    for (let i = 0; i < 8; i++) await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { user: user.user, password: `guess-${i}` }, headers: from(attacker) });
    const blocked = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: user, headers: from(attacker) });
    expect(blocked.status).toBe(429);
    const owner = randomAddress();
    const password = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: user, headers: from(owner) });
    expect(password.status).toBe(200);
    const appPassword = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { user: user.user, password: app.data.apppassword }, headers: from(randomAddress()) });
    expect(appPassword.status).toBe(200);
  });

  it("does the same work for an unknown login as for an existing one with a wrong password", async () => {
    const user = await createUser("timing");
    const cfg = config(env);
    const measure = async (login: string) => {
      let statements = 0;
      const counting = new Proxy(env.DB, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (prop === "prepare") {
            return (query: string) => {
              statements++;
              return target.prepare(query);
            };
          }
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
      const derive = vi.spyOn(crypto.subtle, "deriveBits");
      const result = await checkPassword(drizzle(counting, { schema }), cfg, login, "definitely-wrong", randomAddress());
      const pbkdf2 = derive.mock.calls.length;
      derive.mockRestore();
      return { ok: result.ok, statements, pbkdf2 };
    };
    const existing = await measure(user.user);
    const unknown = await measure(unique("ghost"));
    expect(existing.ok).toBe(false);
    expect(unknown.ok).toBe(false);
    expect(existing.pbkdf2).toBe(1);
    expect(unknown).toEqual(existing);
  });

  it("serves a cookie session's repeated credential without an HMAC, and only that credential", async () => {
    const user = await createUser("bound");
    const cfg = config(env);
    const db = drizzle(env.DB, { schema });
    const app = await ocs("GET", "/ocs/v2.php/core/getapppassword", { auth: user, headers: from(randomAddress()) });
    const appPassword = app.data.apppassword as string;
    const session = unique("cookie-session");
    const check = async (password: string, s: string | null = session) => {
      const sign = vi.spyOn(crypto.subtle, "sign");
      const result = await checkPassword(db, cfg, user.user, password, randomAddress(), s);
      const hmacs = sign.mock.calls.length;
      sign.mockRestore();
      return { ok: result.ok, via: result.ok ? result.via : null, hmacs };
    };
    expect(await check(user.password)).toMatchObject({ ok: true, via: "password" });
    expect(await check(user.password)).toEqual({ ok: true, via: "password", hmacs: 0 });
    // Another credential with the same cookie is checked as itself, and rebinds the session.
    expect(await check("wrong-password")).toMatchObject({ ok: false });
    expect(await check(appPassword)).toMatchObject({ ok: true, via: "app-password" });
    expect(await check(appPassword)).toEqual({ ok: true, via: "app-password", hmacs: 0 });
    expect(await check(user.password)).toMatchObject({ ok: true, via: "password", hmacs: 1 });
    // Without the cookie, or with another one, the credential is hashed as before.
    expect(await check(user.password, null)).toEqual({ ok: true, via: "password", hmacs: 1 });
    expect(await check(user.password, unique("other-session"))).toEqual({ ok: true, via: "password", hmacs: 1 });
  });

  it("reads the session cookie from among others, not from a cookie whose name ends like it", () => {
    expect(sessionCookieValue("edgetalk_session=a.b")).toBe("a.b");
    expect(sessionCookieValue("x=1; edgetalk_session=a.b; y=2")).toBe("a.b");
    expect(sessionCookieValue("my_edgetalk_session=evil; edgetalk_session=a.b")).toBe("a.b");
    expect(sessionCookieValue("my_edgetalk_session=evil")).toBeUndefined();
    expect(sessionCookieValue("edgetalk_session=; y=2")).toBeUndefined();
    expect(sessionCookieValue(undefined)).toBeUndefined();
  });

  it("through the Worker: a signed-in cookie does not carry a wrong password or a revoked app password", async () => {
    const user = await createUser("jar");
    const jar = new CookieJar();
    expect((await ocs("GET", "/ocs/v2.php/cloud/user", { auth: user, jar })).status).toBe(200);
    expect((await ocs("GET", "/ocs/v2.php/cloud/user", { auth: user, jar })).status).toBe(200);
    expect((await ocs("GET", "/ocs/v2.php/cloud/user", { auth: { user: user.user, password: "not-it" }, jar })).status).toBe(401);
    const issued = await ocs("GET", "/ocs/v2.php/core/getapppassword", { auth: user, jar });
    const creds = { user: user.user, password: issued.data.apppassword as string };
    expect((await ocs("GET", "/ocs/v2.php/cloud/user", { auth: creds, jar })).status).toBe(200);
    // The app password is still an app password with the cookie: it cannot mint another.
    expect((await ocs("GET", "/ocs/v2.php/core/getapppassword", { auth: creds, jar })).status).toBe(403);
    expect((await ocs("DELETE", "/ocs/v2.php/core/apppassword", { auth: creds, jar })).status).toBe(200);
    expect((await ocs("GET", "/ocs/v2.php/cloud/user", { auth: creds, jar })).status).toBe(401);
    expect((await ocs("GET", "/ocs/v2.php/cloud/user", { auth: user, jar })).status).toBe(200);
  });

  afterEach(() => vi.restoreAllMocks());
});

describe("login names", () => {
  it("are unique regardless of case and may not start or end with spaces; any case signs in", async () => {
    const name = unique("Case");
    const created = await ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { userid: name, password: "case-password-1" } });
    expect(created.status).toBe(200);
    const lower = await ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { userid: name.toLowerCase(), password: "case-password-2" } });
    expect(lower.status).toBe(400);
    expect(lower.meta).toMatchObject({ statuscode: 102, message: "User already exists" });
    const spaced = await ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { userid: `${name.toLowerCase()} `, password: "case-password-3" } });
    expect(spaced.status).toBe(400);
    expect(spaced.meta).toMatchObject({ statuscode: 101, message: "Username contains whitespace at the beginning or at the end" });
    const leading = await ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { userid: ` ${unique("lead")}`, password: "case-password-4" } });
    expect(leading.meta.statuscode).toBe(101);
    const upper = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { user: name.toUpperCase(), password: "case-password-1" }, headers: from(randomAddress()) });
    expect(upper.status).toBe(200);
  });
});

describe("client authentication and cross-site requests", () => {
  it("answers introspection only to an authenticated client", async () => {
    const anyone = await request("POST", "/oauth/introspect", {
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: "whatever" }).toString(),
    });
    expect(anyone.status).toBe(401);
    expect(anyone.headers.get("www-authenticate")).toContain("Basic");
    expect(await anyone.json()).toMatchObject({ error: "invalid_client" });
    const wrong = await request("POST", "/oauth/introspect", {
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${btoa("callin-gateway:nope")}` },
      body: "token=x",
    });
    expect(wrong.status).toBe(401);
    const client = await request("POST", "/oauth/introspect", {
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${btoa("callin-gateway:callin-secret")}` },
      body: "token=x",
    });
    expect(client.status).toBe(200);
    expect(await client.json()).toEqual({ active: false });
  });

  it("refuses Basic credentials on /v1, so a body-less cross-site text/plain POST creates nothing", async () => {
    const owner = await signIn("xsite");
    const room = await createRoom(owner);
    const forged = await request("POST", `/v1/rooms/${room.id}/invites`, {
      headers: { Authorization: basic({ user: owner.login, password: owner.password }), "Content-Type": "text/plain", Origin: "https://evil.example" },
    });
    expect(forged.status).toBe(401);
    expect(forged.headers.get("www-authenticate")).toContain("Bearer");
    const invites = await v1("GET", `/v1/rooms/${room.id}/invites`, { token: owner.token });
    expect(invites.status).toBe(200);
    expect(invites.body).toEqual([]);
  });
});

describe("CORS", () => {
  const preflight = (path: string, origin: string) =>
    request("OPTIONS", path, {
      headers: { Origin: origin, "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "authorization, content-type" },
    });

  it("answers the web app's preflight on /v1, /oauth, /.well-known and /ocs", async () => {
    for (const path of ["/v1/users/me", "/oauth/token", "/.well-known/openid-configuration", `${V4}/room`]) {
      const res = await preflight(path, "http://localhost:3000");
      expect(res.status, path).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
      expect(res.headers.get("access-control-allow-methods")).toBe("GET,HEAD,POST,PUT,PATCH,DELETE");
      expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
      expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-type");
      expect(res.headers.get("vary")).toContain("Origin");
    }
    const discovery = await request("GET", "/.well-known/openid-configuration", { headers: { Origin: "http://localhost:3000" } });
    expect(discovery.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
  });

  it("sends nothing to origins that are not listed", async () => {
    const res = await preflight("/v1/users/me", "https://evil.example");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("access-control-allow-methods")).toBeNull();
    const get = await request("GET", "/.well-known/openid-configuration", { headers: { Origin: "https://evil.example" } });
    expect(get.status).toBe(200);
    expect(get.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("response headers and malformed input", () => {
  it("marks every answer nosniff and locks down HTML pages", async () => {
    for (const path of ["/status.php", "/v1/users/me", "/ocs/v2.php/cloud/capabilities", "/oauth/jwks", "/nowhere"]) {
      const res = await request("GET", path, { headers: { "OCS-APIRequest": "true" } });
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
    for (const path of ["/login", "/docs"]) {
      const res = await request("GET", path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      const nonce = /'nonce-([A-Za-z0-9]+)'/.exec(csp)?.[1];
      expect(await res.text()).toContain(`<style nonce="${nonce}">`);
    }
  });

  it("answers malformed multipart bodies on OCS with 400, not 500", async () => {
    const user = await createUser("multipart");
    const res = await request("POST", `${V4}/room`, {
      headers: { Authorization: basic(user), "OCS-APIRequest": "true", Accept: "application/json", "Content-Type": "multipart/form-data; boundary=XYZ" },
      body: "--XYZ\r\nContent-Disposition: form-data; name=\"roomType\"\r\n\r\n3\r\n--nope",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).ocs.meta.statuscode).toBe(400);
  });

  it("keeps XML answers well-formed when data holds control characters", async () => {
    const userid = unique("ctrl");
    const created = await ocs("POST", "/ocs/v2.php/cloud/users", { auth: ADMIN, body: { userid, password: "ctrl-password-1", displayName: "Bell\u0007 and \u0001 esc\u001b" } });
    expect(created.status).toBe(200);
    const res = await request("GET", `/ocs/v2.php/cloud/users/${userid}`, { headers: { Authorization: basic(ADMIN), "OCS-APIRequest": "true" } });
    expect(res.status).toBe(200);
    const xml = await res.text();
    expect(xml).toContain("<displayname>Bell\uFFFD and \uFFFD esc\uFFFD</displayname>");
    const controls = [...xml].filter((ch) => ch.charCodeAt(0) < 0x20 && !"\t\n\r".includes(ch));
    expect(controls).toEqual([]);
  });
});

describe("room-token guessing", () => {
  it("throttles an address after 30 unknown tokens, for known tokens too, and leaves other addresses alone", async () => {
    const user = await createUser("guess");
    const created = await ocs("POST", `${V4}/room`, { auth: user, body: { roomType: 3, roomName: "Guarded" } });
    const token = created.data.token as string;
    const guesser = randomAddress();
    for (let i = 0; i < 30; i++) {
      const miss = await ocs("GET", `${V4}/room/${unique("x").toLowerCase().slice(0, 12)}`, { headers: from(guesser) });
      expect(miss.status).toBe(404);
    }
    const over = await ocs("GET", `${V4}/room/zzzzzzzzzzzz`, { headers: from(guesser) });
    expect(over.status).toBe(429);
    expect(over.meta).toMatchObject({ statuscode: 429, message: "Reached maximum delay" });
    const known = await ocs("POST", `${V4}/room/${token}/participants/active`, { headers: from(guesser) });
    expect(known.status).toBe(429);
    const other = await ocs("GET", `${V4}/room/${token}`, { auth: user, headers: from(randomAddress()) });
    expect(other.status).toBe(200);
  });
});
