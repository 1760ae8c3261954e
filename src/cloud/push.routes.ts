/**
 * Push device registration (`/ocs/v2.php/apps/notifications/api/v2/push`), as the Talk mobile
 * apps call it after login, with the checks and answers of Nextcloud's notifications app.
 *
 * One device per app password: the app sends the SHA-512 of its push token, its RSA public key
 * and its push proxy. The answer carries the user's own public key (RSA 2048, made on the first
 * registration, private half sealed with the server secret), the device identifier
 * (base64 SHA-512 of `["<user>@<host>", <app password id>]`) and the identifier signed with the
 * user's key (RSASSA-PKCS1-v1_5, SHA-512), which the proxy checks. Revoking the app password
 * removes its device.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { issuerUrl } from "../auth/oidc";
import { database, type Db } from "../db/client";
import { deletePushDevice, findPushDevice, findUserKey, insertUserKey, savePushDevice } from "../db/push";
import type { UserRow } from "../db/schema";
import { config, type Config } from "../lib/config";
import { currentUser, type AppEnv } from "../lib/context";
import { seal, toBase64, unseal } from "../lib/crypto";
import { OcsError } from "../lib/errors";
import { ocsRoute } from "../lib/route";

const PATH = "/ocs/v2.php/apps/notifications/api/v2/push";
const TAGS = ["Notifications"];
const SIGN = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" } as const;

const RegisterParams = z.object({
  pushTokenHash: z.string().max(1000),
  devicePublicKey: z.string().max(10_000),
  proxyServer: z.string().max(1000),
  appType: z.string().max(50).optional(),
});

function pem(kind: string, der: ArrayBuffer): string {
  const b64 = toBase64(new Uint8Array(der)).replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${kind}-----\n${b64}${b64.endsWith("\n") ? "" : "\n"}-----END ${kind}-----`;
}

function pemBody(text: string, kind: string): Uint8Array | null {
  const match = new RegExp(`^-----BEGIN ${kind}-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END ${kind}-----\\s*$`).exec(text.trim());
  if (!match?.[1]) return null;
  try {
    return Uint8Array.from(atob(match[1].replace(/\s+/g, "")), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Whether a device key is an RSA public key of at least 2048 bits, as the push proxy requires. */
export async function importDeviceKey(text: string): Promise<CryptoKey | null> {
  const der = pemBody(text, "PUBLIC KEY");
  if (!der) return null;
  try {
    const key = await crypto.subtle.importKey("spki", der, { name: "RSA-OAEP", hash: "SHA-1" }, true, ["encrypt"]);
    return ((key.algorithm as { modulusLength?: number }).modulusLength ?? 0) >= 2048 ? key : null;
  } catch {
    return null;
  }
}

/** The user's push signing key pair, made on first use. */
export async function userSigningKey(db: Db, cfg: Config, userId: string): Promise<{ publicKeyPem: string; privateKey: CryptoKey }> {
  let row = await findUserKey(db, userId);
  if (!row) {
    const pair = (await crypto.subtle.generateKey({ ...SIGN, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ["sign", "verify"])) as CryptoKeyPair;
    const spki = (await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer;
    const pkcs8 = (await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer;
    row = await insertUserKey(db, userId, pem("PUBLIC KEY", spki), await seal(cfg.secret, toBase64(new Uint8Array(pkcs8))));
  }
  const sealed = row ? await unseal(cfg.secret, row.sealedPrivateKey) : null;
  if (!row || !sealed) throw new Error("push signing key unavailable");
  const privateKey = await crypto.subtle.importKey("pkcs8", Uint8Array.from(atob(sealed), (ch) => ch.charCodeAt(0)), SIGN, false, ["sign"]);
  return { publicKeyPem: row.publicKeyPem, privateKey };
}

export async function signPush(privateKey: CryptoKey, text: string): Promise<string> {
  return toBase64(new Uint8Array(await crypto.subtle.sign(SIGN, privateKey, new TextEncoder().encode(text))));
}

function pushError(message: string): OcsError {
  return new OcsError(400, { message }, message);
}

/** Proxies must be HTTPS, or HTTP on this machine (a local proxy for development), as in Nextcloud. */
function validProxy(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.protocol === "https:") return true;
    return url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  } catch {
    return false;
  }
}

export function registerPushRoutes(app: OpenAPIHono<AppEnv>) {
  ocsRoute(app, { method: "post", path: PATH, summary: "Register this device for push notifications", tags: TAGS, auth: "user", params: RegisterParams }, async (c, p) => {
    const identity = c.get("identity");
    // One device per app password: a login password or a bearer token has no device.
    if (identity.kind !== "user" || !identity.appPasswordId) throw pushError("INVALID_SESSION_TOKEN");
    if (!/^[0-9a-f]{128}$/.test(p.pushTokenHash)) throw pushError("INVALID_PUSHTOKEN_HASH");
    if (!(await importDeviceKey(p.devicePublicKey))) throw pushError("INVALID_DEVICE_KEY");
    if (!validProxy(p.proxyServer)) throw pushError("INVALID_PROXY_SERVER");
    const cfg = config(c.env);
    const db = database(c.env);
    const user = currentUser(c) as UserRow;
    const host = new URL(issuerUrl(cfg, c.req.url)).host;
    const identifierSource = JSON.stringify([`${user.userid}@${host}`, identity.appPasswordId]);
    const deviceIdentifier = toBase64(new Uint8Array(await crypto.subtle.digest("SHA-512", new TextEncoder().encode(identifierSource))));
    const key = await userSigningKey(db, cfg, user.id);
    const signature = await signPush(key.privateKey, deviceIdentifier);
    const existing = await findPushDevice(db, identity.appPasswordId);
    const row = {
      appPasswordId: identity.appPasswordId,
      userId: user.id,
      pushTokenHash: p.pushTokenHash,
      devicePublicKey: p.devicePublicKey.trim(),
      proxyServer: p.proxyServer,
      deviceIdentifier,
      appType: p.appType ?? "unknown",
    };
    const unchanged = existing && existing.pushTokenHash === row.pushTokenHash && existing.devicePublicKey === row.devicePublicKey && existing.proxyServer === row.proxyServer;
    if (!unchanged) await savePushDevice(db, row);
    return { status: unchanged ? 200 : 201, data: { publicKey: key.publicKeyPem, deviceIdentifier, signature } };
  });

  ocsRoute(app, { method: "delete", path: PATH, summary: "Remove this device's push registration", tags: TAGS, auth: "user" }, async (c) => {
    const identity = c.get("identity");
    if (identity.kind !== "user" || !identity.appPasswordId) throw pushError("INVALID_SESSION_TOKEN");
    const deleted = await deletePushDevice(database(c.env), identity.appPasswordId);
    return { status: deleted ? 200 : 202, data: [] };
  });
}
