/** Issuing app passwords (Nextcloud's device tokens): 72 random characters, stored as a keyed hash. */
import type { Db } from "../db/client";
import type { UserRow } from "../db/schema";
import { insertAppPassword } from "../db/users";
import type { Config } from "../lib/config";
import { ALNUM, randomString } from "../lib/crypto";
import { appPasswordHash } from "./credentials";

/** A new app password for `user`, named after the client (its user agent, as Nextcloud names them). */
export async function issueAppPassword(db: Db, cfg: Config, user: UserRow, clientName: string): Promise<{ id: string; token: string }> {
  const token = randomString(72, ALNUM);
  const id = await insertAppPassword(db, user.id, await appPasswordHash(cfg, token), clientName || "unknown");
  return { id, token };
}

/** PHP's urlencode, which Nextcloud uses for the `nc://login/…` redirect (space → `+`). */
export function phpUrlencode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*~]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}
