/**
 * How a Talk client authenticates its signaling WebSocket (`hello`), as the standalone signaling
 * server accepts it from Nextcloud's settings:
 * - v1: `{userid, ticket}`, the ticket `random:time:userid:hmac` handed out by
 *   `api/v3/signaling/settings` (the HMAC binds it to the user; guests have an empty user id);
 * - v2: `{token}`, a JWT signed by EdgeTalk (EdDSA) whose public key the capabilities publish in
 *   `config.signaling.hello-v2-token-key`, as Nextcloud publishes its own.
 * The Ed25519 key is derived from EDGETALK_SECRET, so every isolate and the room objects agree on
 * it without storing a key.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { ALNUM, fromBase64Url, hmac, hmacHex, randomString, timingSafeEqual, toBase64 } from "../../lib/crypto";

/** How long a v2 hello token is valid (the reference's tokens last five minutes too). */
export const HELLO_V2_TTL_SECONDS = 300;

/** The v1 ticket for a user (or a guest: null). */
export async function helloTicket(secret: string, userId: string | null, now = Date.now()): Promise<string> {
  const random = randomString(32, ALNUM);
  const time = Math.floor(now / 1000);
  return `${random}:${time}:${userId ?? ""}:${await hmacHex(secret, ticketMessage(random, time, userId ?? ""))}`;
}

function ticketMessage(random: string, time: number | string, userId: string): string {
  return `signaling-ticket:${random}:${time}:${userId}`;
}

/** Whether a v1 ticket was issued by EdgeTalk for this user id ("" for guests). */
export async function verifyHelloTicket(secret: string, userId: string, ticket: string): Promise<boolean> {
  const parts = ticket.split(":");
  if (parts.length !== 4) return false;
  const [random, time, ticketUser, mac] = parts as [string, string, string, string];
  if (ticketUser !== userId) return false;
  return timingSafeEqual(mac, await hmacHex(secret, ticketMessage(random, time, ticketUser)));
}

interface HelloKeys {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicPem: string;
}

const keys = new Map<string, Promise<HelloKeys>>();

/** PKCS#8 prefix of an Ed25519 private key (RFC 8410), followed by the 32-byte seed. */
const PKCS8_ED25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
/** SubjectPublicKeyInfo prefix of an Ed25519 public key, followed by its 32 bytes. */
const SPKI_ED25519 = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

function helloKeys(secret: string): Promise<HelloKeys> {
  let found = keys.get(secret);
  if (!found) {
    found = deriveKeys(secret);
    keys.set(secret, found);
  }
  return found;
}

async function deriveKeys(secret: string): Promise<HelloKeys> {
  const seed = await hmac(secret, "signaling-hello-v2-key");
  const pkcs8 = new Uint8Array([...PKCS8_ED25519, ...seed]);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = (await crypto.subtle.exportKey("jwk", privateKey)) as JsonWebKey;
  const raw = fromBase64Url(jwk.x ?? "");
  const spki = new Uint8Array([...SPKI_ED25519, ...raw]);
  const publicKey = await crypto.subtle.importKey("spki", spki, { name: "Ed25519" }, true, ["verify"]);
  const body = toBase64(spki).replace(/(.{64})/g, "$1\n").trim();
  return { privateKey, publicKey, publicPem: `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n` };
}

/** The PEM the capabilities publish as `hello-v2-token-key`. */
export async function helloV2PublicKey(secret: string): Promise<string> {
  return (await helloKeys(secret)).publicPem;
}

/** A v2 hello token: `iss` the server, `sub` the user (absent for guests), `userdata.displayname`. */
export async function helloV2Token(secret: string, issuer: string, user: { id: string; displayName: string } | null, now = Date.now()): Promise<string> {
  const { privateKey } = await helloKeys(secret);
  const iat = Math.floor(now / 1000);
  const jwt = new SignJWT(user ? { userdata: { displayname: user.displayName } } : {})
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
    .setIssuer(issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + HELLO_V2_TTL_SECONDS);
  if (user) jwt.setSubject(user.id);
  return jwt.sign(privateKey);
}

export type HelloV2Result =
  | { ok: true; userId: string | null; displayName: string }
  | { ok: false; code: "invalid_token" | "token_expired" | "token_not_valid_yet" };

/** Checks a v2 hello token's signature and times. */
export async function verifyHelloV2(secret: string, token: string): Promise<HelloV2Result> {
  const { publicKey } = await helloKeys(secret);
  try {
    const { payload } = await jwtVerify(token, publicKey, { algorithms: ["EdDSA"] });
    if (typeof payload.iat === "number" && payload.iat > Math.floor(Date.now() / 1000) + 60) return { ok: false, code: "token_not_valid_yet" };
    const userdata = payload.userdata as { displayname?: unknown } | undefined;
    return { ok: true, userId: typeof payload.sub === "string" && payload.sub !== "" ? payload.sub : null, displayName: typeof userdata?.displayname === "string" ? userdata.displayname : "" };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return { ok: false, code: "token_expired" };
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === "nbf") return { ok: false, code: "token_not_valid_yet" };
    return { ok: false, code: "invalid_token" };
  }
}
