/**
 * D1 queries behind the OpenTalk room endpoints: who may see a room, invite codes, SIP configs and
 * single-use signaling tickets. The room DO stays authoritative for live state; these tables hold
 * what the reference keeps in its database (invites, SIP) or in Redis (tickets).
 */
import { and, asc, count, eq, gt, lt, sql } from "drizzle-orm";
import type { Db } from "./client";
import { otInvites, otSipConfigs, roomMembers, rooms, signalingTickets, type OtInviteRow, type OtSipConfigRow, type RoomRow } from "./schema";
import { DIGITS, randomString, sha256Hex } from "../lib/crypto";

export async function findRoomSummary(db: Db, id: string): Promise<RoomRow | undefined> {
  return db.select().from(rooms).where(eq(rooms.id, id)).get();
}

export async function isRoomMember(db: Db, roomId: string, userUuid: string): Promise<boolean> {
  const row = await db
    .select({ n: count() })
    .from(roomMembers)
    .where(and(eq(roomMembers.roomId, roomId), eq(roomMembers.userId, userUuid)))
    .get();
  return (row?.n ?? 0) > 0;
}

/** One page of the rooms a user may see (their memberships; every room for administrators). */
export async function accessibleRoomsPage(db: Db, userUuid: string, all: boolean, limit: number, offset: number): Promise<{ rows: RoomRow[]; total: number }> {
  if (all) {
    const rows = await db.select().from(rooms).orderBy(asc(rooms.serial)).limit(limit).offset(offset);
    const total = (await db.select({ n: count() }).from(rooms).get())?.n ?? 0;
    return { rows, total };
  }
  const mine = eq(roomMembers.userId, userUuid);
  const rows = await db
    .select({ room: rooms })
    .from(roomMembers)
    .innerJoin(rooms, eq(rooms.id, roomMembers.roomId))
    .where(mine)
    .orderBy(asc(rooms.serial))
    .limit(limit)
    .offset(offset);
  const total = (await db.select({ n: count() }).from(roomMembers).where(mine).get())?.n ?? 0;
  return { rows: rows.map((r) => r.room), total };
}

// ---------------------------------------------------------------------------------------------
// Invite codes

export async function createInvite(db: Db, roomId: string, userUuid: string, expiration: number | null): Promise<OtInviteRow> {
  const now = Date.now();
  const [row] = await db
    .insert(otInvites)
    .values({ code: crypto.randomUUID(), roomId, createdBy: userUuid, createdAt: now, updatedBy: userUuid, updatedAt: now, active: true, expiration })
    .returning();
  return row as OtInviteRow;
}

export async function findInvite(db: Db, code: string): Promise<OtInviteRow | undefined> {
  return db.select().from(otInvites).where(eq(otInvites.code, code.toLowerCase())).get();
}

/** Usable for joining: active and not expired. */
export function inviteUsable(invite: OtInviteRow | undefined, now = Date.now()): invite is OtInviteRow {
  return !!invite && invite.active && (invite.expiration === null || invite.expiration > now);
}

export async function listInvitesPage(db: Db, roomId: string, limit: number, offset: number): Promise<{ rows: OtInviteRow[]; total: number }> {
  const rows = await db.select().from(otInvites).where(eq(otInvites.roomId, roomId)).orderBy(asc(otInvites.createdAt), asc(otInvites.code)).limit(limit).offset(offset);
  const total = (await db.select({ n: count() }).from(otInvites).where(eq(otInvites.roomId, roomId)).get())?.n ?? 0;
  return { rows, total };
}

export async function updateInvite(db: Db, code: string, fields: { expiration?: number | null; active?: boolean }, userUuid: string): Promise<OtInviteRow | undefined> {
  const [row] = await db
    .update(otInvites)
    .set({ ...fields, updatedBy: userUuid, updatedAt: Date.now() })
    .where(eq(otInvites.code, code))
    .returning();
  return row;
}

// ---------------------------------------------------------------------------------------------
// SIP configs

export const SIP_DIGITS = 10;

export async function findSipConfig(db: Db, roomId: string): Promise<OtSipConfigRow | undefined> {
  return db.select().from(otSipConfigs).where(eq(otSipConfigs.roomId, roomId)).get();
}

export async function findSipConfigBySipId(db: Db, sipId: string): Promise<OtSipConfigRow | undefined> {
  return db.select().from(otSipConfigs).where(eq(otSipConfigs.sipId, sipId)).get();
}

/** Creates a config with a fresh unique 10-digit id (retried on collision, as the reference does). */
export async function createSipConfig(db: Db, roomId: string, fields: { password?: string; lobby?: boolean }): Promise<OtSipConfigRow> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const [row] = await db
      .insert(otSipConfigs)
      .values({ roomId, sipId: randomString(SIP_DIGITS, DIGITS), password: fields.password ?? randomString(SIP_DIGITS, DIGITS), lobby: fields.lobby ?? false })
      .onConflictDoNothing({ target: otSipConfigs.sipId })
      .returning();
    if (row) return row;
  }
  throw new Error("could not allocate a unique SIP id");
}

export async function updateSipConfig(db: Db, roomId: string, fields: { password?: string; lobby?: boolean }): Promise<OtSipConfigRow | undefined> {
  const [row] = await db.update(otSipConfigs).set(fields).where(eq(otSipConfigs.roomId, roomId)).returning();
  return row;
}

export async function deleteSipConfig(db: Db, roomId: string): Promise<void> {
  await db.delete(otSipConfigs).where(eq(otSipConfigs.roomId, roomId));
}

// ---------------------------------------------------------------------------------------------
// Signaling tickets

/** The reference keeps tickets for 30 seconds. */
export const TICKET_TTL_MS = 30_000;
export const TICKET_LENGTH = 64;

/** Stores a ticket (hashed) for a room; expired tickets are swept on the way. */
export async function storeTicket(db: Db, ticket: string, roomId: string, entrant: unknown): Promise<void> {
  const now = Date.now();
  await db.batch([
    db.delete(signalingTickets).where(lt(signalingTickets.expiresAt, now)),
    db.insert(signalingTickets).values({ ticketHash: await sha256Hex(ticket), roomId, entrant: JSON.stringify(entrant), expiresAt: now + TICKET_TTL_MS }),
  ]);
}

/** Redeems a ticket: read-and-delete in one statement, so it works exactly once. */
export async function redeemTicket(db: Db, ticket: string): Promise<{ roomId: string; entrant: unknown } | null> {
  const [row] = await db
    .delete(signalingTickets)
    .where(and(eq(signalingTickets.ticketHash, await sha256Hex(ticket)), gt(signalingTickets.expiresAt, sql`${Date.now()}`)))
    .returning();
  return row ? { roomId: row.roomId, entrant: JSON.parse(row.entrant) } : null;
}
