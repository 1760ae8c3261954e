/** A room password as the room object keeps it: a PBKDF2 hash to check, a sealed copy to show its owner. */
import { config } from "../lib/config";
import { hashPassword, seal } from "../lib/crypto";

export interface StoredPassword {
  hash: string;
  sealed: string;
}

export async function storedPassword(env: Env, password: string): Promise<StoredPassword> {
  return { hash: await hashPassword(password), sealed: await seal(config(env).secret, password) };
}
