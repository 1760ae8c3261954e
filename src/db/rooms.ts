/** Room index queries (D1): a user's rooms, and the one-to-one lookup. */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { roomMembers, rooms } from "./schema";

export async function roomsOfUser(db: Db, userUuid: string) {
  return db
    .select({ room: rooms, member: roomMembers })
    .from(roomMembers)
    .innerJoin(rooms, eq(rooms.id, roomMembers.roomId))
    .where(eq(roomMembers.userId, userUuid))
    .orderBy(rooms.serial);
}

export async function findOneToOne(db: Db, name: string) {
  return db.select().from(rooms).where(and(eq(rooms.type, 1), eq(rooms.name, name))).get();
}

/**
 * The rooms a group is an attendee of (from the summary's `groups`, which each room keeps).
 * A scan of the summaries: group membership changes are rare administrative operations.
 */
export async function roomsWithGroup(db: Db, groupId: string): Promise<string[]> {
  const rows = await db
    .select({ id: rooms.id })
    .from(rooms)
    .where(sql`exists (select 1 from json_each(${rooms.groups}) where json_each.value = ${groupId})`);
  return rows.map((r) => r.id);
}
