/**
 * Just enough of a Nextcloud OCS client to seed EdgeTalk: Basic auth, the OCS headers, form
 * bodies, the session cookie, and unwrapping of the {"ocs": {"meta", "data"}} envelope.
 */
export const TALK = "/ocs/v2.php/apps/spreed/api/v4";

export function basicAuth(user, password) {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** `key[]` arrays become repeated keys, as PHP (and EdgeTalk's parameter reader) expect. */
export function form(params) {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) for (const v of value) body.append(`${key}[]`, String(v));
    else body.append(key, String(value));
  }
  return body.toString();
}

export class OcsUser {
  /**
   * @param {import("./http.mjs").Http} http
   * @param {string} user
   * @param {string} password
   */
  constructor(http, user, password) {
    this.http = http;
    this.user = user;
    this.auth = basicAuth(user, password);
    this.cookie = "";
  }

  /** The headers a Talk client sends, including the session cookie once it has one. */
  headers(extra = {}) {
    const h = { authorization: this.auth, "ocs-apirequest": "true", accept: "application/json", ...extra };
    if (this.cookie) h.cookie = this.cookie;
    return h;
  }

  /** Keeps the session cookie EdgeTalk issues (its Talk sessions are bound to it). */
  keepCookie(res) {
    const set = res.headers["set-cookie"];
    const first = Array.isArray(set) ? set[0] : set;
    if (first) this.cookie = first.split(";")[0];
  }

  /** An OCS call; resolves with the envelope's `data`. Non-2xx statuses throw (see Http.request). */
  async call(method, path, params, expect = [200, 201]) {
    const hasBody = params && method !== "GET" && method !== "DELETE";
    const res = await this.http.json(method, path, {
      headers: this.headers(hasBody ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      body: hasBody ? form(params) : undefined,
      expect,
    });
    this.keepCookie(res);
    return res.data.ocs.data;
  }
}

/** Creates a user (and puts it in groups) as the administrator. */
export function createUser(admin, userid, password, groups = []) {
  return admin.call("POST", "/ocs/v2.php/cloud/users", { userid, password, displayName: `Bench ${userid}`, groups });
}

export function createGroup(admin, groupid) {
  return admin.call("POST", "/ocs/v2.php/cloud/groups", { groupid });
}

/** Creates a group conversation (type 2) as `owner`; `invite` = a group id adds its members. Resolves with the token. */
export async function createRoom(owner, roomName, invite) {
  const data = await owner.call("POST", `${TALK}/room`, { roomType: 2, roomName, ...(invite ? { invite } : {}) });
  return data.token;
}

/** Runs `fn` over `items` with at most `limit` in flight; resolves with the results in order. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * A Talk client's long-poll loop: `once(poller)` is one poll (it calls `poller.onMessage(...)` for
 * what it receives) and runs again until `stop()`. Stopping destroys the connections under the
 * waiting polls; any other failure is reported with `label`.
 */
export function pollLoop(label, once) {
  let stopped = false;
  const poller = {
    onMessage: () => {},
    stop() {
      stopped = true;
    },
  };
  poller.done = (async () => {
    while (!stopped) await once(poller);
  })().catch((err) => {
    if (!stopped) console.error(`[bench] ${label} failed:`, err.message);
  });
  return poller;
}
