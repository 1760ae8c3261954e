/** Resolves the caller's identity from the Authorization header, in the dialect of the path. */
import type { MiddlewareHandler } from "hono";
import { database } from "../db/client";
import { config } from "../lib/config";
import { clientAddress, type AppEnv, type Identity } from "../lib/context";
import { OcsError, OpenTalkError } from "../lib/errors";
import { ensureAdmin } from "./admin";
import { identityFromBearer } from "./bearer";
import { signedSessionId } from "./cookie";
import { checkPassword } from "./credentials";

const BEARER_ERRORS = {
  expired: ["invalid_token", "The provided access token expired", "Authentication failed"],
  invalid: ["invalid_token", "The provided access token is invalid", "Authentication failed"],
} as const;

export const identityMiddleware: MiddlewareHandler<AppEnv> = async (c, next) => {
  const cfg = config(c.env);
  const db = database(c.env);
  await ensureAdmin(c.env.DB, db, cfg);
  const path = c.req.path;
  const ocs = path.startsWith("/ocs/");
  const header = c.req.header("authorization") ?? "";
  let identity: Identity = { kind: "anonymous" };
  c.set("identity", identity);

  // The issuer's endpoints and the sign-in pages authenticate their callers themselves.
  if (path.startsWith("/oauth/") || path.startsWith("/account") || path.startsWith("/index.php/login/") || path === "/login" || path === "/logout") return next();

  if (/^basic\s/i.test(header) && path.startsWith("/v1")) {
    // The OpenTalk API takes bearer tokens only, as its reference does. Basic credentials are
    // ambient (a browser resends them cross-site), so accepting them would let any page change state.
    throw OpenTalkError.unauthorized("Authentication failed", "unauthorized", { "WWW-Authenticate": 'Bearer realm="EdgeTalk"' });
  }
  if (/^basic\s/i.test(header)) {
    const decoded = decodeBasic(header.slice(6).trim());
    if (!decoded) throw unauthorized(ocs);
    const session = await signedSessionId(c);
    const result = await checkPassword(db, cfg, decoded.login, decoded.password, clientAddress(c), session);
    if (!result.ok) {
      if (result.retryAfter) throw tooManyRequests(ocs, result.retryAfter);
      throw unauthorized(ocs);
    }
    identity = { kind: "user", user: result.user, via: result.via, ...(result.appPasswordId ? { appPasswordId: result.appPasswordId } : {}) };
  } else if (/^bearer\s/i.test(header)) {
    const token = header.slice(7).trim();
    // An invite code sent as a bearer (OpenTalk guests on GET /v1/turn) is left to the route.
    if (!isUuid(token)) {
      const result = await identityFromBearer(db, cfg, token);
      if (!result.ok) {
        if (ocs) throw new OcsError(401, [], "Current user is not logged in", 997);
        if (result.reason === "unknown_sub") {
          throw OpenTalkError.unauthorized("Unknown subject in access token. Please login first!", "unknown_sub");
        }
        const [error, description, message] = BEARER_ERRORS[result.reason];
        throw OpenTalkError.unauthorized(message, "unauthorized", {
          "WWW-Authenticate": `Bearer error="${error}", error_description="${description}"`,
        });
      }
      identity = result.identity;
    }
  }
  c.set("identity", identity);
  await next();
};

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

const utf8Decoder = new TextDecoder();

function decodeBasic(value: string): { login: string; password: string } | null {
  try {
    const binary = atob(value);
    // Credentials are UTF-8; printable ASCII ones (nearly all) need no decoding.
    const text = !/[^\x20-\x7e]/.test(binary) ? binary : utf8Decoder.decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
    const at = text.indexOf(":");
    if (at <= 0) return null;
    return { login: text.slice(0, at), password: text.slice(at + 1) };
  } catch {
    return null;
  }
}

function unauthorized(ocs: boolean): Error {
  return ocs
    ? new OcsError(401, [], "Current user is not logged in", 997)
    : OpenTalkError.unauthorized("Authentication failed", "unauthorized", {
        "WWW-Authenticate": 'Basic realm="EdgeTalk"',
      });
}

function tooManyRequests(ocs: boolean, retryAfter: number): Error {
  const headers = { "Retry-After": String(retryAfter) };
  return ocs
    ? new OcsError(429, [], "Too many failed login attempts, try again later", 429, headers)
    : new OpenTalkError(429, "too_many_requests", "Too many failed login attempts, try again later", {}, headers);
}
