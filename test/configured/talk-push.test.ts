/**
 * Push relay: a call notification reaches the callee's registered device through an allowed push
 * proxy (here the stand-in of test/fixtures/fake-nextcloud.mjs), encrypted for the device and
 * signed with the user's key, as Nextcloud's notifications app sends it.
 */
import { describe, expect, it } from "vitest";
import { createUser, ocs, CookieJar } from "../helpers/http";
import { V4 } from "../helpers/talk";

const PROXY = "https://push.example.test";

function bytes(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (b64.length % 4)) % 4)), (ch) => ch.charCodeAt(0));
}

function toBig(b: Uint8Array): bigint {
  return b.reduce((n, x) => (n << 8n) | BigInt(x), 0n);
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let r = 1n;
  let b = base % mod;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % mod;
    b = (b * b) % mod;
  }
  return r;
}

/** The device side: RSA decryption with PKCS#1 v1.5 padding, as the apps do it. */
function decrypt(jwk: JsonWebKey, cipher: Uint8Array): string {
  const n = bytes(jwk.n as string);
  const m = modPow(toBig(cipher), toBig(bytes(jwk.d as string)), toBig(n));
  const em = new Uint8Array(n.length);
  let v = m;
  for (let i = em.length - 1; i >= 0; i--) {
    em[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  expect([em[0], em[1]]).toEqual([0, 2]);
  const sep = em.indexOf(0, 2);
  expect(sep).toBeGreaterThanOrEqual(10);
  return new TextDecoder().decode(em.slice(sep + 1));
}

describe("push relay", () => {
  it("sends a started call to the callee's device: encrypted subject, user signature, high priority", async () => {
    const caller = await createUser("caller");
    const callee = await createUser("callee");
    const app = await ocs("GET", "/ocs/v2.php/core/getapppassword", { auth: callee });
    const device = { user: callee.user, password: app.data.apppassword as string };
    const pair = (await crypto.subtle.generateKey({ name: "RSA-OAEP", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-1" }, true, [
      "encrypt",
      "decrypt",
    ])) as CryptoKeyPair;
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
    const pem = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...spki)).replace(/(.{64})/g, "$1\n")}\n-----END PUBLIC KEY-----`;
    const registered = await ocs("POST", "/ocs/v2.php/apps/notifications/api/v2/push", {
      auth: device,
      body: { pushTokenHash: "ef".repeat(64), devicePublicKey: pem, proxyServer: `${PROXY}/` },
    });
    expect(registered.status).toBe(201);

    const room = await ocs("POST", `${V4}/room`, { auth: caller, body: { roomType: 2, roomName: "Ring ring" } });
    const token = room.data.token as string;
    expect((await ocs("POST", `${V4}/room/${token}/participants`, { auth: caller, body: { newParticipant: callee.user } })).status).toBe(200);
    const jar = new CookieJar();
    expect((await ocs("POST", `${V4}/room/${token}/participants/active`, { auth: caller, jar })).status).toBe(200);
    expect((await ocs("POST", `${V4}/call/${token}`, { auth: caller, jar, body: { flags: 3, recordingConsent: true } })).status).toBe(200);

    // The relay runs after the answer (waitUntil): wait for the proxy to have it.
    // Two pushes: the invitation to the conversation (normal priority), then the call.
    let pushes: { host: string; contentType: string; body: string }[] = [];
    for (let i = 0; i < 50 && pushes.length < 2; i++) {
      pushes = (await (await fetch(`${PROXY}/__pushes`)).json()) as typeof pushes;
      if (pushes.length < 2) await new Promise((r) => setTimeout(r, 100));
    }
    expect(pushes).toHaveLength(2);
    expect(pushes[1]?.host).toBe("push.example.test");
    expect(pushes[1]?.contentType).toBe("application/x-www-form-urlencoded");
    const entries = new URLSearchParams(pushes[1]?.body).getAll("notifications[]").map((e) => JSON.parse(e));
    expect(entries).toHaveLength(1);
    const entry = entries[0];
    expect(entry).toMatchObject({ deviceIdentifier: registered.data.deviceIdentifier, pushTokenHash: "ef".repeat(64), priority: "high", type: "alert" });

    const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
    const data = JSON.parse(decrypt(jwk, bytes(entry.subject)));
    const list = await ocs("GET", "/ocs/v2.php/apps/notifications/api/v2/notifications", { auth: callee });
    expect(data).toEqual({ nid: list.data[0].notification_id, app: "spreed", subject: "A group call has started in Ring ring", type: "call", id: token });

    const der = bytes(registered.data.publicKey.replace(/-----[A-Z ]+-----|\s/g, ""));
    const verifier = await crypto.subtle.importKey("spki", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }, false, ["verify"]);
    expect(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", verifier, bytes(entry.signature), new TextEncoder().encode(entry.subject))).toBe(true);
  });
});
