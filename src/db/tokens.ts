/** Refresh tokens of the built-in OIDC issuer (stored as keyed hashes, rotated on use). */
import { and, eq, gt } from "drizzle-orm";
import type { Db } from "./client";
import { refreshTokens } from "./schema";

export async function storeRefreshToken(db: Db, userId: string, clientId: string, tokenHash: string, expiresAt: number) {
  await db.insert(refreshTokens).values({ id: crypto.randomUUID(), userId, clientId, tokenHash, expiresAt });
}

/** Consumes a refresh token: returns its row and revokes it, so each token works once. */
export async function consumeRefreshToken(db: Db, tokenHash: string, now: number) {
  const [row] = await db
    .update(refreshTokens)
    .set({ revoked: true })
    .where(and(eq(refreshTokens.tokenHash, tokenHash), eq(refreshTokens.revoked, false), gt(refreshTokens.expiresAt, now)))
    .returning();
  return row;
}
