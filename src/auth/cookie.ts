/**
 * The signed, HttpOnly session cookie. It gives every caller (guests included) a stable
 * identity, and plays the role of Nextcloud's PHP session: Talk sessions are bound to it.
 */
import { serialize } from "hono/utils/cookie";
import type { AppContext } from "../lib/context";
import { ALNUM, hmac, randomString, timingSafeEqual, toBase64Url } from "../lib/crypto";
import { config } from "../lib/config";

export const SESSION_COOKIE = "edgetalk_session";

async function sign(secret: string, id: string): Promise<string> {
  return toBase64Url(await hmac(secret, `session:${id}`));
}

/**
 * Cookie values whose signature this isolate has checked, with their session id: a client sends
 * the same cookie with every request, and a repeat costs a map lookup instead of an HMAC. Only
 * values that passed the check get here; a forged one is checked (and refused) every time.
 */
const checkedCookies = new Map<string, string>();
const CHECKED_COOKIES_MAX = 10_000;

/**
 * The session cookie's value from a Cookie header. Its values are `id.mac` in base64url, never
 * quoted or percent-encoded, so this reads the one pair directly instead of parsing every cookie.
 */
export function sessionCookieValue(header: string | undefined): string | undefined {
  if (!header) return undefined;
  let at = header.indexOf(`${SESSION_COOKIE}=`);
  while (at > 0 && header[at - 1] !== " " && header[at - 1] !== ";") at = header.indexOf(`${SESSION_COOKIE}=`, at + 1);
  if (at < 0) return undefined;
  const start = at + SESSION_COOKIE.length + 1;
  const end = header.indexOf(";", start);
  return header.slice(start, end < 0 ? undefined : end).trim() || undefined;
}

/** The session id of the request's cookie when its signature holds; null when absent or forged. */
export async function signedSessionId(c: AppContext): Promise<string | null> {
  const raw = sessionCookieValue(c.req.header("cookie"));
  if (!raw) return null;
  const known = checkedCookies.get(raw);
  if (known !== undefined) return known;
  const [id, mac] = raw.split(".");
  if (!id || !mac || !/^[A-Za-z0-9]{32}$/.test(id) || !timingSafeEqual(mac, await sign(config(c.env).secret, id))) return null;
  if (checkedCookies.size >= CHECKED_COOKIES_MAX) checkedCookies.delete(checkedCookies.keys().next().value as string);
  checkedCookies.set(raw, id);
  return id;
}

/**
 * Returns the caller's cookie session id; when the cookie is absent or forged, a new id and the
 * `Set-Cookie` value that issues it.
 */
export async function cookieSession(c: AppContext): Promise<{ id: string; setCookie?: string }> {
  const secret = config(c.env).secret;
  const signed = await signedSessionId(c);
  if (signed !== null) return { id: signed };
  const id = randomString(32, ALNUM);
  const setCookie = serialize(SESSION_COOKIE, `${id}.${await sign(secret, id)}`, {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    secure: new URL(c.req.url).protocol === "https:",
  });
  return { id, setCookie };
}
