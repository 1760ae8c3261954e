import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { tariffForUser } from "../src/db/tariffs";
import { ADMIN, createUser, request, unique } from "./helpers/http";

interface Signed {
  login: string;
  id: string;
  token: string;
  email: string;
}

interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

async function bearerFor(username: string, password: string): Promise<{ token: string; id: string }> {
  const res = await request("POST", "/oauth/token", {
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", username, password }).toString(),
  });
  const token = ((await res.json()) as { access_token: string }).access_token;
  const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as { sub: string };
  return { token, id: claims.sub };
}

/** A fresh user with a bearer token for /v1. */
async function signIn(prefix = "ot", extra: Record<string, unknown> = {}): Promise<Signed> {
  const user = await createUser(prefix, extra);
  const { token, id } = await bearerFor(user.user, user.password);
  return { login: user.user, id, token, email: (extra.email as string | undefined) ?? `${user.user}@example.test` };
}

let adminSession: Promise<{ token: string; id: string }> | undefined;
const admin = () => {
  adminSession ??= bearerFor(ADMIN.user, ADMIN.password);
  return adminSession;
};

async function v1(method: string, path: string, opts: { token?: string | null; json?: unknown; body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    headers["Content-Type"] ??= "application/json";
    body = JSON.stringify(opts.json);
  }
  const res = await request(method, path, { headers, body });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

async function md5(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("MD5", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The reference error shape: `{code, message}` with `text/json`. */
function expectError(res: Reply, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("text/json; charset=utf-8");
  expect(res.body).toMatchObject({ code, message: expect.any(String) });
}

/** A validation failure; `field` undefined: a struct-level entry, which names no field. */
function expectValidation(res: Reply, field: string | undefined, code: string) {
  expectError(res, 422, "validation_failed");
  expect(res.body.message).toBe("Some provided values are invalid");
  expect(res.body.validation_errors).toEqual([expect.objectContaining(field === undefined ? { code } : { field, code })]);
  if (field === undefined) expect(res.body.validation_errors[0].field).toBeUndefined();
}

async function expectAnonymousRefused(method: string, path: string, json?: unknown) {
  const res = await v1(method, path, { json });
  expectError(res, 401, "unauthorized");
  expect(res.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
  const bogus = await v1(method, path, { json, token: "not-a-jwt" });
  expectError(bogus, 401, "unauthorized");
}

const PUBLIC_KEYS = ["avatar_url", "display_name", "email", "firstname", "id", "lastname", "title"];
const PRIVATE_KEYS = [...PUBLIC_KEYS, "conference_theme", "dashboard_theme", "language", "tariff_status"].sort();

describe("GET /v1/users/me", () => {
  it("returns the caller's PrivateUserProfile with a libravatar URL", async () => {
    const alice = await signIn("alice", { displayName: "Alice Adams", email: "Alice.Adams@Example.test" });
    const res = await v1("GET", "/v1/users/me", { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(PRIVATE_KEYS);
    expect(res.body).toMatchObject({
      id: alice.id,
      email: "Alice.Adams@Example.test",
      title: "",
      firstname: "Alice",
      lastname: "Adams",
      display_name: "Alice Adams",
      language: "en-US",
      tariff_status: "default",
    });
    expect(res.body.avatar_url).toBe(`https://seccdn.libravatar.org/avatar/${await md5("alice.adams@example.test")}`);
  });

  it("refuses anonymous callers and bad tokens with 401", async () => {
    await expectAnonymousRefused("GET", "/v1/users/me");
  });
});

describe("PATCH /v1/users/me", () => {
  const full = { title: "Dr.", display_name: "Bob the Builder", language: "de-DE", dashboard_theme: "dark", conference_theme: "high-contrast" };

  it("updates every setting and returns the new profile", async () => {
    const bob = await signIn("bob");
    const res = await v1("PATCH", "/v1/users/me", { token: bob.token, json: full });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(PRIVATE_KEYS);
    expect(res.body).toMatchObject({ id: bob.id, ...full });
    expect((await v1("GET", "/v1/users/me", { token: bob.token })).body).toMatchObject(full);

    // Only the given fields change; unknown fields are ignored.
    const partial = await v1("PATCH", "/v1/users/me", { token: bob.token, json: { language: "zh-Hant-TW", shoe_size: 44 } });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({ ...full, language: "zh-Hant-TW" });
    expect(partial.body.shoe_size).toBeUndefined();
  });

  it("refuses a patch that sets nothing (the seed's body is non-empty) with 422 missing_values, and changes nothing", async () => {
    const carol = await signIn("carol");
    const before = (await v1("GET", "/v1/users/me", { token: carol.token })).body;
    for (const json of [{}, { unknown: "x" }, { title: null, language: null }]) {
      expectValidation(await v1("PATCH", "/v1/users/me", { token: carol.token, json }), undefined, "missing_values");
    }
    expect((await v1("GET", "/v1/users/me", { token: carol.token })).body).toEqual(before);
  });

  it("rejects invalid values with 422 validation_failed and changes nothing", async () => {
    const dave = await signIn("dave");
    const before = (await v1("GET", "/v1/users/me", { token: dave.token })).body;
    const patch = (json: unknown) => v1("PATCH", "/v1/users/me", { token: dave.token, json });

    expectValidation(await patch({ title: "t".repeat(256) }), "title", "invalid_length");
    expectValidation(await patch({ display_name: "d".repeat(256) }), "display_name", "invalid_length");
    expectValidation(await patch({ display_name: "   " }), "display_name", "invalid_length");
    expectValidation(await patch({ dashboard_theme: "x".repeat(129) }), "dashboard_theme", "invalid_length");
    expectValidation(await patch({ conference_theme: "x".repeat(129) }), "conference_theme", "invalid_length");
    expectValidation(await patch({ language: "a".repeat(36) }), "language", "invalid_length");
    for (const language of ["", "english please", "en_US", "e", "de-", "12-DE"]) {
      expectValidation(await patch({ language }), "language", "invalid_value");
    }
    // A valid field next to an invalid one is not applied either.
    expectValidation(await patch({ title: "Prof.", language: "not a tag" }), "language", "invalid_value");
    // Limits are inclusive.
    expect((await patch({ title: "t".repeat(255), language: "x-private" })).status).toBe(200);
    const after = (await v1("GET", "/v1/users/me", { token: dave.token })).body;
    expect(after).toEqual({ ...before, title: "t".repeat(255), language: "x-private" });
  });

  it("rejects malformed bodies with 400 in the reference shape and changes nothing", async () => {
    const erin = await signIn("erin");
    const before = (await v1("GET", "/v1/users/me", { token: erin.token })).body;
    expectError(await v1("PATCH", "/v1/users/me", { token: erin.token, json: { title: 5 } }), 400, "invalid_json");
    expectError(await v1("PATCH", "/v1/users/me", { token: erin.token, json: ["title"] }), 400, "invalid_json");
    expectError(await v1("PATCH", "/v1/users/me", { token: erin.token, body: "{nope", headers: { "Content-Type": "application/json" } }), 400, "invalid_json");
    expectError(await v1("PATCH", "/v1/users/me", { token: erin.token, body: "", headers: { "Content-Type": "application/json" } }), 400, "invalid_json");
    expectError(await v1("PATCH", "/v1/users/me", { token: erin.token, body: JSON.stringify({ title: "x" }) }), 400, "invalid_content_type");
    expect((await v1("GET", "/v1/users/me", { token: erin.token })).body).toEqual(before);
  });

  it("refuses anonymous callers, and no one can patch another user", async () => {
    const frank = await signIn("frank");
    const mallory = await signIn("mallory");
    const before = (await v1("GET", "/v1/users/me", { token: frank.token })).body;
    await expectAnonymousRefused("PATCH", "/v1/users/me", { title: "Anon" });
    // PATCH /users/me always targets the caller: mallory's change lands on mallory.
    const own = await v1("PATCH", "/v1/users/me", { token: mallory.token, json: { display_name: "Frank (fake)" } });
    expect(own.body.id).toBe(mallory.id);
    // There is no route that modifies someone else.
    expectError(await v1("PATCH", `/v1/users/${frank.id}`, { token: mallory.token, json: { display_name: "pwned" } }), 404, "not_found");
    expect((await v1("GET", "/v1/users/me", { token: frank.token })).body).toEqual(before);
    expect((await v1("GET", `/v1/users/${frank.id}`, { token: mallory.token })).body.display_name).toBe(before.display_name);
  });
});

describe("GET /v1/users/{id}", () => {
  it("returns another user's PublicUserProfile without private fields", async () => {
    const gina = await signIn("gina", { displayName: "Gina Ginsberg" });
    const hank = await signIn("hank");
    await v1("PATCH", "/v1/users/me", { token: gina.token, json: { title: "M.Sc.", dashboard_theme: "secret-theme" } });
    const res = await v1("GET", `/v1/users/${gina.id}`, { token: hank.token });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(PUBLIC_KEYS);
    expect(res.body).toEqual({
      id: gina.id,
      email: gina.email,
      title: "M.Sc.",
      firstname: "Gina",
      lastname: "Ginsberg",
      display_name: "Gina Ginsberg",
      avatar_url: `https://seccdn.libravatar.org/avatar/${await md5(gina.email.toLowerCase())}`,
    });
    // Upper-case UUIDs name the same user.
    expect((await v1("GET", `/v1/users/${gina.id.toUpperCase()}`, { token: hank.token })).body.id).toBe(gina.id);
  });

  it("answers 404 for unknown users and malformed ids, 401 for anonymous callers", async () => {
    const ivy = await signIn("ivy");
    expectError(await v1("GET", `/v1/users/${crypto.randomUUID()}`, { token: ivy.token }), 404, "not_found");
    expectError(await v1("GET", "/v1/users/12345", { token: ivy.token }), 404, "not_found");
    expectError(await v1("GET", "/v1/users/not-a-uuid", { token: ivy.token }), 404, "not_found");
    await expectAnonymousRefused("GET", `/v1/users/${ivy.id}`);
  });
});

describe("GET /v1/users", () => {
  it("lists all users as PublicUserProfiles, page by page, with a Link header", async () => {
    const jack = await signIn("jack");
    const kate = await signIn("kate");
    const all = await v1("GET", "/v1/users?per_page=100", { token: jack.token });
    expect(all.status).toBe(200);
    const total = all.body.length;
    expect(total).toBeGreaterThanOrEqual(3);
    for (const entry of all.body) expect(Object.keys(entry).sort()).toEqual(PUBLIC_KEYS);
    expect(all.body.map((u: any) => u.id)).toEqual(expect.arrayContaining([jack.id, kate.id]));

    // Walk the pages with per_page=2: same users, same order, no duplicates.
    const seen: string[] = [];
    const last = Math.ceil(total / 2);
    for (let page = 1; page <= last; page++) {
      const res = await v1("GET", `/v1/users?per_page=2&page=${page}`, { token: jack.token });
      expect(res.status).toBe(200);
      seen.push(...res.body.map((u: any) => u.id));
      const link = res.headers.get("link") ?? "";
      const url = (p: number) => `<http://localhost/v1/users?per_page=2&page=${p}>`;
      const expected = [
        ...(page > 1 ? [`${url(1)}; rel="first"`, `${url(page - 1)}; rel="prev"`] : []),
        ...(page < last ? [`${url(page + 1)}; rel="next"`, `${url(last)}; rel="last"`] : []),
      ];
      expect(link).toBe(expected.join(","));
    }
    expect(seen).toEqual(all.body.map((u: any) => u.id));

    const beyond = await v1("GET", `/v1/users?per_page=2&page=${last + 1}`, { token: jack.token });
    expect(beyond.status).toBe(200);
    expect(beyond.body).toEqual([]);
    // Default page size is 30.
    const first = await v1("GET", "/v1/users", { token: kate.token });
    expect(first.body).toEqual(all.body.slice(0, 30));
  });

  it("rejects invalid pagination with 400 and anonymous callers with 401", async () => {
    const liam = await signIn("liam");
    for (const qs of ["per_page=0", "per_page=101", "page=0", "page=-1", "page=abc", "per_page=2.5"]) {
      expectError(await v1("GET", `/v1/users?${qs}`, { token: liam.token }), 400, "bad_request");
    }
    await expectAnonymousRefused("GET", "/v1/users");
  });
});

describe("GET /v1/users/find", () => {
  it("matches display name, first and last name, and e-mail, case-insensitively", async () => {
    const tag = unique("zq").toLowerCase();
    const mona = await signIn(`${tag}mona`, { displayName: "Mona Lisa", email: `${tag}-painting@louvre.test` });
    const searcher = await signIn("nick");
    const find = (q: string) => v1("GET", `/v1/users/find?q=${encodeURIComponent(q)}`, { token: searcher.token });

    const byMail = await find(`${tag}-PAINTING@`);
    expect(byMail.status).toBe(200);
    expect(byMail.body).toEqual([
      {
        kind: "registered",
        id: mona.id,
        email: `${tag}-painting@louvre.test`,
        title: "",
        firstname: "Mona",
        lastname: "Lisa",
        display_name: "Mona Lisa",
        avatar_url: `https://seccdn.libravatar.org/avatar/${await md5(`${tag}-painting@louvre.test`)}`,
      },
    ]);
    await v1("PATCH", "/v1/users/me", { token: mona.token, json: { display_name: `Gioconda ${tag}` } });
    expect((await find(`GIOCONDA ${tag}`)).body.map((u: any) => u.id)).toEqual([mona.id]);
    // "first last" still matches after the display name changed.
    const byName = (await find("mona lisa")).body.map((u: any) => u.id);
    expect(byName).toContain(mona.id);
    expect((await find(`${tag}-nobody`)).body).toEqual([]);
    // LIKE wildcards in the query are literal.
    expect((await find("%%%")).body).toEqual([]);
    expect((await find("___")).body).toEqual([]);
  });

  it("returns at most 20 entries, display names starting with the query first", async () => {
    const tag = unique("zr").toLowerCase();
    await Promise.all(Array.from({ length: 21 }, (_, i) => createUser("many", { displayName: `x ${tag} ${String(i).padStart(2, "0")}` })));
    const first = await createUser("many", { displayName: `${tag} first` });
    const { token } = await bearerFor(first.user, first.password);
    const res = await v1("GET", `/v1/users/find?q=${tag}`, { token });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(20);
    expect(res.body[0].display_name).toBe(`${tag} first`);
  });

  it("rejects short or missing queries with 400, anonymous callers with 401", async () => {
    const olga = await signIn("olga");
    const short = await v1("GET", "/v1/users/find?q=ab", { token: olga.token });
    expectError(short, 400, "query_too_short");
    expect(short.body.message).toBe("query must be at least 3 characters long");
    expectError(await v1("GET", "/v1/users/find?q=", { token: olga.token }), 400, "query_too_short");
    expectError(await v1("GET", "/v1/users/find", { token: olga.token }), 400, "bad_request");
    expectError(await v1("GET", `/v1/users/find?q=${"a".repeat(256)}`, { token: olga.token }), 400, "bad_request");
    await expectAnonymousRefused("GET", "/v1/users/find?q=abc");
  });
});

describe("tariffs", () => {
  const DEFAULT_MODULES = { core: { features: ["call_in", "guests_allowed"] }, chat: { features: [] }, echo: { features: [] }, livekit: { features: [] }, moderation: { features: [] } };

  it("GET /v1/users/me/tariff returns the default tariff for users without one", async () => {
    const pat = await signIn("pat");
    const res = await v1("GET", "/v1/users/me/tariff", { token: pat.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "OpenTalkDefaultTariff",
      quotas: {},
      enabled_modules: ["chat", "core", "echo", "livekit", "moderation"],
      disabled_features: [],
      modules: DEFAULT_MODULES,
    });
    // The default tariff is one stored row: every user sees the same id.
    const quinn = await signIn("quinn");
    expect((await v1("GET", "/v1/users/me/tariff", { token: quinn.token })).body.id).toBe(res.body.id);
    await expectAnonymousRefused("GET", "/v1/users/me/tariff");
  });

  it("administrators create tariffs and assign them per user; tariffForUser follows", async () => {
    const { token } = await admin();
    const rita = await signIn("rita");
    const sam = await signIn("sam");
    const name = unique("Pro ");
    const created = await v1("POST", "/v1/admin/tariffs", {
      token,
      json: { name, quotas: { room_participant_limit: 50, room_time_limit_secs: 3600 }, disabled_modules: ["moderation"], disabled_features: ["call_in"] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name,
      quotas: { room_participant_limit: 50, room_time_limit_secs: 3600 },
      enabled_modules: ["chat", "core", "echo", "livekit"],
      disabled_features: ["call_in", "core::call_in"],
      modules: { core: { features: ["guests_allowed"] }, chat: { features: [] }, echo: { features: [] }, livekit: { features: [] } },
    });
    expect((await v1("GET", "/v1/admin/tariffs", { token })).body).toContainEqual(created.body);

    const assigned = await v1("PUT", `/v1/admin/users/${rita.id}/tariff`, { token, json: { tariff_id: created.body.id, tariff_status: "paid" } });
    expect(assigned.status).toBe(200);
    expect(assigned.body).toEqual(created.body);
    expect((await v1("GET", "/v1/users/me/tariff", { token: rita.token })).body).toEqual(created.body);
    expect((await v1("GET", "/v1/users/me", { token: rita.token })).body.tariff_status).toBe("paid");
    // Others keep the default.
    expect((await v1("GET", "/v1/users/me/tariff", { token: sam.token })).body.name).toBe("OpenTalkDefaultTariff");

    // The function a room's tariff comes from (its owner's tariff).
    const db = database(env);
    expect(await tariffForUser(db, rita.id)).toEqual(created.body);
    expect((await tariffForUser(db, sam.id)).name).toBe("OpenTalkDefaultTariff");
    expect((await tariffForUser(db, crypto.randomUUID())).name).toBe("OpenTalkDefaultTariff");
  });

  it("refuses tariff administration to ordinary users (403) and changes nothing", async () => {
    const { token } = await admin();
    const tom = await signIn("tom");
    const tariff = (await v1("POST", "/v1/admin/tariffs", { token, json: { name: unique("Paid ") } })).body;
    const name = unique("Sneaky ");
    expectError(await v1("POST", "/v1/admin/tariffs", { token: tom.token, json: { name } }), 403, "forbidden");
    expectError(await v1("GET", "/v1/admin/tariffs", { token: tom.token }), 403, "forbidden");
    expectError(await v1("PUT", `/v1/admin/users/${tom.id}/tariff`, { token: tom.token, json: { tariff_id: tariff.id } }), 403, "forbidden");
    expect((await v1("GET", "/v1/users/me/tariff", { token: tom.token })).body.name).toBe("OpenTalkDefaultTariff");
    expect((await v1("GET", "/v1/admin/tariffs", { token })).body.map((t: any) => t.name)).not.toContain(name);
    await expectAnonymousRefused("POST", "/v1/admin/tariffs", { name });
  });

  it("validates tariff bodies and assignments (4xx, nothing stored)", async () => {
    const { token } = await admin();
    const uma = await signIn("uma");
    const name = unique("Checked ");
    const post = (json: unknown) => v1("POST", "/v1/admin/tariffs", { token, json });
    expectValidation(await post({ name: "" }), "name", "invalid_length");
    expectValidation(await post({ name, quotas: { max_storage: -1 } }), "quotas.max_storage", "out_of_range");
    expectValidation(await post({ name, quotas: { max_storage: 4294967296 } }), "quotas.max_storage", "out_of_range");
    expectValidation(await post({ name, disabled_features: ["Not A Feature"] }), "disabled_features.0", "invalid_value");
    expectValidation(await post({ name, disabled_modules: ["chat!"] }), "disabled_modules.0", "invalid_value");
    expectError(await post({ name, quotas: { max_storage: "lots" } }), 400, "invalid_json");
    expectError(await post({}), 400, "invalid_json");
    expect((await v1("GET", "/v1/admin/tariffs", { token })).body.map((t: any) => t.name)).not.toContain(name);

    const tariff = (await post({ name })).body;
    expectError(await post({ name }), 409, "conflict");

    const put = (userId: string, json: unknown) => v1("PUT", `/v1/admin/users/${userId}/tariff`, { token, json });
    expectValidation(await put(uma.id, { tariff_id: crypto.randomUUID() }), "tariff_id", "invalid_value");
    expectError(await put(uma.id, { tariff_id: "basic" }), 400, "invalid_json");
    expectError(await put(uma.id, { tariff_id: tariff.id, tariff_status: "gold" }), 400, "invalid_json");
    expectError(await put(crypto.randomUUID(), { tariff_id: tariff.id }), 404, "not_found");
    expectError(await put("nobody", { tariff_id: tariff.id }), 404, "not_found");
    const me = await v1("GET", "/v1/users/me", { token: uma.token });
    expect(me.body.tariff_status).toBe("default");
    expect((await v1("GET", "/v1/users/me/tariff", { token: uma.token })).body.name).toBe("OpenTalkDefaultTariff");
  });
});

describe("OpenAPI document", () => {
  it("lists the user and tariff endpoints", async () => {
    const res = await request("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> };
    for (const path of ["/v1/users", "/v1/users/me", "/v1/users/me/tariff", "/v1/users/find", "/v1/users/{id}", "/v1/admin/tariffs", "/v1/admin/users/{user_id}/tariff"]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(Object.keys(doc.paths["/v1/users/me"] ?? {}).sort()).toEqual(["get", "patch"]);
  });
});
