/**
 * One Durable Object per room: the authoritative members, sessions, call flags and lobby state,
 * in memory and in the object's SQLite storage. Dialect layers (src/talk, src/opentalk) call the
 * RPC methods below and translate the results; nothing here knows about either wire format.
 */
import { DurableObject } from "cloudflare:workers";
import { IndexSync } from "./index-sync";
import { migrate } from "./schema";
import { fail, ok, type Caller, type Outcome } from "./outcome";
import { attendeeFromRow, metaFromRow, sessionFromRow } from "./store";
import { ParticipantType, RoomType, type Attendee, type NewMember, type RoomInit, type RoomMeta, type RoomSnapshot, type Session } from "./types";
import { ALNUM, randomString, sha1Hex, verifyPassword } from "../lib/crypto";

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Sessions not pinged for this long are ended (Talk's SESSION_TIMEOUT_KILL = 3×30+10 s). */
export const SESSION_KILL_SECONDS = 100;

/** What a caller sees of a room: the room, their attendee row and their current session. */
export interface CallerView {
  meta: RoomMeta;
  attendee: Attendee | null;
  session: Session | null;
}

export class Room extends DurableObject<Env> {
  private meta: RoomMeta | null = null;
  /** Changes whenever the object is (re)constructed; lets tests prove an eviction happened. */
  private readonly nonce = crypto.randomUUID();
  private readonly index: IndexSync;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.index = new IndexSync(env.DB, {
      meta: () => this.meta,
      userAttendee: (uuid) => this.userAttendee(uuid),
    });
    ctx.blockConcurrencyWhile(async () => {
      migrate(ctx.storage.sql);
      this.meta = this.loadMeta();
    });
  }

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  private loadMeta(): RoomMeta | null {
    const row = this.sql.exec("SELECT * FROM meta LIMIT 1").toArray()[0];
    return row ? metaFromRow(row) : null;
  }

  private userAttendee(userUuid: string): Attendee | null {
    const row = this.sql.exec("SELECT * FROM attendees WHERE user_uuid = ?", userUuid).toArray()[0];
    return row ? attendeeFromRow(row) : null;
  }

  /** Bumps the version and persists the in-memory meta row. */
  private saveMeta(): void {
    const m = this.meta;
    if (!m) return;
    m.version += 1;
    this.sql.exec(
      `UPDATE meta SET token=?, type=?, name=?, description=?, created_by=?, password_hash=?, password_sealed=?,
         read_only=?, listable=?, lobby_state=?, lobby_timer=?, sip_enabled=?, default_permissions=?,
         call_start_time=?, call_flag=?, last_activity=?, object_type=?, object_id=?, version=? WHERE id=?`,
      m.token, m.type, m.name, m.description, m.createdBy, m.passwordHash, m.passwordSealed, m.readOnly, m.listable,
      m.lobbyState, m.lobbyTimer, m.sipEnabled, m.defaultPermissions, m.callStartTime, m.callFlag, m.lastActivity,
      m.objectType, m.objectId, m.version, m.id,
    );
    this.index.markRoom();
  }

  // -------------------------------------------------------------------------------------------
  // RPC

  async instanceNonce(): Promise<string> {
    return this.nonce;
  }

  /** Creates the room (idempotent for the same id); the owner becomes attendee type 1. */
  async create(init: RoomInit): Promise<RoomSnapshot> {
    if (!this.meta) {
      const now = nowSeconds();
      this.sql.exec(
        `INSERT INTO meta (id, token, type, name, description, created_by, created_at, password_hash, password_sealed,
           lobby_state, last_activity, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
        init.id, init.token, init.type, init.name, init.description ?? "", init.createdBy, now,
        init.passwordHash ?? null, init.passwordSealed ?? null, init.lobbyState ?? 0, now,
      );
      if (init.owner) {
        this.sql.exec(
          `INSERT INTO attendees (actor_type, actor_id, display_name, participant_type, user_uuid, created_at)
           VALUES (?, ?, ?, 1, ?, ?)`,
          init.owner.actorType, init.owner.actorId, init.owner.displayName, init.owner.userUuid ?? null, now,
        );
        this.index.markUser(init.owner.userUuid);
      }
      for (const m of init.members ?? []) {
        this.sql.exec(
          `INSERT OR IGNORE INTO attendees (actor_type, actor_id, display_name, participant_type, user_uuid, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
          m.actorType, m.actorId, m.displayName, m.participantType, m.userUuid ?? null, now,
        );
        this.index.markUser(m.userUuid);
      }
      this.meta = this.loadMeta();
      this.saveMeta();
    }
    await this.index.flush();
    return this.snapshotNow() as RoomSnapshot;
  }

  /** The caller's view, or null when the room does not exist. */
  async view(caller: Caller): Promise<CallerView | null> {
    if (!this.meta) return null;
    const session = this.callerSession(caller);
    const attendee = this.callerAttendee(caller, session);
    return { meta: { ...this.meta }, attendee, session: session && attendee && session.attendeeId === attendee.id ? session : null };
  }

  /** Adds members, skipping those already present; a self-joined user becomes a regular member. */
  async addMembers(members: NewMember[]): Promise<number> {
    if (!this.meta) return 0;
    let added = 0;
    const now = nowSeconds();
    for (const m of members) {
      const existing = this.attendeeByActor(m.actorType, m.actorId);
      if (existing) {
        if (existing.participantType === ParticipantType.UserSelfJoined && m.participantType === ParticipantType.User) {
          this.sql.exec("UPDATE attendees SET participant_type = ? WHERE id = ?", ParticipantType.User, existing.id);
          this.index.markUser(m.userUuid);
        }
        continue;
      }
      this.sql.exec(
        `INSERT INTO attendees (actor_type, actor_id, display_name, participant_type, user_uuid, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        m.actorType, m.actorId, m.displayName, m.participantType, m.userUuid ?? null, now,
      );
      this.index.markUser(m.userUuid);
      added += 1;
    }
    if (added > 0) this.saveMeta();
    await this.index.flush();
    return added;
  }

  /**
   * Starts a session for the caller (Talk "join conversation"; OpenTalk joins reuse it).
   * Non-members may join public rooms (users as self-joined, guests as guests) with the password.
   */
  async join(caller: Caller, options: { password?: string; force: boolean }): Promise<Outcome<CallerView>> {
    if (!this.meta) return fail(404, "room");
    const before = this.callerAttendee(caller, this.callerSession(caller));
    const hadSession = this.callerSession(caller) !== null;
    if (!before) {
      const meta = this.meta;
      const selfJoinAllowed = meta.type === RoomType.Public || (caller.kind === "user" && meta.listable > 0 && meta.type === RoomType.Group);
      if (!selfJoinAllowed) return fail(404, "room");
    }
    const needsPassword =
      this.meta.passwordHash !== null && (!before || (before.participantType === ParticipantType.UserSelfJoined && !hadSession));
    if (needsPassword && !(await verifyPassword(options.password ?? "", this.meta.passwordHash as string))) return fail(403, "password");
    const sessionId = randomString(255, ALNUM) + (caller.tabId ? `$${caller.tabId}` : "");
    const guestActorId = await sha1Hex(sessionId);

    // No awaits below until the writes are done: they form one atomic batch.
    const meta = this.meta;
    if (!meta) return fail(404, "room");
    const previous = this.callerSession(caller);
    if (previous && !options.force && previous.inCall !== 0) {
      return fail(409, "conflict", { sessionId: previous.id, inCall: previous.inCall, lastPing: previous.lastPing });
    }
    if (previous) this.sql.exec("DELETE FROM sessions WHERE id = ?", previous.id);
    const attendee = this.callerAttendee(caller, previous) ?? this.createCallerAttendee(caller, meta, guestActorId);
    const now = nowSeconds();
    this.sql.exec(
      "INSERT INTO sessions (id, attendee_id, cookie, in_call, last_ping, state, created_at) VALUES (?, ?, ?, 0, ?, 1, ?)",
      sessionId, attendee.id, this.cookieKey(caller), now, now,
    );
    await this.armSessionExpiry();
    await this.index.flush();
    return ok({ meta: { ...meta }, attendee, session: this.sessionById(sessionId) as Session });
  }

  /** Ends the caller's session here; self-joined users and unnamed guests leave with their last session. */
  async leave(caller: Caller): Promise<void> {
    const session = this.callerSession(caller);
    if (!session) return;
    this.sql.exec("DELETE FROM sessions WHERE id = ?", session.id);
    this.dropTransientAttendee(session.attendeeId);
    await this.index.flush();
  }

  override async alarm(): Promise<void> {
    const cutoff = nowSeconds() - SESSION_KILL_SECONDS;
    const stale = this.sql.exec("SELECT id, attendee_id FROM sessions WHERE last_ping < ?", cutoff).toArray();
    for (const row of stale) {
      this.sql.exec("DELETE FROM sessions WHERE id = ?", row.id);
      this.dropTransientAttendee(row.attendee_id as number);
    }
    await this.armSessionExpiry();
    await this.index.flush();
  }

  async snapshot(): Promise<RoomSnapshot | null> {
    return this.snapshotNow();
  }

  private snapshotNow(): RoomSnapshot | null {
    if (!this.meta) return null;
    return {
      meta: { ...this.meta },
      attendees: this.sql.exec("SELECT * FROM attendees ORDER BY id").toArray().map((r) => {
        const { userUuid: _u, ...a } = attendeeFromRow(r);
        return a;
      }),
      sessions: this.sql.exec("SELECT * FROM sessions ORDER BY created_at").toArray().map(sessionFromRow),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  private cookieKey(caller: Caller): string {
    return caller.tabId ? `${caller.cookie}$${caller.tabId}` : caller.cookie;
  }

  private sessionById(id: string): Session | null {
    const row = this.sql.exec("SELECT * FROM sessions WHERE id = ?", id).toArray()[0];
    return row ? sessionFromRow(row) : null;
  }

  /** The caller's Talk session in this room, found through their cookie (+ tab id). */
  private callerSession(caller: Caller): Session | null {
    if (!caller.cookie) return null;
    const row = this.sql.exec("SELECT * FROM sessions WHERE cookie = ? ORDER BY created_at DESC LIMIT 1", this.cookieKey(caller)).toArray()[0];
    return row ? sessionFromRow(row) : null;
  }

  private attendeeByActor(actorType: string, actorId: string): Attendee | null {
    const row = this.sql.exec("SELECT * FROM attendees WHERE actor_type = ? AND actor_id = ?", actorType, actorId).toArray()[0];
    return row ? stripUser(attendeeFromRow(row)) : null;
  }

  private attendeeById(id: number): (Attendee & { userUuid: string | null }) | null {
    const row = this.sql.exec("SELECT * FROM attendees WHERE id = ?", id).toArray()[0];
    return row ? attendeeFromRow(row) : null;
  }

  /** Users are found by actor id; guests only through a session of theirs (their cookie). */
  private callerAttendee(caller: Caller, session: Session | null): Attendee | null {
    if (caller.kind === "user" && caller.userid) return this.attendeeByActor("users", caller.userid);
    if (session) {
      const a = this.attendeeById(session.attendeeId);
      if (a && (a.actorType === "guests" || a.actorType === "emails")) return stripUser(a);
    }
    return null;
  }

  private createCallerAttendee(caller: Caller, meta: RoomMeta, guestActorId: string): Attendee {
    const now = nowSeconds();
    if (caller.kind === "user" && caller.userid) {
      const type = meta.listable > 0 ? ParticipantType.User : ParticipantType.UserSelfJoined;
      this.sql.exec(
        "INSERT INTO attendees (actor_type, actor_id, display_name, participant_type, user_uuid, created_at) VALUES ('users', ?, ?, ?, ?, ?)",
        caller.userid, caller.displayName ?? caller.userid, type, caller.userUuid ?? null, now,
      );
      this.index.markUser(caller.userUuid);
      return this.attendeeByActor("users", caller.userid) as Attendee;
    }
    // Guests: actor id = sha1 of their first session id, stable while they keep their cookie.
    this.sql.exec(
      "INSERT INTO attendees (actor_type, actor_id, display_name, participant_type, created_at) VALUES ('guests', ?, '', ?, ?)",
      guestActorId, ParticipantType.Guest, now,
    );
    return this.attendeeByActor("guests", guestActorId) as Attendee;
  }

  /** Self-joined users and unnamed guests without custom permissions leave with their last session. */
  private dropTransientAttendee(attendeeId: number): void {
    const a = this.attendeeById(attendeeId);
    if (!a) return;
    const remaining = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE attendee_id = ?", attendeeId).one().n;
    if (remaining > 0) return;
    const transientGuest = a.actorType === "guests" && a.displayName === "" && a.permissions === 0 && a.participantType === ParticipantType.Guest;
    if (a.participantType === ParticipantType.UserSelfJoined || transientGuest) {
      this.sql.exec("DELETE FROM attendees WHERE id = ?", attendeeId);
      this.index.markUser(a.userUuid);
    }
  }

  /** One alarm, armed only while sessions exist, at the earliest moment one could go stale. */
  private async armSessionExpiry(): Promise<void> {
    const row = this.sql.exec<{ p: number | null }>("SELECT min(last_ping) AS p FROM sessions").one();
    if (row.p === null) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.ctx.storage.setAlarm((row.p + SESSION_KILL_SECONDS + 1) * 1000);
  }
}

function stripUser(a: Attendee & { userUuid: string | null }): Attendee {
  const { userUuid: _u, ...rest } = a;
  return rest;
}
