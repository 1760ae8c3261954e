/**
 * Messages queued for a Talk session (Talk's internal signaling, fetched by the session's poll),
 * in the room's `signaling_messages` table. Owned by `RoomStore`, which drops a session's queue
 * when the session ends.
 */
export class SignalingQueue {
  /** Sessions with queued messages, or that had some (read once, then kept; a superset is harmless). */
  private queuedFor: Set<string> | null = null;

  constructor(private readonly sql: SqlStorage) {}

  add(sessionId: string, data: string, at: number): void {
    this.sql.exec("INSERT INTO signaling_messages (session_id, data, created_at) VALUES (?, ?, ?)", sessionId, data, at);
    this.queued().add(sessionId);
  }

  count(sessionId: string): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM signaling_messages WHERE session_id = ?", sessionId).one().n;
  }

  /** Hands out and forgets the messages queued for a session, oldest first. */
  take(sessionId: string): string[] {
    const rows = this.sql.exec("SELECT id, data FROM signaling_messages WHERE session_id = ? ORDER BY id", sessionId).toArray();
    if (rows.length > 0) this.sql.exec("DELETE FROM signaling_messages WHERE session_id = ? AND id <= ?", sessionId, rows[rows.length - 1]?.id as number);
    return rows.map((r) => r.data as string);
  }

  /** A session ended: its queue goes (no statement when it never had one). */
  drop(sessionId: string): void {
    if (!this.queued().has(sessionId)) return;
    this.sql.exec("DELETE FROM signaling_messages WHERE session_id = ?", sessionId);
    this.queuedFor?.delete(sessionId);
  }

  /** The room was emptied (its table with it). */
  reset(): void {
    this.queuedFor = null;
  }

  private queued(): Set<string> {
    this.queuedFor ??= new Set(this.sql.exec<{ session_id: string }>("SELECT DISTINCT session_id FROM signaling_messages").toArray().map((r) => r.session_id));
    return this.queuedFor;
  }
}
