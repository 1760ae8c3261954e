/**
 * Every SQL statement on the room's own tables (meta, attendees, sessions, bans, the pending index
 * changes): the one place the room's storage is read and written, with the chat's messages in
 * `chat` (chat-store.ts) and Talk's queued signaling in `queue` (signaling-queue.ts). The meta row
 * is also kept in memory (`meta`); `saveMeta` writes it back and records that the D1 summary must
 * follow. Attendee and session rows are kept in memory too (kept-rows.ts), mirrored by every write
 * below.
 *
 * Statements are synchronous. Several of them run without an await in between form one atomic
 * write of the object (its output gate holds replies until they are durable), which is what makes
 * a state change and its pending index record land together or not at all.
 */
import { ChatStore } from "./chat-store";
import { SignalingQueue } from "./signaling-queue";
import { type AttendeeRow, KeptAttendees, KeptSessions } from "./kept-rows";
import { migrate } from "./migrations";
import { attendeeFromRow, LISTED_COLUMNS, listedAttendeeFromRow, META_COLUMNS, metaFromRow, sessionFromRow } from "./rows";
import { type ListedAttendee, type NewMember, ParticipantType, type RoomInit, type RoomMeta, type Session } from "./types";

/** Sessions of OpenTalk participants live as long as their socket, whatever their last ping. */
const meetingSession = (s: Session) => s.cookie.startsWith("meeting:");

export type { AttendeeRow } from "./kept-rows";

/** "Users" for the last-moderator and last-member rules: owners, moderators and invited users. */
const MEMBER_TYPES: ReadonlySet<number> = new Set([ParticipantType.Owner, ParticipantType.Moderator, ParticipantType.User]);

/** What the D1 index still has to learn: the summary row, one user's membership, the deletion. */
export type PendingKey = "room" | "deleted" | "orphan-check" | `user:${string}`;

/** How many users and guests have a session, and the oldest ping of any session. */
export interface SessionFacts {
  activeUsers: number;
  activeGuests: number;
  oldestPing: number | null;
}

