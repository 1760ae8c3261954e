/**
 * The stock Talk clients' sign-in and start-up, replayed through the Worker in the order
 * ../shared/spec/talk-clients.md gives: Login Flow v2 (Android), the legacy flow with the
 * `nc://login/…` redirect (iOS, Desktop), then each client's calls up to the conversation list,
 * asserting the status and the fields the client reads.
 */
import { describe, expect, it } from "vitest";
import { Browser, formFields } from "./helpers/browser";
import { ADMIN, basic, createUser, ocs, request, type Credentials } from "./helpers/http";
import { V4 } from "./helpers/talk";

const ANDROID_UA = "Mozilla/5.0 (Android) Nextcloud-Talk v22.0.0";
const IOS_UA = "Mozilla/5.0 (iOS) Nextcloud-Talk v22.0.0";
const DESKTOP_UA = "Mozilla/5.0 (Linux) Nextcloud-Talk-Desktop/2.2.4";

/** Signs in on the login page a flow sent the browser to, and returns the page after it. */
async function signInFrom(browser: Browser, res: Response, user: Credentials): Promise<Response> {
  expect(res.status).toBe(302);
  const login = res.headers.get("location") as string;
  expect(login).toMatch(/^\/login\?return_to=/);
  const page = await browser.get(login);
  const posted = await browser.post("/login", { ...formFields(await page.text()), login: user.user, password: user.password });
  expect(posted.status).toBe(303);
  return browser.get(posted.headers.get("location") as string);
}

/** Login Flow v2 as Talk Android runs it; returns the credentials the poll hands over. */
async function loginFlowV2(user: Credentials, userAgent = ANDROID_UA) {
  const init = await request("POST", "/index.php/login/v2", { headers: { "User-Agent": userAgent } });
  expect(init.status).toBe(200);
  const flow = (await init.json()) as { poll: { token: string; endpoint: string }; login: string };
  expect(flow.poll.token).toMatch(/^[A-Za-z0-9]{128}$/);
  expect(flow.poll.endpoint).toBe("http://localhost/index.php/login/v2/poll");
  expect(flow.login).toMatch(/^http:\/\/localhost\/index\.php\/login\/v2\/flow\/[A-Za-z0-9]{128}$/);
  const poll = () =>
    request("POST", "/index.php/login/v2/poll", { headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `token=${flow.poll.token}` });
  const early = await poll();
  expect(early.status).toBe(404);
  expect(await early.json()).toEqual([]);

  const browser = new Browser();
  const grant = await signInFrom(browser, await browser.get(flow.login), user);
  expect(grant.status).toBe(200);
  const grantHtml = await grant.text();
  expect(grantHtml).toContain(userAgent);
  const granted = await browser.post("/index.php/login/v2/grant", formFields(grantHtml));
  expect(granted.status).toBe(200);
  expect(await granted.text()).toContain("Account connected");

  const done = await poll();
  expect(done.status).toBe(200);
  const credentials = (await done.json()) as { server: string; loginName: string; appPassword: string };
  expect(credentials.server).toBe("http://localhost");
  expect(credentials.loginName).toBe(user.user);
  expect(credentials.appPassword).toMatch(/^[A-Za-z0-9]{72}$/);
  // Exactly once.
  expect((await poll()).status).toBe(404);
  return { user: credentials.loginName, password: credentials.appPassword, browser };
}

/** The legacy flow as Talk iOS and Desktop run it; returns the credentials from the nc:// redirect. */
async function legacyFlow(user: Credentials, userAgent: string) {
  const browser = new Browser();
  const start = await browser.get("/index.php/login/flow", { "OCS-APIREQUEST": "true", "User-Agent": userAgent });
  const grant = await signInFrom(browser, start, user);
  expect(grant.status).toBe(200);
  const fields = formFields(await grant.text());
  const granted = await browser.post("/index.php/login/flow", fields);
  expect(granted.status).toBe(303);
  const location = granted.headers.get("location") as string;
  // Desktop's parser: exactly server, user, password, in this order.
  const match = /^nc:\/\/login\/server:(.*)&user:(.*)&password:(.*)$/.exec(location);
  expect(match).not.toBeNull();
  const [, server, login, password] = match as unknown as [string, string, string, string];
  expect(server).toBe("http://localhost");
  return { user: decodeURIComponent(login.replace(/\+/g, " ")), password: decodeURIComponent(password), browser };
}

