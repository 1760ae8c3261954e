/**
 * Results of room operations crossing the RPC boundary. Errors are values (RPC does not keep
 * exception classes): a status the dialect layer maps to its own error shape, plus a reason.
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; status: number; reason: string; data?: unknown };

/** Reason of a failure because the caller lacks the role an operation needs (not a rule about its target). */
export const FORBIDDEN = "forbidden";

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = (status: number, reason: string, data?: unknown): Outcome<never> => ({ ok: false, status, reason, data });

/** Who is acting on a room. `cookie` is a hash of the caller's session cookie. */
export interface Caller {
  kind: "user" | "guest";
  userUuid?: string;
  userid?: string;
  displayName?: string;
  cookie: string;
  /** Talk's X-Nextcloud-Talk-Session-Tab-Id (64 alphanumerics), one session per tab. */
  tabId?: string;
}
