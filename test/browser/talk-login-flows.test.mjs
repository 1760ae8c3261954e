/**
 * `npm run test:browser`: the Nextcloud login flows of the stock Talk clients, in a real browser.
 *
 * Login Flow v2 as Talk Android runs it (the app starts the flow and polls; the user signs in and
 * grants access in the browser) and the legacy flow as Talk iOS and Desktop run it (a web view
 * opens /index.php/login/flow with OCS-APIREQUEST and waits for the nc://login/… redirect). Each
 * app password then signs in to /ocs/v2.php/cloud/user and the conversation list, and the account
 * page lists it and revokes it. Debian's Chromium driven by playwright-core.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startEdgeTalk } from "../process/dev-server.mjs";
import { launchChromium } from "./chromium.mjs";

const ADMIN_PASSWORD = "flows-admin-password";
const USER = { login: "talkuser", password: "talk user password 1" };
const ANDROID_UA = "Mozilla/5.0 (Android) Nextcloud-Talk v22.0.0";
const DESKTOP_UA = "Mozilla/5.0 (Linux) Nextcloud-Talk-Desktop/2.2.4";
/** Guards against a hang only; nothing asserts on timing. */
const STEP_LIMIT_MS = 30_000;

let edgetalk;
let browser;

function basic(login, password) {
  return `Basic ${Buffer.from(`${login}:${password}`).toString("base64")}`;
}

async function ocs(method, p, auth, body) {
  const res = await fetch(`${edgetalk.base}${p}`, {
    method,
    headers: { "OCS-APIRequest": "true", Accept: "application/json", "Content-Type": "application/json", Authorization: basic(auth.login, auth.password) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** What every client does right after login with its new app password. */
async function assertSignedIn(creds) {
  const me = await ocs("GET", "/ocs/v2.php/cloud/user", creds);
  assert.equal(me.status, 200);
  assert.equal(me.body.ocs.data.id, USER.login);
  assert.equal(me.body.ocs.data["display-name"], "Talk User");
  const rooms = await ocs("GET", "/ocs/v2.php/apps/spreed/api/v4/room", creds);
  assert.equal(rooms.status, 200);
  assert.ok(Array.isArray(rooms.body.ocs.data));
}

async function signIn(page) {
  await page.waitForURL(`${edgetalk.base}/login?**`, { timeout: STEP_LIMIT_MS });
  await page.fill("#login", USER.login);
  await page.fill("#password", USER.password);
  await page.press("#password", "Enter");
}

describe("the Talk clients' login flows in Chromium", () => {
  before(async () => {
    edgetalk = await startEdgeTalk({ label: "flows", adminPassword: ADMIN_PASSWORD });
    const created = await ocs("POST", "/ocs/v2.php/cloud/users", { login: "admin", password: ADMIN_PASSWORD }, { userid: USER.login, password: USER.password, displayName: "Talk User" });
    assert.equal(created.status, 200);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await edgetalk?.stop();
  });

  it("Login Flow v2 (Android): init, sign in and grant in the browser, one poll, app password works, account page revokes it", async () => {
    const init = await fetch(`${edgetalk.base}/index.php/login/v2`, { method: "POST", headers: { "User-Agent": ANDROID_UA } });
    assert.equal(init.status, 200);
    const flow = await init.json();
    const poll = () => fetch(flow.poll.endpoint, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `token=${flow.poll.token}` });
    assert.equal((await poll()).status, 404);

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(flow.login);
    await signIn(page);
    await page.waitForSelector("text=wants to connect to your account", { timeout: STEP_LIMIT_MS });
    assert.match(await page.textContent("main"), /Nextcloud-Talk v22\.0\.0 wants to connect/);
    await page.click("button[type=submit]");
    await page.waitForSelector("h1:has-text('Account connected')", { timeout: STEP_LIMIT_MS });

    const done = await poll();
    assert.equal(done.status, 200);
    const creds = await done.json();
    assert.equal(creds.server, edgetalk.base);
    assert.equal(creds.loginName, USER.login);
    assert.equal((await poll()).status, 404, "the credentials are handed out once");
    const appPassword = { login: creds.loginName, password: creds.appPassword };
    await assertSignedIn(appPassword);

    // The account page lists the app password by client name, and revoking it ends it at once.
    await page.goto(`${edgetalk.base}/account`);
    assert.match(await page.textContent("main"), /Nextcloud-Talk v22\.0\.0/);
    await page.click(`button:has-text("Revoke ${ANDROID_UA}")`);
    await page.waitForSelector("text=No apps are connected.", { timeout: STEP_LIMIT_MS });
    assert.equal((await ocs("GET", "/ocs/v2.php/cloud/user", appPassword)).status, 401);
    await context.close();
  });

  it("legacy flow (iOS, Desktop): the web view ends at nc://login/server:…&user:…&password:…", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    // The clients add this header to the web view's first request.
    await page.setExtraHTTPHeaders({ "OCS-APIREQUEST": "true" });
    await page.goto(`${edgetalk.base}/index.php/login/flow`);
    await signIn(page);
    await page.waitForSelector("text=wants to connect to your account", { timeout: STEP_LIMIT_MS });
    const granted = page.waitForResponse((r) => r.url() === `${edgetalk.base}/index.php/login/flow` && r.request().method() === "POST", { timeout: STEP_LIMIT_MS });
    // The browser cannot open nc://; the client would intercept the redirect, the test reads it.
    await page.click("button[type=submit]").catch(() => undefined);
    const response = await granted;
    assert.equal(response.status(), 303);
    const match = /^nc:\/\/login\/server:(.*)&user:(.*)&password:(.*)$/.exec(response.headers().location ?? "");
    assert.ok(match, response.headers().location);
    assert.equal(match[1], edgetalk.base);
    const appPassword = { login: decodeURIComponent(match[2]), password: decodeURIComponent(match[3]) };
    assert.equal(appPassword.login, USER.login);
    await assertSignedIn(appPassword);

    // Revoked from the client itself (DELETE /ocs/v2.php/core/apppassword), as on logout.
    assert.equal((await ocs("DELETE", "/ocs/v2.php/core/apppassword", appPassword)).status, 200);
    assert.equal((await ocs("GET", "/ocs/v2.php/cloud/user", appPassword)).status, 401);
    await context.close();
  });
});