describe("Nextcloud login flows", () => {
  it("Login Flow v2 issues one app password named after the client, and it works on OCS", async () => {
    const user = await createUser("flowv2");
    const creds = await loginFlowV2(user);
    const me = await ocs("GET", "/ocs/v2.php/cloud/user", { auth: creds });
    expect(me.status).toBe(200);
    expect(me.data).toMatchObject({ id: user.user, "display-name": `flowv2 ${user.user}`, displayname: `flowv2 ${user.user}` });
    const rooms = await ocs("GET", `${V4}/room`, { auth: creds });
    expect(rooms.status).toBe(200);
    // The account page names it after the client.
    const account = await creds.browser.get("/account");
    expect(account.status).toBe(200);
    expect(await account.text()).toContain(ANDROID_UA);
  });

  it("limits how many flows one address may start", async () => {
    const address = { "CF-Connecting-IP": "10.99.0.1" };
    for (let i = 0; i < 30; i++) expect((await request("POST", "/index.php/login/v2", { headers: address })).status).toBe(200);
    const refused = await request("POST", "/index.php/login/v2", { headers: address });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await request("POST", "/index.php/login/v2", { headers: { "CF-Connecting-IP": "10.99.0.2" } })).status).toBe(200);
  });

  it("refuses unknown and already used login links", async () => {
    const browser = new Browser();
    const bogus = await browser.get(`/index.php/login/v2/flow/${"a".repeat(128)}`);
    expect(bogus.status).toBe(403);
    const short = await browser.get("/index.php/login/v2/flow/short");
    expect(short.status).toBe(403);
    const poll = await request("POST", "/index.php/login/v2/poll", { headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "token=nope" });
    expect(poll.status).toBe(404);
  });

  it("the legacy flow redirects to nc://login/server:…&user:…&password:… with a working app password", async () => {
    const user = await createUser("legacy");
    const creds = await legacyFlow(user, IOS_UA);
    expect(creds.user).toBe(user.user);
    expect(creds.password).toMatch(/^[A-Za-z0-9]{72}$/);
    expect((await ocs("GET", "/ocs/v2.php/cloud/user", { auth: creds })).status).toBe(200);
    // Only clients open it: a plain browser request is refused.
    const plain = await new Browser().get("/index.php/login/flow");
    expect(plain.status).toBe(403);
    // The grant needs the CSRF token of the page.
    const browser = new Browser();
    const start = await browser.get("/index.php/login/flow", { "OCS-APIREQUEST": "true" });
    const grant = await signInFrom(browser, start, user);
    const fields = formFields(await grant.text());
    const forged = await browser.post("/index.php/login/flow", { stateToken: fields.stateToken as string });
    expect(forged.status).toBe(403);
    expect(forged.headers.get("location")).toBeNull();
  });

  it("revokes the app password in use, at once; a login password cannot be revoked that way", async () => {
    const user = await createUser("revoke");
    const creds = await loginFlowV2(user);
    const byPassword = await ocs("DELETE", "/ocs/v2.php/core/apppassword", { auth: user });
    expect(byPassword.status).toBe(403);
    const revoked = await ocs("DELETE", "/ocs/v2.php/core/apppassword", { auth: creds });
    expect(revoked.status).toBe(200);
    const after = await ocs("GET", "/ocs/v2.php/cloud/user", { auth: creds });
    expect(after.status).toBe(401);
  });

  it("lists app passwords on the account page and revokes them there", async () => {
    const user = await createUser("acctpage");
    const creds = await loginFlowV2(user, DESKTOP_UA);
    expect((await ocs("GET", "/ocs/v2.php/cloud/user", { auth: creds })).status).toBe(200);
    const page = await creds.browser.get("/account");
    const html = await page.text();
    expect(html).toContain(DESKTOP_UA);
    const form = /<form method="post" action="\/account\/app-passwords\/revoke" class="inline">([\s\S]*?)<\/form>/.exec(html)?.[1] ?? "";
    const fields = formFields(form);
    expect(fields.id).toBeTruthy();
    const done = await creds.browser.post("/account/app-passwords/revoke", fields);
    expect(done.status).toBe(303);
    expect((await ocs("GET", "/ocs/v2.php/cloud/user", { auth: creds })).status).toBe(401);
    expect(await (await creds.browser.get("/account")).text()).toContain("No apps are connected.");
    // Without the session the page asks to sign in.
    const anonymous = await new Browser().get("/account");
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toBe("/login?return_to=%2Faccount");
  });
});

