/**
 * The state of one Behat scenario, as spreed's FeatureContext keeps it: who is acting, each user's
 * cookie jar, room identifiers and tokens, message texts and ids, guest sessions, the last
 * response. Requests go to a real EdgeTalk (`wrangler dev`) the way FeatureContext's Guzzle client
 * sends them: form parameters, `OCS-APIRequest: true`, JSON answers, Basic auth for users, a
 * cookie jar per actor (guests have no credentials, only their cookies).
 */
import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";

/** Every user the runner creates gets this password (FeatureContext uses 123456; EdgeTalk wants longer ones). */
export const TEST_PASSWORD = "behat-conformance-123456";

export class StepFailure extends Error {}

export const sha1 = (text) => createHash("sha1").update(text).digest("hex");

/** PHPUnit's assertEquals on decoded JSON: loose for scalars ("1" equals 1), strict in structure. */
export function looseEqual(expected, actual) {
  if (expected === actual) return true;
  if (expected === null || actual === null || typeof expected !== "object" || typeof actual !== "object") {
    if (typeof expected === "object" || typeof actual === "object") return false;
    if (typeof expected === "boolean" || typeof actual === "boolean") return Boolean(expected) === Boolean(actual) && String(Number(expected)) === String(Number(actual));
    return String(expected) === String(actual);
  }
  if (Array.isArray(expected) !== Array.isArray(actual)) return false;
  const ek = Object.keys(expected);
  const ak = Object.keys(actual);
  if (ek.length !== ak.length) return false;
  return ek.every((k) => Object.hasOwn(actual, k) && looseEqual(expected[k], actual[k]));
}

export function assertEquals(expected, actual, message = "") {
  if (!looseEqual(expected, actual)) {
    throw new StepFailure(`${message ? `${message}\n` : ""}expected ${JSON.stringify(expected, null, 1)}\n  actual ${JSON.stringify(actual, null, 1)}`);
  }
}

export function assert(condition, message) {
  if (!condition) throw new StepFailure(message);
}

export { isDeepStrictEqual };

export class World {
  constructor(base, admin) {
    this.base = base;
    this.admin = admin;
    this.currentUser = null;
    this.response = null;
    this.jars = new Map();
    this.identifierToToken = new Map();
    this.tokenToIdentifier = new Map();
    this.identifierToId = new Map();
    this.textToMessageId = new Map();
    this.messageIdToText = new Map();
    this.sessionIdToUser = new Map([
      ["cli", "cli"],
      ["system", "system"],
      ["failed-to-get-session", "failed-to-get-session"],
    ]);
    this.userToSessionId = new Map();
    this.userToAttendeeId = new Map();
    this.nextChatRequestParameters = null;
    this.createdUsers = new Set();
    this.createdGroups = new Set();
  }

  token(identifier) {
    const token = this.identifierToToken.get(identifier);
    if (!token) throw new StepFailure(`unknown room identifier "${identifier}"`);
    return token;
  }

  messageId(text) {
    const id = this.textToMessageId.get(text);
    if (id === undefined) throw new StepFailure(`unknown message "${text}"`);
    return id;
  }

  /** Remembers a message by its text (FeatureContext's textToMessageId / messageIdToText). */
  remember(text, id) {
    this.textToMessageId.set(text, id);
    this.messageIdToText.set(id, text);
  }

  jar(user) {
    if (!this.jars.has(user)) this.jars.set(user, new Map());
    return this.jars.get(user);
  }

  /** FeatureContext::sendRequest: `url` is below /ocs/v2.php; `body` is sent as form parameters. */
  async request(method, url, body = null, headers = {}) {
    const h = { "OCS-APIRequest": "true", Accept: "application/json", ...headers };
    const user = this.currentUser;
    if (user === "admin") h.Authorization = `Basic ${Buffer.from(`admin:${this.admin}`).toString("base64")}`;
    else if (user !== null && !user.startsWith("guest")) h.Authorization = `Basic ${Buffer.from(`${user}:${TEST_PASSWORD}`).toString("base64")}`;
    const jar = this.jar(user);
    if (jar.size > 0) h.Cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    let payload;
    if (body !== null && body !== undefined) {
      h["Content-Type"] = "application/x-www-form-urlencoded";
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) form.append(k, v === true ? "1" : v === false ? "0" : String(v));
      payload = form.toString();
    }
    const res = await fetch(`${this.base}/ocs/v2.php${url}`, { method, headers: h, body: payload });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    this.response = { status: res.status, headers: res.headers, text, json };
    return this.response;
  }

  data() {
    return this.response?.json?.ocs?.data;
  }

  assertStatus(expected) {
    const status = this.response?.status;
    if (status !== Number(expected)) throw new StepFailure(`expected HTTP ${expected}, got ${status}: ${this.response?.text?.slice(0, 400)}`);
  }

  async as(user, fn) {
    const previous = this.currentUser;
    this.currentUser = user;
    try {
      return await fn();
    } finally {
      this.currentUser = previous;
    }
  }
}
