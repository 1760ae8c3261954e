/**
 * The isolate's memory of verified Basic credentials (see credentials.ts). A leaf module, so the
 * user store can drop entries when it changes a user without importing the auth layer.
 */
import type { UserRow } from "../db/schema";

export interface VerifiedEntry {
  user: UserRow;
  /** The stored hash the password was verified against (for an app password: its keyed hash). */
  passwordHash: string;
  /** Set when the credential is an app password: revoking it drops the entry. */
  appPasswordId?: string;
  /** End of the credential-cache TTL: afterwards the password is verified again (PBKDF2). */
  expires: number;
  /** Until then the user row is served from memory; afterwards it is re-read from D1 once. */
  fresh: number;
}

const MAX_ENTRIES = 10_000;
export const verified = new Map<string, VerifiedEntry>();

export function rememberVerified(key: string, entry: VerifiedEntry): void {
  if (verified.size >= MAX_ENTRIES) {
    const oldest = verified.keys().next().value;
    if (oldest !== undefined) verified.delete(oldest);
  }
  verified.set(key, entry);
}

/** A user was changed or deleted in this isolate: their cached identities go at once. */
export function forgetVerifiedUser(userId: string): void {
  for (const [key, entry] of verified) if (entry.user.id === userId) verified.delete(key);
}

/** An app password was revoked in this isolate: identities cached with it go at once. */
export function forgetVerifiedAppPassword(appPasswordId: string): void {
  for (const [key, entry] of verified) if (entry.appPasswordId === appPasswordId) verified.delete(key);
}
