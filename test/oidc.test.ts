/** The built-in OIDC issuer and bearer tokens on both APIs (OCS and OpenTalk /v1). */
import { env } from "cloudflare:workers";
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, type JWK, type JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import { ADMIN, createUser, ocs, request, unique } from "./helpers/http";

const OT_ERROR_TYPE = "text/json; charset=utf-8";
const ISSUER = "http://localhost";
const EXPIRED = 'Bearer error="invalid_token", error_description="The provided access token expired"';
const INVALID = 'Bearer error="invalid_token", error_description="The provided access token is invalid"';

interface TokenReply {
  status: number;
  body: any;
  headers: Headers;
}

async function token(form: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenReply> {
  const res = await request("POST", "/oauth/token", {
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

async function passwordGrant(user: { user: string; password: string }, extra: Record<string, string> = {}) {
  const res = await token({ grant_type: "password", username: user.user, password: user.password, ...extra });
  expect(res.status).toBe(200);
  return res.body as { access_token: string; id_token: string; refresh_token: string; expires_in: number; token_type: string };
}

/** A fresh client address, so failure counting in one test cannot throttle another. */
function address(): Record<string, string> {
  const [a = 0, b = 0, c = 0] = crypto.getRandomValues(new Uint8Array(3));
  return { "CF-Connecting-IP": `10.${a}.${b}.${c}` };
}

const signingJwk = JSON.parse(env.EDGETALK_OIDC_PRIVATE_KEY) as JWK & { kid: string };

/**
 * Signs claims with the Worker's own key (or `key`/`kid` when given), as the issuer would.
 * Defaults make an access token (aud "edgetalk", typ "at+jwt"); id tokens use typ "JWT".
 */
async function mint(
  claims: JWTPayload & Record<string, unknown>,
  opts: { key?: CryptoKey; kid?: string; aud?: string; typ?: string; iat?: number; exp?: number } = {},
): Promise<string> {
  const key = opts.key ?? ((await importJWK({ ...signingJwk, alg: "ES256" }, "ES256")) as CryptoKey);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: opts.kid ?? signingJwk.kid, typ: opts.typ ?? (opts.aud ? "JWT" : "at+jwt") })
    .setIssuer(ISSUER)
    .setAudience(opts.aud ?? "edgetalk")
    .setIssuedAt(opts.iat ?? now)
    .setExpirationTime(opts.exp ?? now + 300)
    .sign(key);
}

async function v1(method: string, path: string, init: { bearer?: string; json?: unknown; headers?: Record<string, string>; body?: BodyInit } = {}) {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.bearer) headers.Authorization = `Bearer ${init.bearer}`;
  let body = init.body;
  if (init.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(init.json);
  }
  const res = await request(method, path, { headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : null };
}

function expectOtError(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe(OT_ERROR_TYPE);
  expect(res.body.code).toBe(code);
  expect(typeof res.body.message).toBe("string");
}

/** Replaces one base64url segment of a JWT. */
function withSegment(jwt: string, index: number, value: string): string {
  const parts = jwt.split(".");
  parts[index] = value;
  return parts.join(".");
}

function b64url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

describe("issuer discovery", () => {
  it("serves the OpenID configuration of the built-in issuer", async () => {
    const res = await request("GET", "/.well-known/openid-configuration");
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.issuer).toBe(ISSUER);
    expect(body.token_endpoint).toBe(`${ISSUER}/oauth/token`);
    expect(body.jwks_uri).toBe(`${ISSUER}/oauth/jwks`);
    expect(body.id_token_signing_alg_values_supported).toEqual(["ES256"]);
    expect(body.grant_types_supported).toEqual(["authorization_code", "refresh_token", "password", "client_credentials"]);
    expect(body.authorization_endpoint).toBe(`${ISSUER}/oauth/authorize`);
    expect(body.end_session_endpoint).toBe(`${ISSUER}/oauth/logout`);
    expect(body.userinfo_endpoint).toBe(`${ISSUER}/oauth/userinfo`);
    expect(body.response_types_supported).toEqual(["code"]);
    expect(body.code_challenge_methods_supported).toEqual(["S256"]);
  });

  it("publishes the ES256 public key without the private part", async () => {
    const res = await request("GET", "/oauth/jwks");
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: JWK[] };
    expect(keys).toHaveLength(1);
    const [key] = keys as [JWK];
    expect(key).toEqual({ kty: "EC", crv: "P-256", x: signingJwk.x, y: signingJwk.y, kid: "test-key", alg: "ES256", use: "sig" });
    expect(key.d).toBeUndefined();
  });
});

