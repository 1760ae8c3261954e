/**
 * What the built-in issuer keeps in D1: refresh tokens (keyed hashes, rotated on use), browser
 * sign-in sessions and authorization codes. Secrets are stored only as HMACs of the server secret.
 */
import { and, eq, gt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { authorizationCodes, loginSessions, refreshTokens, users, type UserRow } from "./schema";

export async function storeRefreshToken(db: Db, userId: string, clientId: string, tokenHash: string, expiresAt: number, sessionId: string | null = null) {
  await db.insert(refreshTokens).values({ id: crypto.randomUUID(), userId, clientId, tokenHash, expiresAt, sessionId });
}

/** A live refresh token's row, without using it up. */
export async function findRefreshToken(db: Db, tokenHash: string, now: number) {
  return db.query.refreshTokens.findFirst({
    where: and(eq(refreshTokens.tokenHash, tokenHash), eq(refreshTokens.revoked, false), gt(refreshTokens.expiresAt, now)),
  });
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

// ---------------------------------------------------------------------------------------------
// Browser sign-in sessions

export type AuthorizationCodeRow = typeof authorizationCodes.$inferSelect;
export type LoginSessionRow = typeof loginSessions.$inferSelect;

export async function createLoginSession(db: Db, id: string, userId: string, expiresAt: number, userAgent: string) {
  await db.insert(loginSessions).values({ id, userId, expiresAt, userAgent: userAgent.slice(0, 300) });
}

export async function findLoginSession(db: Db, id: string, now: number): Promise<{ session: LoginSessionRow; user: UserRow } | undefined> {
  const [row] = await db
    .select({ session: loginSessions, user: users })
    .from(loginSessions)
    .innerJoin(users, eq(users.id, loginSessions.userId))
    .where(and(eq(loginSessions.id, id), gt(loginSessions.expiresAt, now)))
    .limit(1);
  return row;
}

/** Ends a sign-in session and revokes every refresh token issued under it. */
export async function endLoginSession(db: Db, id: string) {
  await db.batch([
    db.delete(loginSessions).where(eq(loginSessions.id, id)),
    db.update(refreshTokens).set({ revoked: true }).where(eq(refreshTokens.sessionId, id)),
    db.delete(authorizationCodes).where(eq(authorizationCodes.sessionId, id)),
  ]);
}

// ---------------------------------------------------------------------------------------------
// Authorization codes

export async function storeAuthorizationCode(db: Db, row: AuthorizationCodeRow) {
  // Expired codes of earlier sign-ins go with each new one, so the table stays small.
  await db.batch([
    db.delete(authorizationCodes).where(sql`${authorizationCodes.expiresAt} <= ${Math.floor(Date.now() / 1000)}`),
    db.insert(authorizationCodes).values(row),
  ]);
}

/** Takes a code out of the table: whoever presents it first gets the row, every later attempt nothing. */
export async function takeAuthorizationCode(db: Db, codeHash: string): Promise<AuthorizationCodeRow | undefined> {
  const [row] = await db.delete(authorizationCodes).where(eq(authorizationCodes.codeHash, codeHash)).returning();
  return row;
}

/** The OIDC clients a user is signed in to (live refresh tokens), newest first. */
export async function activeClients(db: Db, userId: string, now: number) {
  return db
    .select({ clientId: refreshTokens.clientId, since: sql<number>`min(${refreshTokens.createdAt})`, tokens: sql<number>`count(*)` })
    .from(refreshTokens)
    .where(and(eq(refreshTokens.userId, userId), eq(refreshTokens.revoked, false), gt(refreshTokens.expiresAt, now)))
    .groupBy(refreshTokens.clientId)
    .orderBy(sql`min(${refreshTokens.createdAt}) desc`);
}

/** Signs a user out of one client: its refresh tokens stop working. */
export async function revokeClient(db: Db, userId: string, clientId: string) {
  await db.update(refreshTokens).set({ revoked: true }).where(and(eq(refreshTokens.userId, userId), eq(refreshTokens.clientId, clientId)));
}
