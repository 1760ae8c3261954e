/**
 * The signed, HttpOnly session cookie. It gives every caller (guests included) a stable
 * identity, and plays the role of Nextcloud's PHP session: Talk sessions are bound to it.
 */
import { getCookie } from "hono/cookie";
import { serialize } from "hono/utils/cookie";
import type { AppContext } from "../lib/context";
import { ALNUM, hmac, randomString, timingSafeEqual, toBase64Url } from "../lib/crypto";
import { config } from "../lib/config";

export const SESSION_COOKIE = "edgetalk_session";

async function sign(secret: string, id: string): Promise<string> {
  return toBase64Url(await hmac(secret, `session:${id}`));
}

/**
 * Returns the caller's cookie session id; when the cookie is absent or forged, a new id and the
 * `Set-Cookie` value that issues it.
 */
export async function cookieSession(c: AppContext): Promise<{ id: string; setCookie?: string }> {
  const secret = config(c.env).secret;
  const raw = getCookie(c, SESSION_COOKIE);
  if (raw) {
    const [id, mac] = raw.split(".");
    if (id && mac && /^[A-Za-z0-9]{32}$/.test(id) && timingSafeEqual(mac, await sign(secret, id))) return { id };
  }
  const id = randomString(32, ALNUM);
  const setCookie = serialize(SESSION_COOKIE, `${id}.${await sign(secret, id)}`, {
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    secure: new URL(c.req.url).protocol === "https:",
  });
  return { id, setCookie };
}