describe("token endpoint", () => {
  it("password grant returns access, id and refresh tokens", async () => {
    const user = await createUser("pwgrant");
    const res = await token({ grant_type: "password", username: user.user, password: user.password });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body.token_type).toBe("Bearer");
    expect(res.body.expires_in).toBe(300);
    // The OpenTalk web app decodes the refresh token as a JWT and reads its exp.
    expect(decodeProtectedHeader(res.body.refresh_token)).toEqual({ alg: "ES256", kid: "test-key", typ: "JWT" });
    const refresh = decodeJwt(res.body.refresh_token);
    expect(refresh.typ).toBe("Refresh");
    expect(refresh.aud).toBe(ISSUER);
    expect((refresh.exp ?? 0) - (refresh.iat ?? 0)).toBe(res.body.refresh_expires_in);

    expect(decodeProtectedHeader(res.body.access_token)).toEqual({ alg: "ES256", kid: "test-key", typ: "at+jwt" });
    expect(decodeProtectedHeader(res.body.id_token)).toEqual({ alg: "ES256", kid: "test-key", typ: "JWT" });
    const access = decodeJwt(res.body.access_token);
    expect(access.iss).toBe(ISSUER);
    expect(access.aud).toBe("edgetalk");
    expect(access.preferred_username).toBe(user.user);
    expect(access.email).toBe(`${user.user}@example.test`);
    expect((access.exp ?? 0) - (access.iat ?? 0)).toBe(300);

    const id = decodeJwt(res.body.id_token);
    expect(id.sub).toBe(access.sub);
    // Not "edgetalk": that audience marks access tokens.
    expect(id.aud).toBe("edgetalk-client");
    expect(id.given_name).toBe("pwgrant");
    expect(id.family_name).toBe(user.user);
  });

  it("the id_token audience is the requesting client", async () => {
    const user = await createUser("aud");
    const tokens = await passwordGrant(user, { client_id: "frontend" });
    expect(decodeJwt(tokens.id_token).aud).toBe("frontend");
    expect(decodeJwt(tokens.access_token).aud).toBe("edgetalk");
  });

  it("refuses a client id equal to the access-token audience", async () => {
    const user = await createUser("audclash");
    const res = await token({ grant_type: "password", username: user.user, password: user.password, client_id: "edgetalk" });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: "invalid_client", error_description: "client_id edgetalk is reserved" });
    const basic = await token(
      { grant_type: "password", username: user.user, password: user.password },
      { Authorization: `Basic ${btoa("edgetalk:")}` },
    );
    expect(basic.status).toBe(401);
    expect(basic.body.error).toBe("invalid_client");
  });

  it("answers a wrong password with invalid_grant", async () => {
    const user = await createUser("wrongpw");
    const res = await token({ grant_type: "password", username: user.user, password: "not-the-password" }, address());
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "invalid_grant", error_description: "Invalid user credentials" });
    const unknown = await token({ grant_type: "password", username: unique("nobody"), password: "whatever" }, address());
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe("invalid_grant");
    const missing = await token({ grant_type: "password", username: user.user });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe("invalid_request");
  });

  it("throttles repeated failures per account with 429", async () => {
    const user = await createUser("throttled");
    const from = address();
    for (let i = 0; i < 5; i++) {
      const res = await token({ grant_type: "password", username: user.user, password: `wrong-${i}` }, from);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("invalid_grant");
    }
    const blocked = await token({ grant_type: "password", username: user.user, password: "wrong-again" }, from);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toBe("too_many_requests");
    // The rest of the 300 s window (a second may have passed since the first failure).
    const retryAfter = Number(blocked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(298);
    expect(retryAfter).toBeLessThanOrEqual(300);
    // The right password is not even checked from this address while it is throttled...
    const right = await token({ grant_type: "password", username: user.user, password: user.password }, from);
    expect(right.status).toBe(429);
    // ...and Basic auth on OCS from there counts against the same (account, address).
    const basic = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: user, headers: from });
    expect(basic.status).toBe(429);
    expect(basic.meta.statuscode).toBe(429);
    // The owner elsewhere is not shut out.
    const elsewhere = await token({ grant_type: "password", username: user.user, password: user.password }, address());
    expect(elsewhere.status).toBe(200);
  });

  it("throttles repeated failures per client address with 429", async () => {
    const from = address();
    // EDGETALK_LOGIN_MAX_FAILURES_PER_ADDRESS defaults to 4 × 5 = 20 failures, over all accounts.
    for (let i = 0; i < 20; i++) {
      const res = await token({ grant_type: "password", username: unique("ghost"), password: "wrong" }, from);
      expect(res.status).toBe(400);
    }
    const other = await createUser("sameaddr");
    const blocked = await token({ grant_type: "password", username: other.user, password: other.password }, from);
    expect(blocked.status).toBe(429);
    expect(blocked.body.error).toBe("too_many_requests");
    // The same account from elsewhere is fine.
    const elsewhere = await token({ grant_type: "password", username: other.user, password: other.password }, address());
    expect(elsewhere.status).toBe(200);
  });

  it("refresh_token grant rotates: each refresh token works once", async () => {
    const user = await createUser("refresh");
    const first = await passwordGrant(user, { client_id: "frontend" });
    const second = await token({ grant_type: "refresh_token", refresh_token: first.refresh_token });
    expect(second.status).toBe(200);
    expect(second.body.token_type).toBe("Bearer");
    expect(second.body.expires_in).toBe(300);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(second.body.access_token).sub).toBe(decodeJwt(first.access_token).sub);
    expect(decodeJwt(second.body.id_token).aud).toBe("frontend");

    const reused = await token({ grant_type: "refresh_token", refresh_token: first.refresh_token });
    expect(reused.status).toBe(400);
    expect(reused.body).toEqual({ error: "invalid_grant", error_description: "Invalid refresh token" });

    const third = await token({ grant_type: "refresh_token", refresh_token: second.body.refresh_token });
    expect(third.status).toBe(200);

    const bogus = await token({ grant_type: "refresh_token", refresh_token: "not-a-token" });
    expect(bogus.status).toBe(400);
    expect(bogus.body.error).toBe("invalid_grant");
    const empty = await token({ grant_type: "refresh_token" });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toBe("invalid_grant");
  });

  it("client_credentials yields a service identity", async () => {
    const res = await token({ grant_type: "client_credentials", client_id: "callin-gateway", client_secret: "callin-secret" });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe("Bearer");
    expect(res.body.expires_in).toBe(300);
    expect(res.body.refresh_token).toBeUndefined();
    expect(res.body.id_token).toBeUndefined();
    const claims = decodeJwt(res.body.access_token);
    expect(claims.sub).toBe("service:callin-gateway");
    expect(claims.aud).toBe("edgetalk");
    expect(claims.realm_access).toEqual({ roles: ["opentalk-call-in"] });

    const introspected = await request("POST", "/oauth/introspect", {
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${btoa("callin-gateway:callin-secret")}` },
      body: new URLSearchParams({ token: res.body.access_token }).toString(),
    });
    expect(introspected.status).toBe(200);
    expect(await introspected.json()).toEqual({ active: true, sub: "service:callin-gateway", token_type: "Bearer" });

    // A service is not a user: OCS user routes refuse it.
    const asUser = await ocs("GET", "/ocs/v2.php/core/getapppassword", { auth: { bearer: res.body.access_token }, ocsHeader: false });
    expect(asUser.status).toBe(401);
    expect(asUser.meta.statuscode).toBe(997);
  });

  it("client_credentials accepts HTTP Basic client authentication", async () => {
    const res = await token({ grant_type: "client_credentials" }, { Authorization: `Basic ${btoa("callin-gateway:callin-secret")}` });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).sub).toBe("service:callin-gateway");
  });

  it("client_credentials with a wrong secret or client is invalid_client", async () => {
    const wrong = await token({ grant_type: "client_credentials", client_id: "callin-gateway", client_secret: "nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ error: "invalid_client", error_description: "Invalid client credentials" });
    const unknown = await token({ grant_type: "client_credentials", client_id: "someone", client_secret: "callin-secret" });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe("invalid_client");
    const basic = await token({ grant_type: "client_credentials" }, { Authorization: `Basic ${btoa("callin-gateway:nope")}` });
    expect(basic.status).toBe(401);
    expect(basic.body.error).toBe("invalid_client");
  });

  it("rejects unsupported grants and non-form bodies", async () => {
    const unsupported = await token({ grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: "x" });
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.error).toBe("unsupported_grant_type");
    const none = await token({});
    expect(none.status).toBe(400);
    expect(none.body.error).toBe("unsupported_grant_type");

    const json = await request("POST", "/oauth/token", {
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ grant_type: "password", username: ADMIN.user, password: ADMIN.password }),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: string }).error).toBe("invalid_request");
  });
});

describe("bearer tokens on OCS", () => {
  it("work without the OCS-APIRequest header", async () => {
    const user = await createUser("ocsbearer");
    const tokens = await passwordGrant(user);
    const caps = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { bearer: tokens.access_token }, ocsHeader: false });
    expect(caps.status).toBe(200);
    expect(caps.meta.statuscode).toBe(200);
    // A user bearer is a user, not an admin.
    const users = await ocs("GET", "/ocs/v2.php/cloud/users", { auth: { bearer: tokens.access_token }, ocsHeader: false });
    expect(users.status).toBe(403);
    // Without a bearer (and without the header) the CSRF check applies.
    const csrf = await request("GET", "/ocs/v2.php/cloud/capabilities", { headers: { Accept: "application/json" } });
    expect(csrf.status).toBe(412);
  });

  it("an admin bearer reaches admin-only routes", async () => {
    const tokens = await passwordGrant(ADMIN);
    const user = await createUser("listed");
    const res = await ocs("GET", "/ocs/v2.php/cloud/users", {
      auth: { bearer: tokens.access_token },
      ocsHeader: false,
      query: { search: user.user },
    });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ users: [user.user] });
  });

  it("expired, tampered and foreign tokens are 401 / 997", async () => {
    const user = await createUser("ocsbad");
    const { access_token } = await passwordGrant(user);
    const sub = decodeJwt(access_token).sub as string;
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expired = await mint({ sub }, { iat: past - 300, exp: past });
    const foreign = await mint({ sub }, { key: (await generateKeyPair("ES256")).privateKey });
    const tampered = withSegment(access_token, 1, b64url(JSON.stringify({ ...decodeJwt(access_token), sub: "someone-else" })));
    for (const bad of [expired, foreign, tampered, "not.a.jwt", "garbage"]) {
      const res = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { bearer: bad } });
      expect(res.status).toBe(401);
      expect(res.meta).toEqual({ status: "failure", statuscode: 997, message: "Current user is not logged in" });
    }
  });
});

describe("bearer tokens on /v1", () => {
  it("a valid access token passes the bearer check", async () => {
    const user = await createUser("v1ok");
    const tokens = await passwordGrant(user);
    const res = await v1("POST", "/v1/auth/login", { bearer: tokens.access_token, json: { id_token: tokens.id_token } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ permissions: [] });
  });

  it("an expired access token is 401 with the expiry description", async () => {
    const user = await createUser("v1exp");
    const tokens = await passwordGrant(user);
    const sub = decodeJwt(tokens.access_token).sub as string;
    const past = Math.floor(Date.now() / 1000) - 60;
    const expired = await mint({ sub }, { iat: past - 300, exp: past });
    const res = await v1("POST", "/v1/auth/login", { bearer: expired, json: { id_token: tokens.id_token } });
    expectOtError(res, 401, "unauthorized");
    expect(res.body).toEqual({ code: "unauthorized", message: "Authentication failed" });
    expect(res.headers.get("www-authenticate")).toBe(EXPIRED);
  });

  it("tampered payloads and signatures are 401 invalid", async () => {
    const user = await createUser("v1tamper");
    const tokens = await passwordGrant(user);
    const claims = decodeJwt(tokens.access_token);
    const payload = withSegment(tokens.access_token, 1, b64url(JSON.stringify({ ...claims, exp: (claims.exp ?? 0) + 3600 })));
    const [, , sig = ""] = tokens.access_token.split(".");
    const flipped = sig.startsWith("A") ? `B${sig.slice(1)}` : `A${sig.slice(1)}`;
    const signature = withSegment(tokens.access_token, 2, flipped);
    const noSignature = withSegment(tokens.access_token, 2, "");
    const algNone = `${b64url(JSON.stringify({ alg: "none", kid: "test-key" }))}.${tokens.access_token.split(".")[1]}.`;
    for (const bad of [payload, signature, noSignature, algNone]) {
      const res = await v1("POST", "/v1/auth/login", { bearer: bad, json: { id_token: tokens.id_token } });
      expectOtError(res, 401, "unauthorized");
      expect(res.headers.get("www-authenticate")).toBe(INVALID);
    }
  });

  it("tokens signed by another key are 401 invalid, whatever their kid", async () => {
    const user = await createUser("v1foreign");
    const tokens = await passwordGrant(user);
    const sub = decodeJwt(tokens.access_token).sub as string;
    const other = await generateKeyPair("ES256");
    for (const kid of ["test-key", "other-key"]) {
      const forged = await mint({ sub }, { key: other.privateKey, kid });
      const res = await v1("POST", "/v1/auth/login", { bearer: forged, json: { id_token: tokens.id_token } });
      expectOtError(res, 401, "unauthorized");
      expect(res.headers.get("www-authenticate")).toBe(INVALID);
    }
    // The same claims under the real key pass: only the key made the difference.
    const genuine = await mint({ sub });
    const ok = await v1("POST", "/v1/auth/login", { bearer: genuine, json: { id_token: tokens.id_token } });
    expect(ok.status).toBe(200);
  });

  it("an id_token is not an access token", async () => {
    const user = await createUser("v1idtok");
    const tokens = await passwordGrant(user);
    const res = await v1("POST", "/v1/auth/login", { bearer: tokens.id_token, json: { id_token: tokens.id_token } });
    expectOtError(res, 401, "unauthorized");
    expect(res.headers.get("www-authenticate")).toBe(INVALID);
    const onOcs = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { bearer: tokens.id_token }, ocsHeader: false });
    expect(onOcs.status).toBe(401);
    expect(onOcs.meta.statuscode).toBe(997);
    // Both marks of an access token are needed: audience "edgetalk" and header typ "at+jwt".
    const sub = decodeJwt(tokens.access_token).sub as string;
    for (const opts of [{ aud: "frontend", typ: "at+jwt" }, { aud: "edgetalk", typ: "JWT" }, { aud: "frontend", typ: "JWT" }]) {
      const bad = await v1("POST", "/v1/auth/login", { bearer: await mint({ sub }, opts), json: { id_token: tokens.id_token } });
      expectOtError(bad, 401, "unauthorized");
      expect(bad.headers.get("www-authenticate")).toBe(INVALID);
    }
    const good = await v1("POST", "/v1/auth/login", { bearer: await mint({ sub }, { aud: "edgetalk", typ: "at+jwt" }), json: { id_token: tokens.id_token } });
    expect(good.status).toBe(200);
  });

  it("a token for a deleted user is 401 unknown_sub", async () => {
    const user = await createUser("v1gone");
    const tokens = await passwordGrant(user);
    expect((await ocs("DELETE", `/ocs/v2.php/cloud/users/${user.user}`, { auth: ADMIN })).status).toBe(200);
    const res = await v1("POST", "/v1/auth/login", { bearer: tokens.access_token, json: { id_token: tokens.id_token } });
    expectOtError(res, 401, "unknown_sub");
  });
});

describe("/v1/auth/login", () => {
  it("GET names the built-in issuer", async () => {
    const res = await v1("GET", "/v1/auth/login");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ oidc: { name: "default", url: ISSUER } });
  });

  it("POST with a valid id_token returns the permissions", async () => {
    const user = await createUser("login");
    const tokens = await passwordGrant(user, { client_id: "frontend" });
    const res = await v1("POST", "/v1/auth/login", { json: { id_token: tokens.id_token } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.body).toEqual({ permissions: [] });
  });

  it("missing required claims are 400 invalid_claims", async () => {
    const user = await createUser("claims");
    const tokens = await passwordGrant(user);
    const full = decodeJwt(tokens.id_token);
    const base = { sub: full.sub, email: full.email, given_name: full.given_name, family_name: full.family_name };
    for (const drop of ["sub", "email", "given_name", "family_name"] as const) {
      const { [drop]: _dropped, ...claims } = base;
      const idToken = await mint(claims, { aud: "frontend" });
      const res = await v1("POST", "/v1/auth/login", { json: { id_token: idToken } });
      expectOtError(res, 400, "invalid_claims");
    }
    // exp, iat and iss are set by the builder, so sign those variants by hand.
    const key = (await importJWK({ ...signingJwk, alg: "ES256" }, "ES256")) as CryptoKey;
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: "ES256", kid: signingJwk.kid };
    const noExp = await new SignJWT(base).setProtectedHeader(header).setIssuer(ISSUER).setAudience("frontend").setIssuedAt(now).sign(key);
    const noIat = await new SignJWT(base).setProtectedHeader(header).setIssuer(ISSUER).setAudience("frontend").setExpirationTime(now + 60).sign(key);
    const noIss = await new SignJWT(base).setProtectedHeader(header).setAudience("frontend").setIssuedAt(now).setExpirationTime(now + 60).sign(key);
    for (const idToken of [noExp, noIat, noIss]) {
      const res = await v1("POST", "/v1/auth/login", { json: { id_token: idToken } });
      expectOtError(res, 400, "invalid_claims");
    }
    const complete = await mint(base, { aud: "frontend" });
    expect((await v1("POST", "/v1/auth/login", { json: { id_token: complete } })).status).toBe(200);
  });

  it("an expired id_token is 401", async () => {
    const user = await createUser("loginexp");
    const tokens = await passwordGrant(user);
    const full = decodeJwt(tokens.id_token);
    const past = Math.floor(Date.now() / 1000) - 60;
    const idToken = await mint(
      { sub: full.sub, email: full.email, given_name: full.given_name, family_name: full.family_name },
      { aud: "frontend", iat: past - 300, exp: past },
    );
    const res = await v1("POST", "/v1/auth/login", { json: { id_token: idToken } });
    expectOtError(res, 401, "unauthorized");
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token", error_description="The user session expired"');
  });

  it("a forged id_token is 401", async () => {
    const user = await createUser("loginforged");
    const tokens = await passwordGrant(user);
    const forged = withSegment(tokens.id_token, 1, b64url(JSON.stringify({ ...decodeJwt(tokens.id_token), email: "x@evil.test" })));
    const res = await v1("POST", "/v1/auth/login", { json: { id_token: forged } });
    expectOtError(res, 401, "unauthorized");
    expect(res.headers.get("www-authenticate")).toBe(INVALID);
  });

  it("bad bodies: malformed JSON, missing content type, missing field — 400 bad_request, the sign-in's own code", async () => {
    // The seed's document gives this route its own 400 codes (bad_request, invalid_claims), so the
    // generic body errors of other routes (invalid_json, invalid_content_type) are bad_request here.
    const malformed = await v1("POST", "/v1/auth/login", { headers: { "Content-Type": "application/json" }, body: "{id_token:" });
    expectOtError(malformed, 400, "bad_request");
    const noType = await v1("POST", "/v1/auth/login", { body: new TextEncoder().encode(JSON.stringify({ id_token: "x" })) });
    expect(noType.body).toEqual({ code: "bad_request", message: "Content type error: expected application/json" });
    const missing = await v1("POST", "/v1/auth/login", { json: {} });
    expectOtError(missing, 400, "bad_request");
    const wrongType = await v1("POST", "/v1/auth/login", { json: { id_token: 42 } });
    expectOtError(wrongType, 400, "bad_request");
  });
});
