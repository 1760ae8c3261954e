/** Room index queries (D1): a user's rooms, and the one-to-one lookup. */
import { and, eq } from "drizzle-orm";
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
