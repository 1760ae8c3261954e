/**
 * Response hardening and CORS, applied before anything else runs.
 *
 * - Every answer carries `X-Content-Type-Options: nosniff`.
 * - HTML pages (login, consent, docs) get a strict Content-Security-Policy, no framing and no
 *   referrer; `htmlSecurityHeaders` builds them for a page and its style nonce.
 * - CORS (hono/cors) for the origins in EDGETALK_CORS_ORIGINS on the APIs a browser client calls
 *   from its own origin: /v1, /oauth, /.well-known and /ocs. A request from any other origin gets
 *   no CORS header at all, preflight included, so the browser refuses it.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { config } from "./config";
import type { AppEnv } from "./context";

export const CORS_PATHS = ["/v1/*", "/oauth/*", "/.well-known/*", "/ocs/*"];

export const securityHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  // Upgraded WebSocket answers (101) have immutable headers and carry no body to sniff.
  if (c.res.status === 101) return;
  if (!c.res.headers.has("X-Content-Type-Options")) {
    try {
      c.res.headers.set("X-Content-Type-Options", "nosniff");
    } catch {
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set("X-Content-Type-Options", "nosniff");
    }
  }
};

/**
 * The headers of an HTML page whose only inline code carries `nonce` (its style sheet, and its
 * script when `script` is set); `connect` lets that script fetch from this origin.
 */
export function htmlSecurityHeaders(nonce: string, allow: { script?: boolean; connect?: boolean } = {}): Record<string, string> {
  return {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": [
      "default-src 'none'",
      `style-src 'nonce-${nonce}'`,
      ...(allow.script ? [`script-src 'nonce-${nonce}'`] : []),
      ...(allow.connect ? ["connect-src 'self'"] : []),
      "img-src 'self' data:",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "X-Frame-Options": "DENY",
    // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on the form POSTs,
    // and the CSRF check needs the real origin. Nothing leaks to other origins either way.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
  };
}

const corsHandler = cors({
  // Only called for origins already found in the list (see below).
  origin: (origin) => origin,
  allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
  allowHeaders: ["Authorization", "Content-Type", "Accept", "OCS-APIRequest", "X-Nextcloud-Talk-Session-Tab-Id"],
  exposeHeaders: ["Link", "Retry-After", "WWW-Authenticate", "X-Nextcloud-Talk-Hash", "X-Nextcloud-Talk-Modified-Before"],
  maxAge: 600,
});

export const corsMiddleware: MiddlewareHandler<AppEnv> = async (c, next) => {
  const origin = c.req.header("origin");
  if (!origin || !config(c.env).corsOrigins.includes(origin)) {
    await next();
    return;
  }
  return corsHandler(c, next);
};
