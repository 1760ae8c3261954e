/** User statuses (Nextcloud's user_status app) in D1. */
import { eq, inArray } from "drizzle-orm";
import { inChunks } from "./chunks";
import type { Db } from "./client";
import { userStatuses } from "./schema";

export type UserStatusRow = typeof userStatuses.$inferSelect;

export async function findUserStatus(db: Db, userId: string): Promise<UserStatusRow | undefined> {
  return db.query.userStatuses.findFirst({ where: eq(userStatuses.userId, userId) });
}

export async function findUserStatuses(db: Db, userIds: string[]): Promise<UserStatusRow[]> {
  if (userIds.length === 0) return [];
  return inChunks(userIds, (chunk) => db.select().from(userStatuses).where(inArray(userStatuses.userId, chunk)));
}

export async function saveUserStatus(db: Db, row: UserStatusRow): Promise<UserStatusRow> {
  const [saved] = await db.insert(userStatuses).values(row).onConflictDoUpdate({ target: userStatuses.userId, set: row }).returning();
  return saved as UserStatusRow;
}
