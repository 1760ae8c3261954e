/**
 * The D1 index of the room: its summary row (`rooms`) and the per-user membership rows
 * (`room_members`) that room lists read. The room object is the authority; D1 follows it.
 *
 * What D1 still has to learn is recorded in the room's own storage (`index_pending`, store.ts), in
 * the same write as the change itself, and the room's alarm stays armed while anything is pending.
 * `flush()` writes the *current* state for each pending key and forgets the keys it wrote (unless
 * they were marked again meanwhile), so a crash at any point leaves either the old index plus a
 * pending record that the next flush (a request or the alarm) repairs, or the new index.
 */
import { and, eq, lt, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { drizzle } from "drizzle-orm/d1";
import { roomMembers, rooms } from "../db/schema";
import type { RoomStore } from "./store";

/** While anything is pending, the alarm retries this soon. */
export const INDEX_RETRY_MS = 2_000;

export class IndexSync {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly d1: D1Database,
    private readonly store: RoomStore,
  ) {}

  /** Writes everything pending; resolves once D1 reflects it (rejects when D1 failed: it stays pending). */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.write());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(): Promise<void> {
    const pending = this.store.pending().filter((p) => p.key !== "orphan-check");
    if (pending.length === 0) return;
    const db = drizzle(this.d1);
    const statements: BatchItem<"sqlite">[] = [];
    const meta = this.store.meta;
    for (const p of pending) {
      if (p.key === "deleted") {
        statements.push(db.delete(rooms).where(eq(rooms.id, p.roomId)));
      } else if (!meta) {
        // Marked before a deletion that is pending itself: nothing left to write.
      } else if (p.key === "room") {
        const lastMessage = this.store.chat.lastMessage();
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
          lastMessage: lastMessage ? JSON.stringify(lastMessage) : null,
          commentCount: this.store.chat.commentCount(),
          messageCount: this.store.chat.messageCount(),
          lastCommonRead: this.store.lastCommonRead(),
          groups: JSON.stringify(this.store.attendees("actor_type = 'groups'").map((a) => a.actorId)),
          version: meta.version,
        };
        const { id: _id, ...update } = summary;
        statements.push(db.insert(rooms).values(summary).onConflictDoUpdate({ target: rooms.id, set: update, setWhere: sql`${rooms.version} <= excluded.version` }));
      } else {
        const userUuid = p.key.slice("user:".length);
        const a = this.store.attendeeByUser(userUuid);
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
            lastReadMessage: a.lastReadMessage,
            readCount: a.readCount,
            lastMentionMessage: a.lastMentionMessage,
            lastMentionDirect: a.lastMentionDirect,
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
    }
    // Membership rows reference the summary row: it goes first (pending() is ordered by key, "room" < "user:").
    if (statements.length > 0) await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
    this.store.settled(pending);
  }
}
