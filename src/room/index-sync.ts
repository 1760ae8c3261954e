/**
 * Write-through of the room summary and the per-user room index to D1.
 *
 * The room DO marks what changed; `flush()` runs serialised (one at a time, in order) and reads
 * the DO's *current* state when it runs, so D1 always converges to the latest state even when
 * mutations interleave while a write is in flight. Session churn never reaches D1.
 */
import { and, eq, lt, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { BatchItem } from "drizzle-orm/batch";
import { roomMembers, rooms } from "../db/schema";
import type { Attendee, RoomMeta } from "./types";

export interface IndexSource {
  meta(): RoomMeta | null;
  userAttendee(userUuid: string): Attendee | null;
}

export class IndexSync {
  private roomDirty = false;
  private deleted = false;
  private readonly users = new Set<string>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly d1: D1Database,
    private readonly source: IndexSource,
  ) {}

  markRoom(): void {
    this.roomDirty = true;
  }

  markUser(userUuid: string | null | undefined): void {
    if (userUuid) this.users.add(userUuid);
  }

  markDeleted(): void {
    this.deleted = true;
  }

  /** Writes everything marked so far; resolves once D1 reflects it. */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.write());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(): Promise<void> {
    const meta = this.source.meta();
    if (!meta) return;
    const db = drizzle(this.d1);
    if (this.deleted) {
      await db.delete(rooms).where(eq(rooms.id, meta.id));
      this.deleted = false;
      this.roomDirty = false;
      this.users.clear();
      return;
    }
    const roomDirty = this.roomDirty;
    const users = [...this.users];
    if (!roomDirty && users.length === 0) return;
    this.roomDirty = false;
    this.users.clear();

    const statements: BatchItem<"sqlite">[] = [];
    if (roomDirty) {
      const summary = {
        id: meta.id,
        token: meta.token,
        type: meta.type,
        name: meta.name,
        description: meta.description,
        createdBy: meta.createdBy,
        createdAt: meta.createdAt,
        hasPassword: meta.passwordHash !== null,
        readOnly: meta.readOnly,
        listable: meta.listable,
        lobbyState: meta.lobbyState,
        lobbyTimer: meta.lobbyTimer,
        sipEnabled: meta.sipEnabled,
        defaultPermissions: meta.defaultPermissions,
        callFlag: meta.callFlag,
        callStartTime: meta.callStartTime,
        lastActivity: meta.lastActivity,
        objectType: meta.objectType,
        objectId: meta.objectId,
        activeUsers: meta.activeUsers,
        activeGuests: meta.activeGuests,
        version: meta.version,
      };
      const { id: _id, ...update } = summary;
      statements.push(
        db
          .insert(rooms)
          .values(summary)
          .onConflictDoUpdate({ target: rooms.id, set: update, setWhere: sql`${rooms.version} <= excluded.version` }),
      );
    }
    for (const userUuid of users) {
      const a = this.source.userAttendee(userUuid);
      if (a) {
        const row = {
          roomId: meta.id,
          userId: userUuid,
          attendeeId: a.id,
          participantType: a.participantType,
          permissions: a.permissions,
          favorite: a.favorite,
          notificationLevel: a.notificationLevel,
          notificationCalls: a.notificationCalls,
          pin: a.pin,
          version: meta.version,
        };
        const { roomId: _r, userId: _u, ...update } = row;
        statements.push(db.insert(roomMembers).values(row).onConflictDoUpdate({ target: [roomMembers.roomId, roomMembers.userId], set: update }));
      } else {
        statements.push(
          db.delete(roomMembers).where(and(eq(roomMembers.roomId, meta.id), eq(roomMembers.userId, userUuid), lt(roomMembers.version, meta.version + 1))),
        );
      }
    }
    try {
      await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    } catch (err) {
      if (roomDirty) this.roomDirty = true;
      for (const u of users) this.users.add(u);
      throw err;
    }
  }
}
