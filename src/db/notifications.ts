/** Notification rows (Nextcloud notifications API): add, list and dismiss per user. */
import { and, desc, eq, inArray, like } from "drizzle-orm";
import { inChunks } from "./chunks";
import type { Db } from "./client";
import { notifications } from "./schema";

export interface NewNotification {
  userId: string;
  app: string;
  objectType: string;
  objectId: string;
  subject: string;
  parameters: Record<string, unknown>;
}

/** D1 binds at most 100 parameters per statement; a row binds six. */
const ROWS_PER_INSERT = 16;

/** Inserts the notifications; resolves with their ids, in order. */
export async function addNotifications(db: Db, items: NewNotification[]): Promise<number[]> {
  const rows = items.map((n) => ({ ...n, parameters: JSON.stringify(n.parameters) }));
  const inserts = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    inserts.push(db.insert(notifications).values(rows.slice(i, i + ROWS_PER_INSERT)).returning({ id: notifications.id }));
  }
  const [first, ...rest] = inserts;
  if (!first) return [];
  const results = await db.batch([first, ...rest]);
  return results.flat().map((r) => r.id);
}

export async function notificationsOf(db: Db, userId: string, limit = 200) {
  return db.select().from(notifications).where(eq(notifications.userId, userId)).orderBy(desc(notifications.id)).limit(limit);
}

/** Deletes one notification of the user; false when there was none. */
export async function dismissNotification(db: Db, userId: string, id: number): Promise<boolean> {
  const gone = await db.delete(notifications).where(and(eq(notifications.userId, userId), eq(notifications.id, id))).returning({ id: notifications.id });
  return gone.length > 0;
}

export async function dismissAllNotifications(db: Db, userId: string): Promise<void> {
  await db.delete(notifications).where(eq(notifications.userId, userId));
}

/** Withdraws the notifications about one object (a room's call) from the given users. */
export async function withdrawNotifications(db: Db, objectType: string, objectId: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await inChunks(userIds, async (chunk) => {
    await db.delete(notifications).where(and(eq(notifications.objectType, objectType), eq(notifications.objectId, objectId), inArray(notifications.userId, chunk)));
    return [];
  });
}

/** Withdraws the notifications about one object from everyone (a deleted chat message). */
export async function withdrawObjectNotifications(db: Db, objectType: string, objectId: string): Promise<void> {
  await db.delete(notifications).where(and(eq(notifications.objectType, objectType), eq(notifications.objectId, objectId)));
}

/** Withdraws a user's chat notifications of one room (they read it to the end). Ids are `token/messageId`. */
export async function withdrawChatNotifications(db: Db, token: string, userId: string): Promise<void> {
  await db
    .delete(notifications)
    .where(and(eq(notifications.objectType, "chat"), like(notifications.objectId, `${token}/%`), eq(notifications.userId, userId)));
}
