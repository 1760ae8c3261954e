/**
 * Sends new notifications to the registered devices through their push proxy, as Nextcloud's
 * notifications app does, but only to proxies the operator allows (EDGETALK_PUSH_PROXIES):
 * nothing leaves the server when none is configured.
 *
 * Per device, the proxy gets `{deviceIdentifier, pushTokenHash, subject, signature, priority,
 * type}`: `subject` is `{nid, app, subject, type, id}` as JSON, RSA-encrypted with the device's
 * public key (PKCS#1 v1.5, which the apps decrypt and WebCrypto does not offer, so it is done here
 * with BigInt), base64; `signature` is that base64 text signed with the user's key (SHA-512), so
 * the proxy can check it against the public key it got at registration.
 */
import type { Db } from "../db/client";
import type { NewNotification } from "../db/notifications";
import { userPushDevices } from "../db/push";
import type { Config } from "../lib/config";
import { fromBase64Url, toBase64 } from "../lib/crypto";
import { texts } from "./notifications.routes";
import { importDeviceKey, signPush, userSigningKey } from "./push.routes";

function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

function bigIntToBytes(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/** RSAES-PKCS1-v1_5 encryption (RFC 8017 §7.2.1) with a device's public key. */
export async function rsaPkcs1Encrypt(publicKey: CryptoKey, message: Uint8Array): Promise<Uint8Array> {
  const jwk = (await crypto.subtle.exportKey("jwk", publicKey)) as JsonWebKey;
  const n = fromBase64Url(jwk.n ?? "");
  const e = fromBase64Url(jwk.e ?? "");
  const k = n.length - (n[0] === 0 ? 1 : 0);
  if (message.length > k - 11) throw new Error("message too long for the device key");
  const padding = new Uint8Array(k - message.length - 3);
  for (let i = 0; i < padding.length; i++) {
    let byte = 0;
    while (byte === 0) byte = crypto.getRandomValues(new Uint8Array(1))[0] ?? 0;
    padding[i] = byte;
  }
  const em = new Uint8Array(k);
  em.set([0x00, 0x02], 0);
  em.set(padding, 2);
  em.set(message, 3 + padding.length);
  return bigIntToBytes(modPow(bytesToBigInt(em), bytesToBigInt(e), bytesToBigInt(n)), k);
}

/** The encrypted payload must fit the key (245 bytes for RSA-2048): the subject gives way. */
function payload(id: number, n: NewNotification, maxBytes: number): Uint8Array {
  const encoder = new TextEncoder();
  let subject = texts({ subject: n.subject }, n.parameters as Record<string, string>).subject;
  for (;;) {
    const bytes = encoder.encode(JSON.stringify({ nid: id, app: n.app, subject, type: n.objectType, id: n.objectId }));
    if (bytes.length <= maxBytes || subject.length === 0) return bytes;
    subject = `${[...subject].slice(0, Math.max(0, [...subject].length - 8)).join("")}…`.replace(/^…$/, "");
  }
}

export async function relayPush(db: Db, cfg: Config, items: NewNotification[], ids: number[]): Promise<void> {
  if (cfg.pushProxies.length === 0) return;
  const byProxy = new Map<string, string[]>();
  const users = [...new Set(items.map((n) => n.userId))];
  for (const userId of users) {
    const devices = (await userPushDevices(db, userId)).filter((d) => cfg.pushProxies.includes(d.proxyServer.replace(/\/+$/, "")));
    if (devices.length === 0) continue;
    const key = await userSigningKey(db, cfg, userId);
    for (const [i, n] of items.entries()) {
      if (n.userId !== userId) continue;
      for (const device of devices) {
        const deviceKey = await importDeviceKey(device.devicePublicKey);
        if (!deviceKey) continue;
        const size = (deviceKey.algorithm as { modulusLength?: number }).modulusLength ?? 2048;
        const subject = toBase64(await rsaPkcs1Encrypt(deviceKey, payload(ids[i] ?? 0, n, size / 8 - 11)));
        const entry = {
          deviceIdentifier: device.deviceIdentifier,
          pushTokenHash: device.pushTokenHash,
          subject,
          signature: await signPush(key.privateKey, subject),
          priority: n.objectType === "call" ? "high" : "normal",
          type: "alert",
        };
        const proxy = device.proxyServer.replace(/\/+$/, "");
        byProxy.set(proxy, [...(byProxy.get(proxy) ?? []), JSON.stringify(entry)]);
      }
    }
  }
  await Promise.all(
    [...byProxy].map(async ([proxy, entries]) => {
      const body = new URLSearchParams();
      for (const entry of entries) body.append("notifications[]", entry);
      try {
        const res = await fetch(`${proxy}/notifications`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body });
        if (!res.ok) console.warn("push proxy answered", res.status, proxy);
      } catch (err) {
        console.warn("push proxy unreachable", proxy, String(err));
      }
    }),
  );
}
