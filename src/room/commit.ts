/**
 * The one end of every room change. An operation validates, authorises and writes storage without
 * an await; then `finish` (still without an await until the alarm is armed) saves the meta row,
 * records what D1 must learn, tells every live presence of both dialects, arms the alarm, and
 * finally flushes the D1 index.
 *
 * The alarm has four duties: sessions that stop pinging, activity counts for the D1 summary
 * (coalesced), the lobby timer, and pending D1 index writes (retried until they succeed). Presences
 * add their own (OpenTalk's socket heartbeat).
 */
import { ROOM_SCOPE } from "./chat-store";
import { INDEX_RETRY_MS, type IndexSync } from "./index-sync";
import type { Presence, RoomChange } from "./presence";
import type { RoomStore } from "./store";

/** A room created for an event that no event claims after this long was orphaned by a crash. */
export const ORPHAN_GRACE_SECONDS = 30;
/** Activity counts reach the D1 summary at most this often per room. */
export const COUNTS_PUBLISH_SECONDS = 5;
/** Sessions not pinged for this long are ended (Talk's SESSION_TIMEOUT_KILL = 3×30+10 s). */
export const SESSION_KILL_SECONDS = 100;

export class Commit {
  /** The alarm as last set (ms) or null; read once at start-up, then kept here. */
  private alarmAt: number | null = null;
  /** The alarm was brought forward for pending index writes (moved back once they are written). */
  private forIndex = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly store: RoomStore,
    private readonly index: IndexSync,
    private readonly presences: () => Presence[],
  ) {}

  /** Reads the stored alarm (in the constructor's blockConcurrencyWhile). */
  async start(): Promise<void> {
    this.alarmAt = await this.storage.getAlarm();
  }

  /** The alarm fired: none is set until `arm` sets the next. */
  fired(): void {
    this.alarmAt = null;
  }

  /** Persists and announces one operation's change, then writes the D1 index through. */
  async finish(change: RoomChange): Promise<void> {
    // The D1 summary follows the room chat (its last message and counts), not OpenTalk's private chats.
    const roomChat = change.chat || change.historyCleared !== null || change.messages.some((m) => m.scope === ROOM_SCOPE);
    if ((change.settings || roomChat) && this.store.meta) this.store.saveMeta();
    // Pending index writes and the alarm that retries them are one atomic write with the change.
    const armed = this.arm();
    for (const presence of this.presences()) presence.changed(change, this.store.meta);
    await armed;
    await this.flushIndex();
  }

  /** Writes the D1 index; a failure leaves it pending for the alarm, it does not fail the request. */
  async flushIndex(): Promise<void> {
    if (!this.store.indexDue()) return;
    try {
      await this.index.flush();
    } catch (err) {
      console.warn("room index: D1 write failed, retried by the alarm", err);
      return;
    }
    await this.arm();
  }

  /** Sets the alarm to the earliest duty, or deletes it when nothing is due. */
  arm(): Promise<void> {
    const indexDue = this.store.indexDue();
    const at = this.nextAlarm(indexDue);
    const early = this.forIndex && !indexDue;
    this.forIndex = indexDue;
    if (at === null) {
      if (this.alarmAt === null) return Promise.resolve();
      this.alarmAt = null;
      return this.storage.deleteAlarm();
    }
    // An alarm already due sooner covers this duty too (its handler re-arms), unless it was only
    // brought forward for index writes that are done now.
    if (this.alarmAt !== null && this.alarmAt <= at && !early) return Promise.resolve();
    if (this.alarmAt === at) return Promise.resolve();
    this.alarmAt = at;
    return this.storage.setAlarm(at);
  }

  private nextAlarm(indexDue: boolean): number | null {
    const candidates: number[] = [];
    if (indexDue) candidates.push(Date.now() + INDEX_RETRY_MS);
    const meta = this.store.meta;
    if (meta) {
      const live = this.store.sessionFacts();
      if (live.oldestPing !== null) candidates.push((live.oldestPing + SESSION_KILL_SECONDS + 1) * 1000);
      if (live.activeUsers !== meta.activeUsers || live.activeGuests !== meta.activeGuests) candidates.push(Date.now() + COUNTS_PUBLISH_SECONDS * 1000);
      if (meta.lobbyState === 1 && meta.lobbyTimer > 0) candidates.push(meta.lobbyTimer * 1000);
      if (this.store.hasPending("orphan-check")) candidates.push((meta.createdAt + ORPHAN_GRACE_SECONDS + 1) * 1000);
    }
    for (const presence of this.presences()) {
      const at = presence.nextAlarm();
      if (at !== null) candidates.push(at);
    }
    return candidates.length === 0 ? null : Math.min(...candidates);
  }
}