/** A session with its attendee's identity and rights (what the signaling presences list). */
export type SessionWithAttendee = Session & { actorType: string; actorId: string; displayName: string; participantType: number; permissions: number };

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export class RoomStore {
  meta: RoomMeta | null = null;
  /** The chat's messages (chat-store.ts). */
  readonly chat: ChatStore;
  /** Talk's internal signaling messages queued per session (signaling-queue.ts). */
  readonly queue: SignalingQueue;
  /** The keys in `index_pending`, kept in memory so the hot paths ask without a query. */
  private readonly pendingKeys = new Set<PendingKey>();
  /**
   * The participant list's columns of every attendee, read once and kept until an attendee is
   * added, removed or changed in one of those columns (every such write is a method below).
   */
  private listed: readonly ListedAttendee[] | null = null;
  /** `sessionFacts()`, kept until a session starts, ends or pings (every such write is a method below). */
  private facts: SessionFacts | null = null;
  /**
   * Every attendee row (frozen), read once and then kept in step by the write methods below: the
   * hot paths (join, leave, every request's caller lookup) find the caller without a query.
   */
  private keptAttendees: KeptAttendees | null = null;
  /** Every session row (frozen), read once and kept in step the same way. */
  private keptSessions: KeptSessions | null = null;

  constructor(readonly sql: SqlStorage) {
    migrate(sql);
    this.chat = new ChatStore(sql);
    this.queue = new SignalingQueue(sql);
    this.meta = this.loadMeta();
    for (const p of this.pending()) this.pendingKeys.add(p.key);
  }

  private loadMeta(): RoomMeta | null {
    const row = this.sql.exec("SELECT * FROM meta LIMIT 1").toArray()[0];
    return row ? metaFromRow(row) : null;
  }

  // -------------------------------------------------------------------------------------------
  // The meta row

  insertMeta(init: RoomInit, now: number): RoomMeta {
    this.sql.exec(
      `INSERT INTO meta (id, token, type, name, description, created_by, created_at, password_hash, password_sealed,
         lobby_state, last_activity, origin, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
      init.id, init.token, init.type, init.name, init.description ?? "", init.createdBy, now,
      init.passwordHash ?? null, init.passwordSealed ?? null, init.lobbyState ?? 0, now, init.origin ?? "talk",
    );
    this.meta = this.loadMeta() as RoomMeta;
    return this.meta;
  }

  /** Bumps the version, persists the in-memory meta row and records the D1 summary as pending. */
  saveMeta(): void {
    const m = this.meta;
    if (!m) return;
    m.version += 1;
    const keys = Object.keys(META_COLUMNS) as (keyof typeof META_COLUMNS)[];
    this.sql.exec(`UPDATE meta SET ${keys.map((k) => `${META_COLUMNS[k]} = ?`).join(", ")} WHERE id = ?`, ...keys.map((k) => m[k]), m.id);
    this.markPending("room");
  }

  /**
   * Deletes everything the room holds except one record: that D1 must forget it. The object keeps
   * that tombstone until the index has learnt of the deletion.
   */
  wipe(): void {
    const id = this.meta?.id;
    for (const table of ["messages", "chat_settings", "signaling_messages", "sessions", "attendees", "ot_participants", "ot_settings", "ot_talk_peers", "talk_ws_sessions", "talk_ws_peers", "bans", "index_pending", "meta"]) {
      this.sql.exec(`DELETE FROM ${table}`);
    }
    this.meta = null;
    this.listed = null;
    this.facts = null;
    this.keptAttendees = null;
    this.keptSessions = null;
    this.queue.reset();
    this.chat.reset();
    this.pendingKeys.clear();
    if (id) {
      this.sql.exec("INSERT INTO index_pending (key, gen, room_id) VALUES ('deleted', 1, ?)", id);
      this.pendingKeys.add("deleted");
    }
  }

  // -------------------------------------------------------------------------------------------
  // Attendees

  attendeeById(id: number): AttendeeRow | null {
    return this.attendeeRows().get(id);
  }

  attendeeByActor(actorType: string, actorId: string): AttendeeRow | null {
    return this.attendeeRows().ofActor(actorType, actorId);
  }

  attendeeByUser(userUuid: string): AttendeeRow | null {
    return this.attendeeRows().ofUser(userUuid);
  }

  attendeeByPin(pin: string): AttendeeRow | null {
    const row = this.sql.exec("SELECT * FROM attendees WHERE pin = ? AND pin != ''", pin).toArray()[0];
    return row ? attendeeFromRow(row) : null;
  }

  private attendeeRows(): KeptAttendees {
    this.keptAttendees ??= new KeptAttendees(this.sql.exec("SELECT * FROM attendees").toArray().map(attendeeFromRow));
    return this.keptAttendees;
  }

  /** Reads one attendee row again after a write to it (null when it is gone). */
  private reloadAttendee(id: number): AttendeeRow | null {
    const row = this.sql.exec("SELECT * FROM attendees WHERE id = ?", id).toArray()[0];
    const fresh = row ? attendeeFromRow(row) : null;
    this.keptAttendees?.replace(id, fresh);
    return fresh;
  }

  attendees(where = "1 = 1", ...args: SqlStorageValue[]): AttendeeRow[] {
    return this.sql.exec(`SELECT * FROM attendees WHERE ${where} ORDER BY id`, ...args).toArray().map(attendeeFromRow);
  }

  /** Every attendee with only the columns a participant list shows (a third of a row). */
  listedAttendees(): readonly ListedAttendee[] {
    this.listed ??= this.sql.exec(`SELECT ${LISTED_COLUMNS} FROM attendees ORDER BY id`).toArray().map(listedAttendeeFromRow);
    return this.listed;
  }

  /** Owners, moderators and invited users (the members the leave rules count). */
  countMembers(): number {
    let n = 0;
    for (const a of this.attendeeRows().values()) if (MEMBER_TYPES.has(a.participantType)) n++;
    return n;
  }

  countLoggedInModerators(): number {
    let n = 0;
    for (const a of this.attendeeRows().values()) if (a.participantType === ParticipantType.Owner || a.participantType === ParticipantType.Moderator) n++;
    return n;
  }

  insertAttendee(m: NewMember, now: number): AttendeeRow {
    this.sql.exec(
      `INSERT OR IGNORE INTO attendees (actor_type, actor_id, display_name, participant_type, user_uuid, invited_email, created_at,
         last_read_message, read_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      m.actorType, m.actorId, m.displayName, m.participantType, m.userUuid ?? null, m.invitedEmail ?? "", now,
      // A new member has read what was said before they came (the reference does the same).
      this.chat.lastId(), this.chat.commentCount(),
    );
    this.listed = null;
    this.markUser(m.userUuid);
    const fresh = attendeeFromRow(this.sql.exec("SELECT * FROM attendees WHERE actor_type = ? AND actor_id = ?", m.actorType, m.actorId).one());
    this.keptAttendees?.replace(fresh.id, fresh);
    return fresh;
  }

  /** Removes an attendee with their sessions and whatever signaling was queued for them. */
  deleteAttendee(a: AttendeeRow): void {
    for (const s of [...this.sessionRows().values()]) {
      if (s.attendeeId !== a.id) continue;
      this.queue.drop(s.id);
      this.keptSessions?.remove(s.id);
    }
    this.sql.exec("DELETE FROM sessions WHERE attendee_id = ?", a.id);
    this.sql.exec("DELETE FROM attendees WHERE id = ?", a.id);
    this.listed = null;
    this.facts = null;
    this.reloadAttendee(a.id);
    this.markUser(a.userUuid);
  }

  updateAttendee(a: AttendeeRow, set: { participantType?: number; permissions?: number; displayName?: string; pin?: string }): void {
    const next = {
      participant_type: set.participantType ?? a.participantType,
      permissions: set.permissions ?? a.permissions,
      display_name: set.displayName ?? a.displayName,
      pin: set.pin ?? a.pin,
    };
    this.sql.exec(
      "UPDATE attendees SET participant_type = ?, permissions = ?, display_name = ?, pin = ? WHERE id = ?",
      next.participant_type, next.permissions, next.display_name, next.pin, a.id,
    );
    this.listed = null;
    this.reloadAttendee(a.id);
    this.markUser(a.userUuid);
  }

  /** One per-user preference column. */
  setPreference(a: AttendeeRow, column: "favorite" | "notification_level" | "notification_calls", value: number): void {
    this.sql.exec(`UPDATE attendees SET ${column} = ? WHERE id = ?`, value, a.id);
    this.reloadAttendee(a.id);
    this.markUser(a.userUuid);
  }

  /** Moves a member's read marker (-1: nothing read), with the number of comments it covers. */
  setReadMarker(a: AttendeeRow, messageId: number): void {
    this.sql.exec("UPDATE attendees SET last_read_message = ?, read_count = ? WHERE id = ?", messageId, this.chat.commentsUpTo(messageId), a.id);
    this.reloadAttendee(a.id);
    this.markUser(a.userUuid);
  }

  /** Records that a message mentions a member (`direct`: by name, not through @all). */
  markMentioned(a: AttendeeRow, messageId: number, direct: boolean): void {
    this.sql.exec(
      `UPDATE attendees SET last_mention_message = ?${direct ? ", last_mention_direct = ?" : ""} WHERE id = ?`,
      messageId, ...(direct ? [messageId] : []), a.id,
    );
    this.reloadAttendee(a.id);
    this.markUser(a.userUuid);
  }

  /** Marks (or clears) that a user has an invitation notification about this room. */
  setInvitationOpen(attendeeId: number, open: boolean): void {
    this.sql.exec("UPDATE attendees SET invitation_open = ? WHERE id = ?", open ? 1 : 0, attendeeId);
    this.reloadAttendee(attendeeId);
  }

  /** Clears an open invitation; true when there was one. */
  answerInvitation(attendeeId: number): boolean {
    const answered = this.sql.exec("UPDATE attendees SET invitation_open = 0 WHERE id = ? AND invitation_open = 1 RETURNING id", attendeeId).toArray().length > 0;
    if (answered) this.reloadAttendee(attendeeId);
    return answered;
  }

  setReadPrivacy(a: AttendeeRow, privacy: number): void {
    this.sql.exec("UPDATE attendees SET read_privacy = ? WHERE id = ?", privacy, a.id);
    this.reloadAttendee(a.id);
  }

  /** The newest message every user who shares it has read (Talk's lastCommonReadMessage). */
  lastCommonRead(): number {
    let min: number | null = null;
    for (const a of this.attendeeRows().values()) {
      if (a.actorType === "users" && a.readPrivacy === 0 && (min === null || a.lastReadMessage < min)) min = a.lastReadMessage;
    }
    return min ?? 0;
  }

  takenPins(): Set<string> {
    return new Set(this.sql.exec<{ pin: string }>("SELECT pin FROM attendees WHERE pin != ''").toArray().map((r) => r.pin));
  }

  // -------------------------------------------------------------------------------------------
  // Sessions

  sessionById(id: string): Session | null {
    return this.sessionRows().get(id);
  }

  /** The newest session of a cookie (+ tab id). */
  sessionByCookie(cookie: string): Session | null {
    return this.sessionRows().ofCookie(cookie);
  }

  /** Every session, oldest first (kept rows: frozen). */
  sessions(): Session[] {
    return this.sessionsWhere(() => true);
  }

  sessionsOf(attendeeId: number): Session[] {
    return this.sessionsWhere((s) => s.attendeeId === attendeeId);
  }

  /** The kept sessions that `keep` accepts, oldest first (they were read in that order and are added as they start). */
  private sessionsWhere(keep: (s: Session) => boolean): Session[] {
    const out: Session[] = [];
    for (const s of this.sessionRows().values()) if (keep(s)) out.push(s);
    return out;
  }

  private sessionRows(): KeptSessions {
    this.keptSessions ??= new KeptSessions(this.sql.exec("SELECT * FROM sessions ORDER BY created_at").toArray().map(sessionFromRow));
    return this.keptSessions;
  }

  insertSession(s: Session): void {
    this.sql.exec(
      "INSERT INTO sessions (id, attendee_id, cookie, in_call, last_ping, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      s.id, s.attendeeId, s.cookie, s.inCall, s.lastPing, s.state, s.createdAt,
    );
    this.keptSessions?.add(s);
    this.facts = null;
  }

  deleteSession(id: string): void {
    this.queue.drop(id);
    this.sql.exec("DELETE FROM sessions WHERE id = ?", id);
    this.keptSessions?.remove(id);
    this.facts = null;
  }

  /** Talk sessions (not meeting sessions, which live as long as their socket) last pinged before `cutoff`. */
  staleSessions(cutoff: number): Session[] {
    return this.sessionsWhere((s) => s.lastPing < cutoff && !meetingSession(s));
  }

  /** Sessions seen since `since`, meeting sessions always. */
  liveSessions(since: number): Session[] {
    return this.sessionsWhere((s) => s.lastPing >= since || meetingSession(s));
  }

  /** An attendee's Talk sessions in the call (not their meeting session). */
  talkSessionsInCall(attendeeId: number): Session[] {
    return this.sessionsWhere((s) => s.attendeeId === attendeeId && s.inCall !== 0 && !meetingSession(s));
  }

  countSessions(attendeeId: number): number {
    return this.sessionRows().countOf(attendeeId);
  }

  setSessionState(id: string, state: number): void {
    this.sql.exec("UPDATE sessions SET state = ? WHERE id = ?", state, id);
    this.keptSessions?.update(id, { state });
  }

  ping(id: string, at: number): void {
    this.sql.exec("UPDATE sessions SET last_ping = ? WHERE id = ?", at, id);
    this.keptSessions?.update(id, { lastPing: at });
    this.facts = null;
  }

  setInCall(id: string, flags: number): void {
    this.sql.exec("UPDATE sessions SET in_call = ? WHERE id = ?", flags, id);
    this.keptSessions?.update(id, { inCall: flags });
  }

  /** Takes every session out of the call, or only those of attendees without moderator rights. */
  clearInCall(onlyNonModerators = false): void {
    const cleared = onlyNonModerators
      ? this.sql.exec<{ id: string }>(
          `UPDATE sessions SET in_call = 0 WHERE in_call != 0 AND attendee_id IN
             (SELECT id FROM attendees WHERE participant_type NOT IN (?, ?, ?)) RETURNING id`,
          ParticipantType.Owner, ParticipantType.Moderator, ParticipantType.GuestModerator,
        )
      : this.sql.exec<{ id: string }>("UPDATE sessions SET in_call = 0 WHERE in_call != 0 RETURNING id");
    for (const { id } of cleared) this.keptSessions?.update(id, { inCall: 0 });
  }

  /** The OR of every in-call session's flags. */
  callFlags(): number {
    let flags = 0;
    for (const s of this.sessionRows().values()) flags |= s.inCall;
    return flags;
  }

  /** Sessions in the call: of one attendee, or of everyone seen since `since` (meeting sessions always). */
  countInCall(since: number, attendeeId?: number): number {
    const counted = attendeeId !== undefined ? (s: Session) => s.attendeeId === attendeeId : (s: Session) => s.lastPing >= since || meetingSession(s);
    return this.sessionsWhere((s) => s.inCall !== 0 && counted(s)).length;
  }

  /** Sessions in the call since `since`, with who they belong to. */
  callPeers(since: number): { sessionId: string; lastPing: number; actorType: string; actorId: string; displayName: string }[] {
    return this.withAttendees(this.sessionsWhere((s) => s.inCall !== 0 && (s.lastPing >= since || meetingSession(s)))).map((s) => ({
      sessionId: s.id,
      lastPing: s.lastPing,
      actorType: s.actorType,
      actorId: s.actorId,
      displayName: s.displayName,
    }));
  }

  /** Distinct users and guests holding a live session right now. */
  liveCounts(): { activeUsers: number; activeGuests: number } {
    const { activeUsers, activeGuests } = this.sessionFacts();
    return { activeUsers, activeGuests };
  }

  /** The live counts and the oldest ping of any session, in one query (what the alarm plans from). */
  sessionFacts(): Readonly<SessionFacts> {
    if (this.facts) return this.facts;
    const users = new Set<number>();
    const guests = new Set<number>();
    let oldest: number | null = null;
    for (const s of this.sessionRows().values()) {
      const a = this.attendeeById(s.attendeeId);
      if (!a) continue;
      if (a.actorType === "users") users.add(a.id);
      else if (a.actorType === "guests" || a.actorType === "emails") guests.add(a.id);
      if (oldest === null || s.lastPing < oldest) oldest = s.lastPing;
    }
    this.facts = { activeUsers: users.size, activeGuests: guests.size, oldestPing: oldest };
    return this.facts;
  }

  /**
   * Sessions seen since `since` (meeting sessions always) with their attendee's identity and
   * rights; with `inCallOnly`, only sessions in the call that are not meeting sessions.
   */
  sessionsWithAttendees(since: number, o: { inCallOnly?: boolean } = {}): SessionWithAttendee[] {
    const keep = o.inCallOnly ? (s: Session) => s.inCall !== 0 && !meetingSession(s) : (s: Session) => s.lastPing >= since || meetingSession(s);
    return this.withAttendees(this.sessionsWhere(keep));
  }

  private withAttendees(sessions: Session[]): SessionWithAttendee[] {
    const out: SessionWithAttendee[] = [];
    for (const s of sessions) {
      const a = this.attendeeById(s.attendeeId);
      if (a) out.push({ ...s, actorType: a.actorType, actorId: a.actorId, displayName: a.displayName, participantType: a.participantType, permissions: a.permissions });
    }
    return out;
  }


  // -------------------------------------------------------------------------------------------
  // Bans (users kept out of the live meeting and its call until the meeting ends)

  isBanned(userUuid: string | null | undefined): boolean {
    return !!userUuid && this.sql.exec("SELECT 1 FROM bans WHERE user_uuid = ?", userUuid).toArray().length > 0;
  }

  ban(userUuid: string): void {
    this.sql.exec("INSERT OR IGNORE INTO bans (user_uuid) VALUES (?)", userUuid);
  }

  clearBans(): void {
    this.sql.exec("DELETE FROM bans");
  }

  // -------------------------------------------------------------------------------------------
  // Pending D1 index changes, written with the change they describe

  markUser(userUuid: string | null | undefined): void {
    if (userUuid) this.markPending(`user:${userUuid}`);
  }

  markPending(key: PendingKey): void {
    this.pendingKeys.add(key);
    this.sql.exec(
      "INSERT INTO index_pending (key, gen, room_id) VALUES (?, 1, ?) ON CONFLICT (key) DO UPDATE SET gen = gen + 1",
      key, this.meta?.id ?? "",
    );
  }

  pending(): { key: PendingKey; gen: number; roomId: string }[] {
    return this.sql
      .exec("SELECT key, gen, room_id FROM index_pending ORDER BY key")
      .toArray()
      .map((r) => ({ key: r.key as PendingKey, gen: r.gen as number, roomId: r.room_id as string }));
  }

  /** Whether D1 still has anything to learn (`orphan-check` aside), without a query. */
  indexDue(): boolean {
    for (const key of this.pendingKeys) if (key !== "orphan-check") return true;
    return false;
  }

  hasPending(key: PendingKey): boolean {
    return this.pendingKeys.has(key);
  }

  /** Forgets what D1 has learnt, unless it was marked again meanwhile (a newer generation). */
  settled(done: { key: PendingKey; gen: number }[]): void {
    for (const d of done) {
      if (this.sql.exec("DELETE FROM index_pending WHERE key = ? AND gen = ? RETURNING key", d.key, d.gen).toArray().length > 0) this.pendingKeys.delete(d.key);
    }
  }
}

