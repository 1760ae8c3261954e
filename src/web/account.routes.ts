/**
 * The account page on the sign-in site (`/account`): who you are, the apps connected with an app
 * password (Talk clients, login flows) and the web apps signed in through OIDC, each with a revoke
 * button, and sign-out. Plain forms with CSRF tokens, like the login page.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { csrfToken, csrfValid, currentLoginSession } from "../auth/login-session";
import { database } from "../db/client";
import { activeClients, revokeClient } from "../db/tokens";
import { deleteAppPassword, listAppPasswords } from "../db/users";
import { readUrlEncoded } from "../lib/body";
import type { AppContext, AppEnv } from "../lib/context";
import { loginUrl } from "./login.routes";
import { errorPage, esc, hiddenFields, renderPage } from "./page";

function date(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
}

function seeOther(location: string): Response {
  return new Response(null, { status: 303, headers: { Location: location, "Cache-Control": "no-store" } });
}

async function accountPage(c: AppContext): Promise<Response> {
  const session = await currentLoginSession(c);
  if (!session) return new Response(null, { status: 302, headers: { Location: loginUrl("/account"), "Cache-Control": "no-store" } });
  const db = database(c.env);
  const user = session.user;
  const [apps, clients, csrf] = await Promise.all([listAppPasswords(db, user.id), activeClients(db, user.id, Math.floor(Date.now() / 1000)), csrfToken(c)]);
  const revoke = (action: string, fields: Record<string, string>, label: string) =>
    `<form method="post" action="${action}" class="inline">${hiddenFields({ csrf: csrf.token, ...fields })}<button type="submit" class="secondary">${esc(label)}</button></form>`;
  const appRows = apps.length
    ? apps
        .map((a) => `<li><span><strong>${esc(a.name || "unknown")}</strong><br><small>app password since ${esc(date(a.createdAt))}</small></span>${revoke("/account/app-passwords/revoke", { id: a.id }, `Revoke ${a.name || "app password"}`)}</li>`)
        .join("\n")
    : "<li>No apps are connected.</li>";
  const clientRows = clients.length
    ? clients
        .map((k) => `<li><span><strong>${esc(k.clientId)}</strong><br><small>signed in since ${esc(date(k.since))}</small></span>${revoke("/account/clients/revoke", { client_id: k.clientId }, `Sign out of ${k.clientId}`)}</li>`)
        .join("\n")
    : "<li>No web apps are signed in.</li>";
  const body = `<h1>${esc(user.displayName || user.userid)}</h1>
<p>Account <strong>${esc(user.userid)}</strong>${user.email ? ` · ${esc(user.email)}` : ""}</p>
<h2>Connected apps</h2>
<ul class="list" aria-label="Connected apps">
${appRows}
</ul>
<h2>Signed-in web apps</h2>
<ul class="list" aria-label="Signed-in web apps">
${clientRows}
</ul>
<form method="post" action="/logout">
${hiddenFields({ csrf: csrf.token })}
<button type="submit">Sign out</button>
</form>`;
  return renderPage({ title: "Your account", body, headers: csrf.setCookie ? { "Set-Cookie": csrf.setCookie } : {} });
}

export function registerAccountPageRoutes(app: OpenAPIHono<AppEnv>) {
  app.get("/account", accountPage);

  app.post("/account/app-passwords/revoke", async (c) => {
    const form = await readUrlEncoded(c.req.raw);
    if (!form || !(await csrfValid(c, form.get("csrf")))) return errorPage(403, "Not revoked", "Your form expired. Please try again.");
    const session = await currentLoginSession(c);
    if (!session) return seeOther(loginUrl("/account"));
    await deleteAppPassword(database(c.env), session.user.id, form.get("id") ?? "");
    return seeOther("/account");
  });

  app.post("/account/clients/revoke", async (c) => {
    const form = await readUrlEncoded(c.req.raw);
    if (!form || !(await csrfValid(c, form.get("csrf")))) return errorPage(403, "Not signed out", "Your form expired. Please try again.");
    const session = await currentLoginSession(c);
    if (!session) return seeOther(loginUrl("/account"));
    await revokeClient(database(c.env), session.user.id, (form.get("client_id") ?? "").slice(0, 200));
    return seeOther("/account");
  });
}
