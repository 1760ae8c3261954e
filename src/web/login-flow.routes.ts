/**
 * Nextcloud's login flows, as the stock Talk clients use them. Both end in an app password named
 * after the client (its user agent), and both sign the user in on the shared login page first.
 *
 * Login Flow v2 (Talk Android): `POST /index.php/login/v2` → `{poll: {token, endpoint}, login}`;
 * the browser opens `login` (sign in, then "Grant access"); the app polls `endpoint` with `token`
 * and gets 404 until access is granted, then `{server, loginName, appPassword}` exactly once.
 * A flow lives 20 minutes.
 *
 * Legacy flow (Talk iOS and Desktop): a web view opens `GET /index.php/login/flow` with
 * `OCS-APIREQUEST: true`; after sign-in and "Grant access" the page redirects to
 * `nc://login/server:…&user:…&password:…`, which the client intercepts.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { database } from "../db/client";
import { createLoginFlow, grantLoginFlow, openLoginFlow, takeGrantedLoginFlow } from "../db/login-flows";
import { findUserById } from "../db/users";
import { issueAppPassword, phpUrlencode } from "../auth/app-passwords";
import { csrfToken, csrfValid, currentLoginSession } from "../auth/login-session";
import { issuerUrl } from "../auth/oidc";
import { readUrlEncoded } from "../lib/body";
import { config } from "../lib/config";
import { clientAddress, type AppContext, type AppEnv } from "../lib/context";
import { countAttempt } from "../auth/throttle";
import { ALNUM, fromBase64Url, hmac, hmacHex, randomString, seal, timingSafeEqual, toBase64Url, unseal, utf8 } from "../lib/crypto";
import { loginUrl } from "./login.routes";
import { errorPage, esc, hiddenFields, renderPage } from "./page";

const FLOW_TTL = 20 * 60;
/** Login Flow v2 starts allowed per client address within EDGETALK_LOGIN_WINDOW. */
export const FLOW_STARTS_PER_WINDOW = 30;
const TOKEN = /^[A-Za-z0-9]{128}$/;

function clientName(c: AppContext): string {
  return (c.req.header("user-agent") ?? "").trim().slice(0, 300) || "unknown";
}

function serverUrl(c: AppContext): string {
  return issuerUrl(config(c.env), c.req.url);
}

function flowHash(c: AppContext, kind: "poll" | "login", token: string): Promise<string> {
  return hmacHex(config(c.env).secret, `login-flow-${kind}:${token}`);
}

function toLogin(returnTo: string): Response {
  return new Response(null, { status: 302, headers: { Location: loginUrl(returnTo), "Cache-Control": "no-store" } });
}

async function grantPage(c: AppContext, opts: { client: string; userName: string; action: string; fields: Record<string, string> }): Promise<Response> {
  const csrf = await csrfToken(c);
  const body = `<h1>Account access</h1>
<p>${esc(opts.client)} wants to connect to your account <strong>${esc(opts.userName)}</strong>. It gets its own app password, which you can revoke on your <a href="/account">account page</a>.</p>
<form method="post" action="${esc(opts.action)}">
${hiddenFields({ csrf: csrf.token, ...opts.fields })}
<button type="submit">Grant access</button>
</form>`;
  return renderPage({ title: "Account access", body, headers: csrf.setCookie ? { "Set-Cookie": csrf.setCookie } : {} });
}

// ---------------------------------------------------------------------------------------------
// Legacy flow state: the client name rides in a signed, expiring token through the sign-in.

async function signState(c: AppContext, client: string): Promise<string> {
  const payload = toBase64Url(utf8(JSON.stringify({ client, exp: Math.floor(Date.now() / 1000) + FLOW_TTL })));
  return `${payload}.${toBase64Url(await hmac(config(c.env).secret, `login-flow-state:${payload}`))}`;
}

async function readState(c: AppContext, token: string | null | undefined): Promise<{ client: string } | null> {
  const [payload, mac] = (token ?? "").split(".");
  if (!payload || !mac || !timingSafeEqual(mac, toBase64Url(await hmac(config(c.env).secret, `login-flow-state:${payload}`)))) return null;
  try {
    const state = JSON.parse(new TextDecoder().decode(fromBase64Url(payload))) as { client?: unknown; exp?: unknown };
    if (typeof state.client !== "string" || typeof state.exp !== "number" || state.exp <= Date.now() / 1000) return null;
    return { client: state.client };
  } catch {
    return null;
  }
}

