import type { Context } from "hono";
import type { UserRow } from "../db/schema";

/** Who is calling. Guests are anonymous callers identified by their signed session cookie. */
export type Identity =
  | { kind: "user"; user: UserRow; via: "password" | "app-password" | "bearer"; appPasswordId?: string }
  | { kind: "service"; clientId: string; roles: string[] }
  | { kind: "anonymous" };

export interface AppVariables {
  identity: Identity;
  /** Random id from the signed `edgetalk_session` cookie: the "PHP session" Talk sessions bind to. */
  cookieSession: string;
  /** Merged OCS parameters (query + JSON/form body). */
  ocsParams: Record<string, unknown>;
  /** Why the OCS body could not be read (malformed JSON or multipart); the route answers it. */
  ocsBodyError?: string;
}

export type AppEnv = { Bindings: Env; Variables: AppVariables };
export type AppContext = Context<AppEnv>;

export function currentUser(c: AppContext): UserRow | null {
  const id = c.get("identity");
  return id?.kind === "user" ? id.user : null;
}

export function clientAddress(c: AppContext): string {
  // Only Cloudflare's own header: anything else (X-Real-IP, X-Forwarded-For) is chosen by the client.
  return c.req.header("cf-connecting-ip") ?? "local";
}
