/**
 * `npm run test:browser`: the OpenTalk web app's sign-in, in a real browser.
 *
 * EdgeTalk runs under `wrangler dev`; a test page on another origin (a second port) uses the
 * stock OIDC client library `oidc-client-ts` the way the web app's redux-oidc does: discovery,
 * redirect to EdgeTalk's login page, sign in with the keyboard, callback, token exchange with
 * PKCE, a `/v1/users/me` call across origins (CORS), renewal with the refresh token, and sign-out
 * through `end_session_endpoint` with `client_id` and `post_logout_redirect_uri`. Debian's
 * Chromium driven by playwright-core; no browser download.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { HOST, root, startEdgeTalk } from "../process/dev-server.mjs";
import { launchChromium } from "./chromium.mjs";

const ADMIN_PASSWORD = "browser-admin-password";
const USER = { login: "webuser", password: "web user password 1" };
const PAGE_DIR = path.join(root, "test", "browser", "web-app");
/** Guards against a hang only; nothing asserts on timing. */
const STEP_LIMIT_MS = 30_000;

let edgetalk;
let app;
let appOrigin;
let browser;

/**
 * The test page's origin: static files, the client library from node_modules, and its config
 * (`authority()`: EdgeTalk's address, known once it runs). It listens on a port the system picks,
 * before EdgeTalk starts: reserving a port first and listening later raced with the ports wrangler
 * takes meanwhile (a lost race left the listen callback waiting forever).
 */
async function serveTestPage(authority) {
  const files = {
    "/": ["index.html", "text/html"],
    "/index.html": ["index.html", "text/html"],
    // The callback is the same page: app.js sees the path and completes the sign-in.
    "/callback.html": ["index.html", "text/html"],
    "/app.js": ["app.js", "text/javascript"],
  };
  const library = readFileSync(path.join(root, "node_modules", "oidc-client-ts", "dist", "browser", "oidc-client-ts.min.js"));
  const server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://x");
    if (pathname === "/config.js") {
      res.writeHead(200, { "Content-Type": "text/javascript" });
      res.end(`window.EDGETALK = ${JSON.stringify({ authority: authority() })};`);
    } else if (pathname === "/oidc-client-ts.js") {
      res.writeHead(200, { "Content-Type": "text/javascript" });
      res.end(library);
    } else if (files[pathname]) {
      const [file, type] = files[pathname];
      res.writeHead(200, { "Content-Type": type });
      res.end(readFileSync(path.join(PAGE_DIR, file)));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, resolve);
  });
  return { server, origin: `http://${HOST}:${server.address().port}` };
}