export function registerLoginFlowRoutes(app: OpenAPIHono<AppEnv>) {
  // ----- Login Flow v2 ------------------------------------------------------------------------
  const init = async (c: AppContext) => {
    // Each start writes a row: an address may start only so many flows per sign-in window.
    const wait = await countAttempt(database(c.env), config(c.env), { key: `login-flow:${clientAddress(c)}`, max: FLOW_STARTS_PER_WINDOW });
    if (wait > 0) return c.json({ message: "Too many login flows started, try again later" }, 429, { "Retry-After": String(wait) });
    const poll = randomString(128, ALNUM);
    const login = randomString(128, ALNUM);
    const now = Math.floor(Date.now() / 1000);
    await createLoginFlow(database(c.env), await flowHash(c, "poll", poll), await flowHash(c, "login", login), clientName(c), now + FLOW_TTL);
    const server = serverUrl(c);
    return c.json({ poll: { token: poll, endpoint: `${server}/index.php/login/v2/poll` }, login: `${server}/index.php/login/v2/flow/${login}` }, 200, {
      "Cache-Control": "no-store",
    });
  };
  app.post("/index.php/login/v2", init);
  app.post("/login/v2", init);

  app.get("/index.php/login/v2/flow/:token", async (c) => {
    const token = c.req.param("token");
    const invalid = () => errorPage(403, "Login flow expired", "This login link is invalid or has expired. Start again from your app.");
    if (!TOKEN.test(token)) return invalid();
    const flow = await openLoginFlow(database(c.env), await flowHash(c, "login", token), Math.floor(Date.now() / 1000));
    if (!flow) return invalid();
    const session = await currentLoginSession(c);
    if (!session) return toLogin(`/index.php/login/v2/flow/${token}`);
    return grantPage(c, {
      client: flow.clientName,
      userName: session.user.displayName || session.user.userid,
      action: "/index.php/login/v2/grant",
      fields: { token },
    });
  });

  app.post("/index.php/login/v2/grant", async (c) => {
    const form = await readUrlEncoded(c.req.raw);
    if (!form || !(await csrfValid(c, form.get("csrf")))) return errorPage(403, "Access not granted", "Your form expired. Start again from your app.");
    const token = form.get("token") ?? "";
    const session = await currentLoginSession(c);
    if (!session) return toLogin(`/index.php/login/v2/flow/${TOKEN.test(token) ? token : ""}`);
    const db = database(c.env);
    const now = Math.floor(Date.now() / 1000);
    const loginHash = TOKEN.test(token) ? await flowHash(c, "login", token) : "";
    const flow = loginHash ? await openLoginFlow(db, loginHash, now) : undefined;
    if (!flow) return errorPage(403, "Login flow expired", "This login link is invalid or has expired. Start again from your app.");
    const cfg = config(c.env);
    const issued = await issueAppPassword(db, cfg, session.user, flow.clientName);
    if (!(await grantLoginFlow(db, loginHash, session.user.id, await seal(cfg.secret, issued.token), now))) {
      return errorPage(409, "Already connected", "Access was already granted for this login link.");
    }
    return renderPage({
      title: "Account connected",
      body: `<h1>Account connected</h1>\n<p>${esc(flow.clientName)} is now connected to your account. You can close this window.</p>`,
    });
  });

  const poll = async (c: AppContext) => {
    const form = (await readUrlEncoded(c.req.raw)) ?? new URLSearchParams();
    const token = form.get("token") ?? new URL(c.req.url).searchParams.get("token") ?? "";
    const notYet = () => c.json([], 404, { "Cache-Control": "no-store" });
    if (!TOKEN.test(token)) return notYet();
    const db = database(c.env);
    const flow = await takeGrantedLoginFlow(db, await flowHash(c, "poll", token), Math.floor(Date.now() / 1000));
    if (!flow?.userId || !flow.sealedAppPassword) return notYet();
    const [user, appPassword] = await Promise.all([findUserById(db, flow.userId), unseal(config(c.env).secret, flow.sealedAppPassword)]);
    if (!user || !appPassword) return notYet();
    return c.json({ server: serverUrl(c), loginName: user.userid, appPassword }, 200, { "Cache-Control": "no-store" });
  };
  app.post("/index.php/login/v2/poll", poll);
  app.post("/login/v2/poll", poll);

  // ----- Legacy flow ----------------------------------------------------------------------------
  app.get("/index.php/login/flow", async (c) => {
    // Only clients open this page, and they say so (Nextcloud refuses plain browsers too).
    if (c.req.header("ocs-apirequest")?.toLowerCase() !== "true") {
      return errorPage(403, "Access forbidden", "This page is only for Nextcloud clients. Connect from your app instead.");
    }
    const state = await signState(c, clientName(c));
    const grant = `/index.php/login/flow/grant?${new URLSearchParams({ stateToken: state })}`;
    const session = await currentLoginSession(c);
    return session ? new Response(null, { status: 302, headers: { Location: grant, "Cache-Control": "no-store" } }) : toLogin(grant);
  });

  app.get("/index.php/login/flow/grant", async (c) => {
    const stateToken = c.req.query("stateToken") ?? "";
    const state = await readState(c, stateToken);
    if (!state) return errorPage(403, "Login flow expired", "This login link is invalid or has expired. Start again from your app.");
    const session = await currentLoginSession(c);
    if (!session) return toLogin(`/index.php/login/flow/grant?${new URLSearchParams({ stateToken })}`);
    return grantPage(c, { client: state.client, userName: session.user.displayName || session.user.userid, action: "/index.php/login/flow", fields: { stateToken } });
  });

  app.post("/index.php/login/flow", async (c) => {
    const form = await readUrlEncoded(c.req.raw);
    if (!form || !(await csrfValid(c, form.get("csrf")))) return errorPage(403, "Access not granted", "Your form expired. Start again from your app.");
    const state = await readState(c, form.get("stateToken"));
    if (!state) return errorPage(403, "Login flow expired", "This login link is invalid or has expired. Start again from your app.");
    const session = await currentLoginSession(c);
    if (!session) return toLogin(`/index.php/login/flow/grant?${new URLSearchParams({ stateToken: form.get("stateToken") ?? "" })}`);
    const issued = await issueAppPassword(database(c.env), config(c.env), session.user, state.client);
    // Desktop's parser wants exactly this order: server, user, password.
    const location = `nc://login/server:${serverUrl(c)}&user:${phpUrlencode(session.user.userid)}&password:${phpUrlencode(issued.token)}`;
    return new Response(null, { status: 303, headers: { Location: location, "Cache-Control": "no-store" } });
  });
}
