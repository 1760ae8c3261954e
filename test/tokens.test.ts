import { env } from "cloudflare:workers";
import { SignJWT, importJWK, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { ADMIN, createUser, ocs, request } from "./helpers/http";

async function token(form: Record<string, string>) {
  const res = await request("POST", "/oauth/token", {
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function mint(claims: Record<string, unknown>, opts: { aud?: string; exp?: number; key?: string; typ?: string } = {}) {
  const jwk = JSON.parse(opts.key ?? env.EDGETALK_OIDC_PRIVATE_KEY) as JWK;
  const key = await importJWK({ ...jwk, alg: "ES256" }, "ES256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: jwk.kid ?? "test-key", typ: opts.typ ?? "JWT" })
    .setIssuer("http://localhost")
    .setAudience(opts.aud ?? "edgetalk")
    .setIssuedAt(now - 10)
    .setExpirationTime(opts.exp ?? now + 300)
    .sign(key);
}

async function v1Login(idToken: string) {
  const res = await request("POST", "/v1/auth/login", { headers: { "Content-Type": "application/json" }, body: JSON.stringify({ id_token: idToken }) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

describe("built-in OIDC issuer", () => {
  it("publishes discovery and a JWKS without private parts", async () => {
    const disco = (await (await request("GET", "/.well-known/openid-configuration")).json()) as Record<string, string>;
    expect(disco).toMatchObject({ issuer: "http://localhost", token_endpoint: "http://localhost/oauth/token", jwks_uri: "http://localhost/oauth/jwks" });
    const jwks = (await (await request("GET", "/oauth/jwks")).json()) as { keys: JWK[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", kid: "test-key", alg: "ES256" });
    expect(jwks.keys[0]?.d).toBeUndefined();
  });

  it("issues, uses and refreshes tokens; refresh tokens work once", async () => {
    const user = await createUser("oidc");
    const issued = await token({ grant_type: "password", username: user.user, password: user.password });
    expect(issued.status).toBe(200);
    expect(issued.body).toMatchObject({ token_type: "Bearer", expires_in: 300 });
    for (const k of ["access_token", "id_token", "refresh_token"]) expect(typeof issued.body[k]).toBe("string");

    // Bearer works on OCS without the OCS-APIRequest header, and on /v1.
    const viaOcs = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { auth: { bearer: issued.body.access_token }, ocsHeader: false });
    expect(viaOcs.status).toBe(200);
    const login = await v1Login(issued.body.id_token);
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ permissions: [] });

    const refreshed = await token({ grant_type: "refresh_token", refresh_token: issued.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(issued.body.refresh_token);
    const reused = await token({ grant_type: "refresh_token", refresh_token: issued.body.refresh_token });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe("invalid_grant");
  });

  it("rejects wrong credentials, unknown grants and non-form bodies", async () => {
    const user = await createUser("oidcbad");
    expect((await token({ grant_type: "password", username: user.user, password: "wrong" })).body.error).toBe("invalid_grant");
    expect((await token({ grant_type: "implicit" })).status).toBe(400);
    const json = await request("POST", "/oauth/token", { headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(json.status).toBe(400);
    const svc = await token({ grant_type: "client_credentials", client_id: "callin-gateway", client_secret: "callin-secret" });
    expect(svc.status).toBe(200);
    expect((await token({ grant_type: "client_credentials", client_id: "callin-gateway", client_secret: "nope" })).status).toBe(401);
  });

  it("refuses expired, tampered, foreign-key and id tokens used as access tokens", async () => {
    const users = await ocs("GET", "/ocs/v2.php/cloud/users", { auth: ADMIN, query: { search: "admin" } });
    expect(users.data.users).toContain("admin");
    const adminToken = await token({ grant_type: "password", username: ADMIN.user, password: ADMIN.password });
    const good = await ocs("GET", "/ocs/v2.php/cloud/users", { auth: { bearer: adminToken.body.access_token }, ocsHeader: false });
    expect(good.status).toBe(200);

    const sub = (JSON.parse(atob(adminToken.body.access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as { sub: string }).sub;
    const expired = await mint({ sub }, { exp: Math.floor(Date.now() / 1000) - 60, typ: "at+jwt" });
    const expiredOcs = await ocs("GET", "/ocs/v2.php/cloud/users", { auth: { bearer: expired }, ocsHeader: false });
    expect(expiredOcs.status).toBe(401);
    expect(expiredOcs.meta.statuscode).toBe(997);
    const expiredV1 = await request("POST", "/v1/auth/login", { headers: { Authorization: `Bearer ${expired}`, "Content-Type": "application/json" }, body: "{}" });
    expect(expiredV1.status).toBe(401);
    expect(expiredV1.headers.get("www-authenticate")).toBe('Bearer error="invalid_token", error_description="The provided access token expired"');
    expect(expiredV1.headers.get("content-type")).toBe("text/json; charset=utf-8");
    expect(await expiredV1.json()).toMatchObject({ code: "unauthorized" });

    const [h, p, s] = adminToken.body.access_token.split(".");
    const tampered = `${h}.${p.slice(0, -2)}${p.slice(-2) === "AA" ? "BB" : "AA"}.${s}`;
    expect((await ocs("GET", "/ocs/v2.php/cloud/users", { auth: { bearer: tampered }, ocsHeader: false })).status).toBe(401);

    const { generateKeyPair, exportJWK } = await import("jose");
    const other = await generateKeyPair("ES256", { extractable: true });
    const foreign = await mint({ sub }, { typ: "at+jwt", key: JSON.stringify({ ...(await exportJWK(other.privateKey)), kid: "test-key" }) });
    // A correctly signed access token is accepted, so the two rejections above are about expiry and key.
    expect((await ocs("GET", "/ocs/v2.php/cloud/users", { auth: { bearer: await mint({ sub }, { typ: "at+jwt" }) }, ocsHeader: false })).status).toBe(200);
    expect((await ocs("GET", "/ocs/v2.php/cloud/users", { auth: { bearer: foreign }, ocsHeader: false })).status).toBe(401);

    expect((await ocs("GET", "/ocs/v2.php/cloud/users", { auth: { bearer: adminToken.body.id_token }, ocsHeader: false })).status).toBe(401);
  });
});

describe("/v1/auth/login", () => {
  it("returns the provider and validates id_tokens and bodies", async () => {
    const provider = await request("GET", "/v1/auth/login");
    expect(await provider.json()).toEqual({ oidc: { name: "default", url: "http://localhost" } });

    const missingClaims = await v1Login(await mint({ sub: crypto.randomUUID() }, { aud: "web" }));
    expect(missingClaims.status).toBe(400);
    expect(missingClaims.body.code).toBe("invalid_claims");
    const expired = await v1Login(await mint({ sub: "x", email: "e", given_name: "g", family_name: "f" }, { aud: "web", exp: 1000 }));
    expect(expired.status).toBe(401);
    // An access token (typ at+jwt) is not accepted in place of an id_token.
    const accessToken = await v1Login(await mint({ sub: crypto.randomUUID(), email: "e", given_name: "g", family_name: "f" }, { typ: "at+jwt" }));
    expect(accessToken.status).toBe(401);
    expect(accessToken.body.code).toBe("unauthorized");

    const badJson = await request("POST", "/v1/auth/login", { headers: { "Content-Type": "application/json" }, body: "{nope" });
    expect(badJson.status).toBe(400);
    // The sign-in's own code for every unreadable body (the seed lists bad_request and invalid_claims).
    expect(((await badJson.json()) as { code: string }).code).toBe("bad_request");
    const noType = await request("POST", "/v1/auth/login", { body: JSON.stringify({ id_token: "x" }) });
    expect(((await noType.json()) as { code: string }).code).toBe("bad_request");
    const missing = await request("POST", "/v1/auth/login", { headers: { "Content-Type": "application/json" }, body: "{}" });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { code: string }).code).toBe("bad_request");
  });
});
