/**
 * The sign-in page every browser flow shares: `GET /login?return_to=…` shows the form, `POST
 * /login` checks the password (throttled like every sign-in) and starts the sign-in session,
 * then sends the browser back to `return_to`, a path on this server (the OIDC authorization
 * request or login flow that sent it here; the account page by default). `POST /logout` ends the
 * session from the account page.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { checkPassword } from "../auth/credentials";
import { csrfToken, csrfValid, currentLoginSession, startLoginSession, stopLoginSession } from "../auth/login-session";
import { readUrlEncoded } from "../lib/body";
import { config } from "../lib/config";
import { clientAddress, type AppContext, type AppEnv } from "../lib/context";
import { database } from "../db/client";
import { errorPage, esc, hiddenFields, renderPage } from "./page";

/** `return_to` must stay on this server: a path, never a scheme-relative or absolute URL. */
export function safeReturnTo(c: AppContext, value: string | null | undefined): string | null {
  if (!value?.startsWith("/") || value.startsWith("//") || value.includes("\\")) return null;
  try {
    const origin = new URL(c.req.url).origin;
    const url = new URL(value, origin);
    return url.origin === origin ? `${url.pathname}${url.search}` : null;
  } catch {
    return null;
  }
}

/** The login page, returning to `returnTo`; `force` asks for the password even with a session (prompt=login). */
export function loginUrl(returnTo: string, force = false): string {
  return `/login?${new URLSearchParams({ return_to: returnTo, ...(force ? { force: "1" } : {}) })}`;
}

interface FormState {
  returnTo: string | null;
  login?: string;
  error?: string;
  status?: number;
  headers?: Record<string, string>;
}

async function loginForm(c: AppContext, state: FormState): Promise<Response> {
  const csrf = await csrfToken(c);
  const error = state.error ? `<p id="login-error" role="alert" class="error">${esc(state.error)}</p>` : "";
  const described = state.error ? ' aria-describedby="login-error" aria-invalid="true"' : "";
  const body = `<h1>Sign in</h1>
<p>Use your EdgeTalk account.</p>
${error}
<form method="post" action="/login">
${hiddenFields({ csrf: csrf.token, ...(state.returnTo ? { return_to: state.returnTo } : {}) })}
<label for="login">Account name</label>
<input id="login" name="login" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required${state.login ? "" : " autofocus"} value="${esc(state.login ?? "")}"${described}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${state.login ? " autofocus" : ""}${described}>
<button type="submit">Sign in</button>
</form>`;
  const headers: Record<string, string | string[]> = { ...(state.headers ?? {}) };
  if (csrf.setCookie) headers["Set-Cookie"] = csrf.setCookie;
  return renderPage({ title: "Sign in", body, status: state.status, headers });
}

export function registerLoginRoutes(app: OpenAPIHono<AppEnv>) {
  app.get("/login", async (c) => {
    const returnTo = safeReturnTo(c, c.req.query("return_to"));
    const session = c.req.query("force") === "1" ? null : await currentLoginSession(c);
    if (session && returnTo) return c.redirect(returnTo, 303);
    if (session) return new Response(null, { status: 302, headers: { Location: "/account", "Cache-Control": "no-store" } });
    return loginForm(c, { returnTo });
  });

  app.post("/login", async (c) => {
    const form = await readUrlEncoded(c.req.raw);
    if (!form) return errorPage(400, "Bad request", "The sign-in form could not be read.");
    const returnTo = safeReturnTo(c, form.get("return_to"));
    if (!(await csrfValid(c, form.get("csrf")))) {
      return loginForm(c, { returnTo, status: 403, error: "Your sign-in form expired. Please try again." });
    }
    const login = (form.get("login") ?? "").trim();
    const password = form.get("password") ?? "";
    if (!login || !password || login.length > 256 || password.length > 1024) {
      return loginForm(c, { returnTo, login, status: 400, error: "Enter your account name and password." });
    }
    const result = await checkPassword(database(c.env), config(c.env), login, password, clientAddress(c));
    if (!result.ok) {
      if (result.retryAfter) {
        return loginForm(c, {
          returnTo,
          login,
          status: 429,
          error: "Too many sign-in attempts. Please wait a few minutes and try again.",
          headers: { "Retry-After": String(result.retryAfter) },
        });
      }
      return loginForm(c, { returnTo, login, status: 401, error: "Wrong account name or password." });
    }
    const session = await startLoginSession(c, result.user);
    return new Response(null, { status: 303, headers: { Location: returnTo ?? "/account", "Set-Cookie": session.setCookie, "Cache-Control": "no-store" } });
  });

  app.post("/logout", async (c) => {
    const form = await readUrlEncoded(c.req.raw);
    if (!form || !(await csrfValid(c, form.get("csrf")))) return errorPage(403, "Sign out failed", "Your form expired. Please try again.");
    const session = await currentLoginSession(c);
    const headers: Record<string, string> = { Location: "/login", "Cache-Control": "no-store" };
    if (session) headers["Set-Cookie"] = await stopLoginSession(c, session.id);
    return new Response(null, { status: 303, headers });
  });
}