describe("client start-up sequences", () => {
  it("Talk Android: server check, Login Flow v2, verification, push, signaling settings, conversation list", async () => {
    const status = await request("GET", "/status.php");
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ installed: true, maintenance: false, needsDbUpgrade: false });
    const anon = await ocs("GET", "/ocs/v2.php/cloud/capabilities");
    expect(anon.data.capabilities.spreed.features.length).toBeGreaterThan(0);
    expect(anon.data.capabilities.spreed.features).toContain("conversation-v4");

    const user = await createUser("android");
    const creds = await loginFlowV2(user);
    const caps = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: creds });
    expect(caps.status).toBe(200);
    expect(caps.data.capabilities.notifications.push).toContain("devices");
    const me = await ocs("GET", "/ocs/v2.php/cloud/user", { auth: creds });
    expect(me.status).toBe(200);
    expect(me.data.id).toBe(user.user);
    expect(me.data["display-name"]).toBe(me.data.displayname);

    const device = await registerPush(creds);
    expect(device.status).toBe(201);
    const settings = await ocs("GET", "/ocs/v2.php/apps/spreed/api/v3/signaling/settings", { auth: creds });
    expect(settings.status).toBe(200);
    const list = await ocs("GET", `${V4}/room`, { auth: creds, query: { includeStatus: "false" } });
    expect(list.status).toBe(200);
    expect(Array.isArray(list.data)).toBe(true);
  });

  it("Talk iOS: legacy flow, push, profile, capabilities, settings, own groups, conversation list", async () => {
    const anon = await ocs("GET", "/ocs/v2.php/cloud/capabilities");
    expect(anon.data.capabilities.spreed.features).toContain("conversation-v4");
    const user = await createUser("ios");
    const creds = await legacyFlow(user, IOS_UA);
    expect((await registerPush(creds)).status).toBe(201);
    const me = await ocs("GET", "/ocs/v2.php/cloud/user", { auth: creds, query: { format: "json" } });
    expect(me.status).toBe(200);
    expect(me.data).toMatchObject({ id: user.user, "display-name": expect.any(String) });
    expect((await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: creds })).status).toBe(200);
    expect((await ocs("GET", "/ocs/v2.php/apps/spreed/api/v3/signaling/settings", { auth: creds })).status).toBe(200);
    const groups = await ocs("GET", `/ocs/v2.php/cloud/users/${user.user}/groups`, { auth: creds });
    expect(groups.status).toBe(200);
    expect(groups.data).toEqual({ groups: [] });
    const list = await ocs("GET", `${V4}/room`, { auth: creds, query: { noStatusUpdate: "0", modifiedSince: "0" } });
    expect(list.status).toBe(200);
  });

  it("Talk Desktop: legacy flow, profile with groups and theming, user status, notifications, list, session state, avatars", async () => {
    const user = await createUser("desktop");
    const creds = await legacyFlow(user, DESKTOP_UA);
    const [me, caps] = await Promise.all([ocs("GET", "/ocs/v2.php/cloud/user", { auth: creds }), ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: creds })]);
    expect(me.status).toBe(200);
    expect(me.data.groups).toEqual([]);
    expect(caps.data.version.major).toBeGreaterThanOrEqual(27);
    const theming = caps.data.capabilities.theming;
    expect(theming).toMatchObject({ name: "EdgeTalk", color: expect.stringMatching(/^#[0-9a-f]{6}$/), logo: "http://localhost/core/img/logo/logo.svg" });
    const logo = await request("GET", "/core/img/logo/logo.svg");
    expect(logo.headers.get("content-type")).toBe("image/svg+xml");
    expect(caps.data.capabilities.spreed.config.signaling.mode).toBe("external");
    expect(caps.data.capabilities.spreed.config.signaling["hello-v2-token-key"]).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(caps.data.capabilities.user_status.enabled).toBe(true);

    const noStatus = await ocs("GET", "/ocs/v2.php/apps/user_status/api/v1/user_status", { auth: creds });
    expect(noStatus.status).toBe(404);
    const beat = await ocs("PUT", "/ocs/v2.php/apps/user_status/api/v1/heartbeat", { auth: creds, body: { status: "online" } });
    expect(beat.status).toBe(200);
    expect(beat.data).toMatchObject({ userId: user.user, status: "online", statusIsUserDefined: false });
    expect((await ocs("GET", "/ocs/v2.php/apps/user_status/api/v1/user_status", { auth: creds })).data.status).toBe("online");
    expect((await ocs("GET", "/ocs/v2.php/apps/notifications/api/v2/notifications", { auth: creds })).status).toBe(200);

    const created = await ocs("POST", `${V4}/room`, { auth: creds, body: { roomType: 2, roomName: "Desk" } });
    expect(created.status).toBe(201);
    const list = await ocs("GET", `${V4}/room`, { auth: creds, query: { modifiedSince: "0", includeStatus: "true", includeLastMessage: "true" } });
    expect(list.status).toBe(200);
    const token = created.data.token as string;
    const jar = { auth: creds, jar: creds.browser.jar };
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { ...jar, body: { force: true } })).status).toBe(200);
    const hidden = await ocs("PUT", `${V4}/room/${token}/participants/state`, { ...jar, body: { state: 0 } });
    expect(hidden.status).toBe(200);
    expect(hidden.data).toMatchObject({ token, participantType: 1, sessionId: expect.any(String) });
    expect((await ocs("PUT", `${V4}/room/${token}/participants/state`, { ...jar, body: { state: 1 } })).status).toBe(200);
    const bad = await ocs("PUT", `${V4}/room/${token}/participants/state`, { ...jar, body: { state: 7 } });
    expect(bad.status).toBe(400);
    const participants = await ocs("GET", `${V4}/room/${token}/participants`, { ...jar, query: { includeStatus: "true" } });
    expect(participants.data[0]).toMatchObject({ actorId: user.user, status: "online", statusIcon: null, statusMessage: null });

    const avatar = await request("GET", `/index.php/avatar/${user.user}/64`);
    expect(avatar.status).toBe(200);
    expect(avatar.headers.get("content-type")).toBe("image/png");
    const roomAvatar = await request("GET", `/ocs/v2.php/apps/spreed/api/v1/room/${token}/avatar`, { headers: { Authorization: basic(creds), "OCS-APIRequest": "true" } });
    expect(roomAvatar.status).toBe(200);
    expect(roomAvatar.headers.get("content-type")).toBe("image/png");
  });
});

