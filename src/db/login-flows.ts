/** Nextcloud Login Flow v2 state in D1 (see schema.ts `login_flows`). */
import { and, eq, gt, isNotNull, isNull, lt } from "drizzle-orm";
import type { Db } from "./client";
import { loginFlows } from "./schema";

export type LoginFlowRow = typeof loginFlows.$inferSelect;

export async function createLoginFlow(db: Db, pollHash: string, loginHash: string, clientName: string, expiresAt: number) {
  await db.batch([
    db.delete(loginFlows).where(lt(loginFlows.expiresAt, Math.floor(Date.now() / 1000))),
    db.insert(loginFlows).values({ pollHash, loginHash, clientName: clientName.slice(0, 300), expiresAt }),
  ]);
}

/** A flow whose page may still be used: known, not expired, access not granted yet. */
export async function openLoginFlow(db: Db, loginHash: string, now: number): Promise<LoginFlowRow | undefined> {
  return db.query.loginFlows.findFirst({ where: and(eq(loginFlows.loginHash, loginHash), gt(loginFlows.expiresAt, now), isNull(loginFlows.userId)) });
}

/** Records the grant; false when the flow was granted meanwhile or has expired. */
export async function grantLoginFlow(db: Db, loginHash: string, userId: string, sealedAppPassword: string, now: number): Promise<boolean> {
  const rows = await db
    .update(loginFlows)
    .set({ userId, sealedAppPassword })
    .where(and(eq(loginFlows.loginHash, loginHash), gt(loginFlows.expiresAt, now), isNull(loginFlows.userId)))
    .returning({ pollHash: loginFlows.pollHash });
  return rows.length > 0;
}

/** The one successful poll: takes the granted flow out of the table. */
export async function takeGrantedLoginFlow(db: Db, pollHash: string, now: number): Promise<LoginFlowRow | undefined> {
  const [row] = await db
    .delete(loginFlows)
    .where(and(eq(loginFlows.pollHash, pollHash), gt(loginFlows.expiresAt, now), isNotNull(loginFlows.sealedAppPassword)))
    .returning();
  return row;
}
