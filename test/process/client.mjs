/** A small HTTP client for both dialects, for the tests that drive a real `wrangler dev`. */
import assert from "node:assert/strict";

export class Client {
  constructor(base) {
    this.base = base;
  }

  async ocs(method, p, { auth, cookie, body } = {}) {
    const headers = { "OCS-APIRequest": "true", Accept: "application/json" };
    if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
    if (cookie?.value) headers.Cookie = cookie.value;
    if (body) headers["Content-Type"] = "application/json";
    const res = await fetch(`${this.base}${p}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
    if (cookie) {
      const set = res.headers.getSetCookie().map((line) => line.split(";")[0]);
      if (set.length) cookie.value = set.join("; ");
    }
    const json = await res.json().catch(() => null);
    return { status: res.status, data: json?.ocs?.data };
  }

  async v1(method, p, { token, json } = {}) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (json !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(`${this.base}${p}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async bearer(user, password) {
    const res = await fetch(`${this.base}/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", username: user, password }).toString(),
    });
    assert.equal(res.status, 200, "password grant");
    return (await res.json()).access_token;
  }
}
