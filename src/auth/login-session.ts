/**
 * The browser side of signing in: the sign-in session cookie (`edgetalk_login`) that lets a second
 * client sign in without the password again, and the CSRF token of every form the Worker serves.
 *
 * Sign-in session: a random 43-character token in an HttpOnly, SameSite=Lax cookie; D1 keeps only
 * HMAC(secret, token), its user and its end. Ending it revokes the refresh tokens issued under it.
 *
 * CSRF: a form carries HMAC(secret, "csrf:" + a random cookie value); a POST is accepted only when
 * the cookie and the field match and, when the browser names an Origin, it is this server's.
 */
import { getCookie } from "hono/cookie";
import { serialize } from "hono/utils/cookie";
import { database } from "../db/client";
import type { UserRow } from "../db/schema";
import { createLoginSession, endLoginSession, findLoginSession } from "../db/tokens";
import { config } from "../lib/config";
import type { AppContext } from "../lib/context";
import { ALNUM, hmac, hmacHex, randomString, timingSafeEqual, toBase64Url } from "../lib/crypto";
import { issuerUrl } from "./oidc";

export const LOGIN_COOKIE = "edgetalk_login";
const CSRF_COOKIE = "edgetalk_csrf";

export interface LoginSession {
  id: string;
  user: UserRow;
  createdAt: number;
}

function secure(c: AppContext): boolean {
  return new URL(c.req.url).protocol === "https:";
}

function sessionId(c: AppContext, token: string): Promise<string> {
  return hmacHex(config(c.env).secret, `login-session:${token}`);
}

/** The caller's sign-in session, or null when there is none or it has ended. */
export async function currentLoginSession(c: AppContext): Promise<LoginSession | null> {
  const token = getCookie(c, LOGIN_COOKIE);
  if (!token || !/^[A-Za-z0-9]{43}$/.test(token)) return null;
  const id = await sessionId(c, token);
  const found = await findLoginSession(database(c.env), id, Math.floor(Date.now() / 1000));
  return found ? { id, user: found.user, createdAt: found.session.createdAt } : null;
}

/** Starts a sign-in session for `user`; returns its id and the `Set-Cookie` value. */
export async function startLoginSession(c: AppContext, user: UserRow): Promise<{ id: string; setCookie: string }> {
  const cfg = config(c.env);
  const token = randomString(43, ALNUM);
  const id = await sessionId(c, token);
  await createLoginSession(database(c.env), id, user.id, Math.floor(Date.now() / 1000) + cfg.loginSessionTtl, c.req.header("user-agent") ?? "");
  const setCookie = serialize(LOGIN_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    secure: secure(c),
    maxAge: cfg.loginSessionTtl,
  });
  return { id, setCookie };
}

/** Ends the session (and its refresh tokens); returns the `Set-Cookie` value that clears the cookie. */
export async function stopLoginSession(c: AppContext, id: string): Promise<string> {
  await endLoginSession(database(c.env), id);
  return serialize(LOGIN_COOKIE, "", { httpOnly: true, sameSite: "Lax", path: "/", secure: secure(c), maxAge: 0 });
}

// ---------------------------------------------------------------------------------------------
// CSRF

async function csrfFor(c: AppContext, seed: string): Promise<string> {
  return toBase64Url(await hmac(config(c.env).secret, `csrf:${seed}`));
}

/** The token to put in a form, and the cookie to set when the browser has none yet. */
export async function csrfToken(c: AppContext): Promise<{ token: string; setCookie?: string }> {
  const seed = getCookie(c, CSRF_COOKIE);
  if (seed && /^[A-Za-z0-9]{32}$/.test(seed)) return { token: await csrfFor(c, seed) };
  const fresh = randomString(32, ALNUM);
  const setCookie = serialize(CSRF_COOKIE, fresh, { httpOnly: true, sameSite: "Lax", path: "/", secure: secure(c) });
  return { token: await csrfFor(c, fresh), setCookie };
}

/** Whether a form POST comes from a page of this server (token, cookie and Origin agree). */
export async function csrfValid(c: AppContext, submitted: string | null | undefined): Promise<boolean> {
  // Browsers name the origin of every form POST; "null" (opaque origins) is refused like any other.
  const origin = c.req.header("origin");
  if (origin !== undefined && origin !== new URL(c.req.url).origin && origin !== new URL(issuerUrl(config(c.env), c.req.url)).origin) return false;
  const seed = getCookie(c, CSRF_COOKIE);
  if (!seed || !submitted) return false;
  return timingSafeEqual(submitted, await csrfFor(c, seed));
}