async function rsaPublicKeyPem(bits = 2048): Promise<string> {
  const pair = (await crypto.subtle.generateKey({ name: "RSA-OAEP", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, [
    "encrypt",
    "decrypt",
  ])) as CryptoKeyPair;
  const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  const b64 = btoa(String.fromCharCode(...spki)).replace(/(.{64})/g, "$1\n");
  return `-----BEGIN PUBLIC KEY-----\n${b64}\n-----END PUBLIC KEY-----`;
}

async function registerPush(creds: Credentials, overrides: Record<string, string> = {}) {
  return ocs("POST", "/ocs/v2.php/apps/notifications/api/v2/push", {
    auth: creds,
    body: { pushTokenHash: "ab".repeat(64), devicePublicKey: await rsaPublicKeyPem(), proxyServer: "https://push-notifications.nextcloud.com/", ...overrides },
  });
}

describe("push registration", () => {
  it("registers one device per app password and signs its identifier with the user's key", async () => {
    const user = await createUser("push");
    const creds = await loginFlowV2(user);
    const key = await rsaPublicKeyPem();
    const body = { pushTokenHash: "cd".repeat(64), devicePublicKey: key, proxyServer: "https://push-notifications.nextcloud.com/" };
    const first = await ocs("POST", "/ocs/v2.php/apps/notifications/api/v2/push", { auth: creds, body });
    expect(first.status).toBe(201);
    expect(first.data.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(first.data.deviceIdentifier).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    const der = Uint8Array.from(atob(first.data.publicKey.replace(/-----[A-Z ]+-----|\s/g, "")), (ch) => ch.charCodeAt(0));
    const verifier = await crypto.subtle.importKey("spki", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }, false, ["verify"]);
    const signature = Uint8Array.from(atob(first.data.signature), (ch) => ch.charCodeAt(0));
    expect(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", verifier, signature, new TextEncoder().encode(first.data.deviceIdentifier))).toBe(true);

    const again = await ocs("POST", "/ocs/v2.php/apps/notifications/api/v2/push", { auth: creds, body });
    expect(again.status).toBe(200);
    expect(again.data.deviceIdentifier).toBe(first.data.deviceIdentifier);
    expect((await ocs("DELETE", "/ocs/v2.php/apps/notifications/api/v2/push", { auth: creds })).status).toBe(200);
    expect((await ocs("DELETE", "/ocs/v2.php/apps/notifications/api/v2/push", { auth: creds })).status).toBe(202);
  });

  it("refuses bad registrations with Nextcloud's messages", async () => {
    const user = await createUser("pushbad");
    const creds = await loginFlowV2(user);
    const login = await registerPush(user);
    expect(login.status).toBe(400);
    expect(login.data).toEqual({ message: "INVALID_SESSION_TOKEN" });
    for (const [field, value, message] of [
      ["pushTokenHash", "xyz", "INVALID_PUSHTOKEN_HASH"],
      ["devicePublicKey", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "INVALID_DEVICE_KEY"],
      ["proxyServer", "http://push.example/", "INVALID_PROXY_SERVER"],
    ] as const) {
      const res = await registerPush(creds, { [field]: value });
      expect(res.status, field).toBe(400);
      expect(res.data).toEqual({ message });
    }
    const weak = await registerPush(creds, { devicePublicKey: await rsaPublicKeyPem(1024) });
    expect(weak.data).toEqual({ message: "INVALID_DEVICE_KEY" });
  });
});

describe("account endpoints", () => {
  it("lets users read and edit themselves, and only administrators others", async () => {
    const user = await createUser("self");
    const other = await createUser("other");
    expect((await ocs("GET", `/ocs/v2.php/cloud/users/${user.user}`, { auth: user })).status).toBe(200);
    expect((await ocs("GET", `/ocs/v2.php/cloud/users/${other.user}`, { auth: user })).status).toBe(403);
    expect((await ocs("GET", `/ocs/v2.php/cloud/users/${other.user}`, { auth: ADMIN })).status).toBe(200);
    expect((await ocs("GET", `/ocs/v2.php/cloud/users/${other.user}/groups`, { auth: user })).status).toBe(403);

    const renamed = await ocs("PUT", `/ocs/v2.php/cloud/users/${user.user}`, { auth: user, body: { key: "displayname", value: "Ada Lovelace" } });
    expect(renamed.status).toBe(200);
    const me = await ocs("GET", "/ocs/v2.php/cloud/user", { auth: user });
    expect(me.data).toMatchObject({ displayname: "Ada Lovelace", "display-name": "Ada Lovelace" });
    const mail = await ocs("PUT", `/ocs/v2.php/cloud/users/${user.user}`, { auth: user, body: { key: "email", value: "ada@example.test" } });
    expect(mail.status).toBe(200);
    expect((await ocs("GET", "/ocs/v2.php/cloud/user", { auth: user })).data.email).toBe("ada@example.test");
    const badMail = await ocs("PUT", `/ocs/v2.php/cloud/users/${user.user}`, { auth: user, body: { key: "email", value: "not-an-address" } });
    expect(badMail.status).toBe(400);
    expect(badMail.meta.statuscode).toBe(102);
    const unknown = await ocs("PUT", `/ocs/v2.php/cloud/users/${user.user}`, { auth: user, body: { key: "quota", value: "1 GB" } });
    expect(unknown.meta.statuscode).toBe(103);
    const foreign = await ocs("PUT", `/ocs/v2.php/cloud/users/${other.user}`, { auth: user, body: { key: "displayname", value: "Hijacked" } });
    expect(foreign.status).toBe(403);

    // OCS v1: HTTP 200 and statuscode 100.
    const v1 = await ocs("GET", "/ocs/v1.php/cloud/user", { auth: user });
    expect(v1.status).toBe(200);
    expect(v1.meta).toMatchObject({ status: "ok", statuscode: 100 });
    expect(v1.data.id).toBe(user.user);
  });

  it("renames groups for administrators", async () => {
    expect((await ocs("POST", "/ocs/v2.php/cloud/groups", { auth: ADMIN, body: { groupid: "renamers" } })).status).toBe(200);
    const res = await ocs("PUT", "/ocs/v2.php/cloud/groups/renamers", { auth: ADMIN, body: { key: "displayname", value: "The Renamers" } });
    expect(res.status).toBe(200);
    const missing = await ocs("PUT", "/ocs/v2.php/cloud/groups/nobody-here", { auth: ADMIN, body: { key: "displayname", value: "x" } });
    expect(missing.status).toBe(404);
  });

  it("keeps a chosen status against the heartbeat and shows invisible as offline to others", async () => {
    const user = await createUser("status");
    const other = await createUser("watcher");
    const dnd = await ocs("PUT", "/ocs/v2.php/apps/user_status/api/v1/user_status/status", { auth: user, body: { statusType: "dnd" } });
    expect(dnd.data).toMatchObject({ status: "dnd", statusIsUserDefined: true });
    const beat = await ocs("PUT", "/ocs/v2.php/apps/user_status/api/v1/heartbeat", { auth: user, body: { status: "online" } });
    expect(beat.data.status).toBe("dnd");
    const custom = await ocs("PUT", "/ocs/v2.php/apps/user_status/api/v1/user_status/message/custom", { auth: user, body: { statusIcon: "🏖️", message: "On holiday" } });
    expect(custom.data).toMatchObject({ icon: "🏖️", message: "On holiday", clearAt: null });
    const seen = await ocs("GET", `/ocs/v2.php/apps/user_status/api/v1/statuses/${user.user}`, { auth: other });
    expect(seen.data).toMatchObject({ status: "dnd", message: "On holiday" });
    await ocs("PUT", "/ocs/v2.php/apps/user_status/api/v1/user_status/status", { auth: user, body: { statusType: "invisible" } });
    const hidden = await ocs("GET", `/ocs/v2.php/apps/user_status/api/v1/statuses/${user.user}`, { auth: other });
    expect(hidden.data.status).toBe("offline");
    expect((await ocs("PUT", "/ocs/v2.php/apps/user_status/api/v1/user_status/status", { auth: user, body: { statusType: "sleepy" } })).status).toBe(400);
    expect((await ocs("DELETE", "/ocs/v2.php/apps/user_status/api/v1/user_status/message", { auth: user })).status).toBe(200);
    expect((await ocs("GET", "/ocs/v2.php/apps/user_status/api/v1/user_status", { auth: user })).data.message).toBeNull();
  });

  it("shows a one-to-one partner's status in the conversation itself, as the list does with includeStatus", async () => {
    const me = await createUser("partnerview");
    const partner = await createUser("partnerstatus");
    const created = await ocs("POST", `${V4}/room`, { auth: me, body: { roomType: 1, invite: partner.user } });
    const token = created.data.token as string;
    const single = async () => (await ocs("GET", `${V4}/room/${token}`, { auth: me })).data;
    expect(await single()).toMatchObject({ status: "offline", statusIcon: null, statusMessage: null, statusClearAt: null });
    await ocs("PUT", "/ocs/v2.php/apps/user_status/api/v1/user_status/status", { auth: partner, body: { statusType: "away" } });
    await ocs("PUT", "/ocs/v2.php/apps/user_status/api/v1/user_status/message/custom", { auth: partner, body: { statusIcon: "☕", message: "Coffee" } });
    expect(await single()).toMatchObject({ status: "away", statusIcon: "☕", statusMessage: "Coffee" });
    const listed = (await ocs("GET", `${V4}/room`, { auth: me, query: { includeStatus: "true" } })).data.find((r: { token: string }) => r.token === token);
    expect(listed).toMatchObject({ status: "away", statusMessage: "Coffee" });
    // Group conversations carry no status.
    const group = await ocs("POST", `${V4}/room`, { auth: me, body: { roomType: 2, roomName: "No status" } });
    expect((await ocs("GET", `${V4}/room/${group.data.token}`, { auth: me })).data).not.toHaveProperty("status");
  });

  it("draws avatars as PNG in two sizes, light and dark; strangers get no conversation avatar", async () => {
    const user = await createUser("avatar");
    const sizes: number[] = [];
    const bodies: Uint8Array[] = [];
    for (const path of [`/index.php/avatar/${user.user}/32`, `/index.php/avatar/${user.user}/512`, `/index.php/avatar/${user.user}/64/dark`, `/avatar/${user.user}/64`]) {
      const res = await request("GET", path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/png");
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect([...bytes.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      sizes.push(new DataView(bytes.buffer).getUint32(16));
      bodies.push(bytes);
    }
    expect(sizes).toEqual([64, 512, 64, 64]);
    expect(bodies[2]).not.toEqual(bodies[3]);
    expect((await request("GET", "/index.php/avatar/nobody-at-all/64")).status).toBe(404);

    const created = await ocs("POST", `${V4}/room`, { auth: user, body: { roomType: 2, roomName: "Pictures" } });
    const stranger = await createUser("stranger");
    const res = await request("GET", `/ocs/v2.php/apps/spreed/api/v1/room/${created.data.token}/avatar/dark`, { headers: { Authorization: basic(stranger), "OCS-APIRequest": "true" } });
    expect(res.status).toBe(404);
  });
});
