import { describe, expect, it } from "vitest";
import { ADMIN, CookieJar, basic, ocs, request } from "./helpers/http";
import { TALK_FEATURES } from "../src/talk/capabilities";

describe("OCS envelope", () => {
  it("answers JSON when asked by Accept or format=json", async () => {
    const viaAccept = await ocs("GET", "/ocs/v2.php/cloud/capabilities");
    expect(viaAccept.status).toBe(200);
    expect(viaAccept.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(viaAccept.meta).toEqual({ status: "ok", statuscode: 200, message: "OK" });

    const viaFormat = await request("GET", "/ocs/v2.php/cloud/capabilities?format=json", { headers: { "OCS-APIRequest": "true" } });
    expect(viaFormat.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(((await viaFormat.json()) as { ocs: { meta: { statuscode: number } } }).ocs.meta.statuscode).toBe(200);
  });

  it("answers XML by default", async () => {
    const res = await request("GET", "/ocs/v2.php/cloud/capabilities", { headers: { "OCS-APIRequest": "true" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/xml; charset=utf-8");
    const text = await res.text();
    expect(text.startsWith('<?xml version="1.0"?>')).toBe(true);
    expect(text).toContain("<ocs><meta><status>ok</status><statuscode>200</statuscode><message>OK</message></meta><data>");
    expect(text).toContain("<spreed>");
  });

  it("renders errors in XML too", async () => {
    const res = await request("GET", "/ocs/v2.php/cloud/users", { headers: { "OCS-APIRequest": "true" } });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("<status>failure</status><statuscode>997</statuscode><message>Current user is not logged in</message>");
  });

  it("gives 401 with statuscode 997 to anonymous callers of login-only endpoints", async () => {
    const res = await ocs("GET", "/ocs/v2.php/cloud/users");
    expect(res.status).toBe(401);
    expect(res.meta).toEqual({ status: "failure", statuscode: 997, message: "Current user is not logged in" });
  });

  it("answers a missing OCS-APIRequest header with a bare 412, even with valid Basic auth", async () => {
    const res = await request("GET", "/ocs/v2.php/cloud/capabilities", { headers: { Authorization: basic(ADMIN), Accept: "application/json" } });
    expect(res.status).toBe(412);
    expect(await res.json()).toEqual({ message: "CSRF check failed" });
  });

  it("issues a signed HttpOnly session cookie and keeps it stable", async () => {
    const jar = new CookieJar();
    const first = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { jar });
    const cookie = first.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^edgetalk_session=[A-Za-z0-9]{32}\.[A-Za-z0-9_-]+;/);
    expect(cookie).toContain("HttpOnly");
    const second = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { jar });
    expect(second.headers.get("set-cookie")).toBeNull();
    // A forged cookie is replaced by a fresh one.
    const forged = await ocs("GET", "/ocs/v2.php/cloud/capabilities", { headers: { Cookie: "edgetalk_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.forged" } });
    expect(forged.headers.get("set-cookie")).toMatch(/^edgetalk_session=/);
    expect(forged.headers.get("set-cookie")).not.toContain("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  });

  it("answers unknown OCS routes with an OCS 404", async () => {
    const res = await ocs("GET", "/ocs/v2.php/apps/nothing/here");
    expect(res.status).toBe(404);
    expect(res.meta.status).toBe("failure");
  });
});

describe("capabilities", () => {
  it("reports the version and the spreed subtree with exactly the implemented features", async () => {
    const res = await ocs("GET", "/ocs/v2.php/cloud/capabilities");
    expect(res.data.version).toMatchObject({ major: 31, string: "31.0.0" });
    const spreed = res.data.capabilities.spreed;
    expect(spreed.features).toEqual([...TALK_FEATURES]);
    // What clients gate on is advertised (Android checks chat-v2 before opening a conversation);
    // what EdgeTalk lacks (breakout rooms, federation, reactions) is not.
    expect(spreed.features).toEqual(
      expect.arrayContaining(["conversation-v4", "webinary-lobby", "in-call-flags", "sip-support", "send-call-notification", "signaling-v3", "room-description", "chat-v2", "chat-read-marker"]),
    );
    expect(spreed.config.chat["max-length"]).toBe(32000);
    for (const missing of ["breakout-rooms-v1", "federation-v1", "listable-rooms", "reactions"]) {
      expect(spreed.features).not.toContain(missing);
    }
    expect(spreed.config.permissions).toMatchObject({ "max-default": 254, "max-custom": 255 });
    expect(spreed.config.signaling["session-ping-limit"]).toBe(200);
  });
});

describe("OpenAPI and docs", () => {
  it("serves an OpenAPI 3.1 document covering both dialects", async () => {
    const res = await request("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/ocs/v2.php/cloud/users"]).toBeDefined();
    expect(doc.paths["/v1/auth/login"]).toBeDefined();
  });

  it("serves the docs page from the Worker", async () => {
    const res = await request("GET", "/docs");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("/openapi.json");
    expect(html).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
  });
});
