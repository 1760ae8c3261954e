/** Room index queries (D1): a user's rooms, and the one-to-one lookup. */
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { rowDecoder } from "./positional";
import { roomMembers, rooms } from "./schema";

/** What a conversation list shows of a room and of the user's index row (not the bookkeeping). */
const roomRow = rowDecoder(rooms, [
  "serial", "id", "token", "type", "name", "description", "hasPassword", "readOnly", "listable", "lobbyState", "lobbyTimer", "sipEnabled",
  "defaultPermissions", "callFlag", "callStartTime", "lastActivity", "objectType", "objectId", "activeUsers", "activeGuests", "lastMessage",
  "commentCount", "messageCount", "lastCommonRead",
]);
const memberRow = rowDecoder(roomMembers, [
  "attendeeId", "participantType", "permissions", "favorite", "notificationLevel", "notificationCalls", "pin", "lastReadMessage", "readCount",
  "lastMentionMessage", "lastMentionDirect",
]);
export type ListedRoom = ReturnType<typeof roomRow.decode>;
export type ListedMember = ReturnType<typeof memberRow.decode>;

/** The conversation list's one query, built once per database (it is asked for on every app start). */
function roomsOfUserQuery(db: Db) {
  return db
    .select({ room: roomRow.columns, member: memberRow.columns })
    .from(roomMembers)
    .innerJoin(rooms, eq(rooms.id, roomMembers.roomId))
    .where(eq(roomMembers.userId, sql.placeholder("user")))
    .orderBy(rooms.serial)
    .prepare();
}
const prepared = new WeakMap<Db, ReturnType<typeof roomsOfUserQuery>>();

/** A user's rooms with their index row, in creation order. */
export async function roomsOfUser(db: Db, userUuid: string): Promise<{ room: ListedRoom; member: ListedMember }[]> {
  let query = prepared.get(db);
  if (!query) {
    query = roomsOfUserQuery(db);
    prepared.set(db, query);
  }
  const values: unknown[][] = await query.values({ user: userUuid });
  return values.map((v) => ({ room: roomRow.decode(v, 0), member: memberRow.decode(v, roomRow.width) }));
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
