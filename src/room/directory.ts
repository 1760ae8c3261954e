/** Worker-side room directory: ids, tokens, and stubs of the room Durable Objects. */
import { eq } from "drizzle-orm";
import { database } from "../db/client";
import { rooms } from "../db/schema";
import { LOWER_ALNUM, randomString } from "../lib/crypto";
import { sipDigits } from "./calls";

export const TALK_TOKEN_LENGTH = 12;
export const SIP_TOKEN_LENGTH = 10;
const RESERVED_TOKENS = new Set(["settings", "backend"]);

/** A new room token; SIP-compatible digits (10, no leading 0, no repeats) when SIP dial-in is configured. */
export function newRoomToken(sipCompatible = false): string {
  if (sipCompatible) return sipDigits(SIP_TOKEN_LENGTH);
  for (;;) {
    const token = randomString(TALK_TOKEN_LENGTH, LOWER_ALNUM);
    if (!RESERVED_TOKENS.has(token)) return token;
  }
}

/** Object ids by room id, per namespace binding: deriving one hashes the name, a stub is cheap. */
const objectIds = new WeakMap<Env["ROOMS"], Map<string, DurableObjectId>>();
const OBJECT_ID_LIMIT = 50_000;

export function roomStub(env: Env, roomId: string) {
  let ids = objectIds.get(env.ROOMS);
  if (!ids) {
    ids = new Map();
    objectIds.set(env.ROOMS, ids);
  }
  let id = ids.get(roomId);
  if (!id) {
    if (ids.size >= OBJECT_ID_LIMIT) ids.clear();
    id = env.ROOMS.idFromName(roomId);
    ids.set(roomId, id);
  }
  return env.ROOMS.get(id);
}

const tokenCache = new Map<string, { id: string; serial: number }>();
const TOKEN_CACHE_LIMIT = 50_000;

/** Token → room id (and Talk's numeric id). The mapping never changes, so it is cached per isolate. */
export async function resolveToken(env: Env, token: string): Promise<{ id: string; serial: number } | null> {
  if (!/^[a-z0-9]{4,30}$/.test(token)) return null;
  const hit = tokenCache.get(token);
  if (hit) return hit;
  const row = await database(env).select({ id: rooms.id, serial: rooms.serial }).from(rooms).where(eq(rooms.token, token)).get();
  if (!row) return null;
  if (tokenCache.size >= TOKEN_CACHE_LIMIT) tokenCache.clear();
  tokenCache.set(token, row);
  return row;
}

/** Whether this isolate already knows the token (a lookup then costs nothing). */
export function knownToken(token: string): boolean {
  return tokenCache.has(token);
}

export function forgetToken(token: string): void {
  tokenCache.delete(token);
}