async function ocs(method, p, body, auth = { user: "admin", password: ADMIN_PASSWORD }) {
  const res = await fetch(`${edgetalk.base}${p}`, {
    method,
    headers: {
      "OCS-APIRequest": "true",
      Accept: "application/json",
      "Content-Type": "application/json",
      Authorization: `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

async function refreshWorks(refreshToken) {
  const res = await fetch(`${edgetalk.base}/oauth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", client_id: "Frontend", refresh_token: refreshToken }).toString(),
  });
  return res.status;
}

async function resultAt(page, step) {
  await page.waitForFunction((s) => window.result && (window.result.step === s || window.result.step === "error"), step, { timeout: STEP_LIMIT_MS });
  const result = await page.evaluate(() => window.result);
  assert.notEqual(result.step, "error", result.error);
  return result;
}

describe("the OpenTalk web app's sign-in with oidc-client-ts", () => {
  before(async () => {
    // The page's origin is only known once it listens: serve it first, configure EdgeTalk with it.
    app = await serveTestPage(() => edgetalk.base);
    appOrigin = app.origin;
    const clients = [{ client_id: "Frontend", redirect_uris: [`${appOrigin}/callback.html`], post_logout_redirect_uris: [`${appOrigin}/`] }];
    edgetalk = await startEdgeTalk({
      label: "browser",
      adminPassword: ADMIN_PASSWORD,
      envLines: [`EDGETALK_OIDC_CLIENTS='${JSON.stringify(clients)}'`, `EDGETALK_CORS_ORIGINS=${appOrigin}`],
    });
    const created = await ocs("POST", "/ocs/v2.php/cloud/users", { userid: USER.login, password: USER.password, displayName: "Web User", email: "web@example.test" });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => (app?.server ? app.server.close(resolve) : resolve()));
    await edgetalk?.stop();
  });

  it("signs in, calls /v1, renews, signs a second client in without the password, and signs out", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${appOrigin}/`);
    await resultAt(page, "ready");

    await page.click("#signin");
    await page.waitForURL(`${edgetalk.base}/login?**`, { timeout: STEP_LIMIT_MS });
    assert.equal(await page.title(), "Sign in – EdgeTalk");
    // Keyboard only: the field has focus, Tab moves on, Enter submits.
    await page.keyboard.type(USER.login);
    await page.keyboard.press("Tab");
    await page.keyboard.type("wrong password");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#login-error", { timeout: STEP_LIMIT_MS });
    assert.equal((await page.textContent("#login-error")).trim(), "Wrong account name or password.");
    assert.equal(await page.inputValue("#login"), USER.login);
    await page.fill("#password", USER.password);
    await page.press("#password", "Enter");

    const signedIn = await resultAt(page, "signed-in");
    assert.ok(page.url().startsWith(`${appOrigin}/callback.html`));
    assert.equal(signedIn.me.status, 200);
    assert.equal(signedIn.me.body.id, signedIn.access.sub);
    assert.equal(signedIn.me.body.display_name, "Web User");
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(signedIn.access.iat - now) < 120, "access token iat");
    assert.ok(signedIn.refresh.exp > signedIn.access.exp, "refresh token exp after the access token's");

    await page.click("#renew");
    const renewed = await resultAt(page, "renewed");
    assert.notEqual(renewed.refreshToken, signedIn.refreshToken);
    assert.equal(renewed.me.status, 200);
    assert.equal(await refreshWorks(signedIn.refreshToken), 400, "the rotated-out refresh token is dead");

    // A second client (another tab of a fresh page load) signs in from the session: no login page.
    const second = await context.newPage();
    await second.goto(`${appOrigin}/`);
    await resultAt(second, "ready");
    await second.click("#signin");
    const secondResult = await resultAt(second, "signed-in");
    assert.equal(secondResult.access.sub, signedIn.access.sub);
    await second.close();

    await page.click("#signout");
    await page.waitForURL(`${edgetalk.base}/oauth/logout?**`, { timeout: STEP_LIMIT_MS });
    assert.match(await page.textContent("main"), /sign out of EdgeTalk as Web User/);
    await page.click("button[type=submit]");
    await page.waitForURL(`${appOrigin}/`, { timeout: STEP_LIMIT_MS });
    await resultAt(page, "ready");
    assert.equal(await refreshWorks(renewed.refreshToken), 400, "sign-out revoked the refresh token");

    // Signed out: the next sign-in asks for the password again.
    await page.click("#signin");
    await page.waitForURL(`${edgetalk.base}/login?**`, { timeout: STEP_LIMIT_MS });
    await context.close();
  });

  it("signs in without JavaScript on the login page", async () => {
    const scripted = await browser.newContext();
    const start = await scripted.newPage();
    await start.goto(`${appOrigin}/`);
    await resultAt(start, "ready");
    await start.click("#signin");
    await start.waitForURL(`${edgetalk.base}/login?**`, { timeout: STEP_LIMIT_MS });
    const loginUrl = start.url();
    const state = await scripted.storageState();
    await scripted.close();

    // The same browser state, but no JavaScript at all from here on: the form still signs in.
    const plain = await browser.newContext({ javaScriptEnabled: false, storageState: state });
    const page = await plain.newPage();
    await page.goto(loginUrl);
    await page.fill("#login", USER.login);
    await page.fill("#password", USER.password);
    await page.click("button[type=submit]");
    await page.waitForURL(`${appOrigin}/callback.html?**`, { timeout: STEP_LIMIT_MS });
    const url = new URL(page.url());
    assert.match(url.searchParams.get("code"), /^[A-Za-z0-9]{43}$/);
    assert.ok(url.searchParams.get("state"));
    await plain.close();
  });
});
