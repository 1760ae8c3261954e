/** Push devices and the per-user push signing keys in D1. */
import { eq } from "drizzle-orm";
import type { Db } from "./client";
import { pushDevices, userKeys } from "./schema";

export type PushDeviceRow = typeof pushDevices.$inferSelect;

export async function findUserKey(db: Db, userId: string) {
  return db.query.userKeys.findFirst({ where: eq(userKeys.userId, userId) });
}

/** Stores a new key pair unless one exists (two first registrations at once keep the first). */
export async function insertUserKey(db: Db, userId: string, publicKeyPem: string, sealedPrivateKey: string) {
  await db.insert(userKeys).values({ userId, publicKeyPem, sealedPrivateKey }).onConflictDoNothing();
  return findUserKey(db, userId);
}

export async function findPushDevice(db: Db, appPasswordId: string): Promise<PushDeviceRow | undefined> {
  return db.query.pushDevices.findFirst({ where: eq(pushDevices.appPasswordId, appPasswordId) });
}

export async function savePushDevice(db: Db, row: Omit<PushDeviceRow, "createdAt">) {
  await db.insert(pushDevices).values(row).onConflictDoUpdate({ target: pushDevices.appPasswordId, set: row });
}

export async function deletePushDevice(db: Db, appPasswordId: string): Promise<boolean> {
  const gone = await db.delete(pushDevices).where(eq(pushDevices.appPasswordId, appPasswordId)).returning({ id: pushDevices.appPasswordId });
  return gone.length > 0;
}

export async function userPushDevices(db: Db, userId: string): Promise<PushDeviceRow[]> {
  return db.select().from(pushDevices).where(eq(pushDevices.userId, userId));
}
