/**
 * One Durable Object per room: the authoritative members, sessions, call flags and lobby state,
 * in memory and in the object's SQLite storage. Dialect layers (src/talk, src/opentalk) call the
 * RPC methods below and translate the results; nothing here knows about either wire format.
 *
 * Every mutation takes the acting `Caller`, checks access itself and applies its writes without an
 * await in between, so the check and the change are one atomic step of the object.
 */
import { DurableObject } from "cloudflare:workers";
import { IndexSync } from "./index-sync";
import { migrate } from "./schema";
import { fail, FORBIDDEN, ok, type Caller, type Outcome } from "./outcome";
import { attendeeFromRow, META_COLUMNS, metaFromRow, sessionFromRow } from "./store";
import {
  allowedCallFlags,
  CALL_PING_SECONDS,
  isSipCompatibleToken,
  PIN_LENGTH,
  sipDigits,
  USERS_IN_ROOM_SECONDS,
} from "./calls";
import {
  effectivePermissions,
  heldInLobby,
  initialPermissions,
  isLoggedInModeratorType,
  isModeratorType,
  modifyPermissions,
  Permission,
  type PermissionMethod,
} from "./permissions";
import { ParticipantType, RoomType, type Attendee, type NewMember, type RoomInit, type RoomMeta, type RoomSnapshot, type Session } from "./types";
import { config } from "../lib/config";
import { ALNUM, randomString, sha1Hex, unseal, verifyPassword } from "../lib/crypto";
import { OpenTalkSignaling, type SignalingStart } from "./signaling-opentalk";

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Sessions not pinged for this long are ended (Talk's SESSION_TIMEOUT_KILL = 3×30+10 s). */
export const SESSION_KILL_SECONDS = 100;
/** Activity counts reach the D1 summary at most this often per room. */
export const COUNTS_PUBLISH_SECONDS = 5;

/** What a caller sees of a room: the room, their attendee row and their current session. */
export interface CallerView {
  meta: RoomMeta;
  attendee: Attendee | null;
  session: Session | null;
}

/** The participant list: every attendee with their live sessions. */
export interface ParticipantList {
  meta: RoomMeta;
  self: Attendee;
  attendees: Attendee[];
  sessions: Session[];
}

/** One session in the call (Talk `GET /call/{token}`). */
export interface CallPeer {
  actorType: string;
  actorId: string;
  displayName: string;
  lastPing: number;
  sessionId: string;
}

/** A call join; when it started the call, the users to tell about it. */
export interface CallStart {
  started: boolean;
  roomName: string;
  notify: { actorId: string; userUuid: string }[];
}

/** One entry of internal signaling's `usersInRoom`. */
export interface SignalingUser {
  userId: string;
  roomId: number;
  lastPing: number;
  sessionId: string;
  inCall: number;
  participantPermissions: number;
  /** Since Talk 20: who the session belongs to (the web call view sets the peer's actor from it). */
  actorType: string;
  actorId: string;
}

/** What a long-poll returns: queued messages (JSON strings) and who is in the room. */
export interface SignalingPull {
  messages: string[];
  usersInRoom: SignalingUser[];
}

/** A message a client posts to internal signaling: its own session id and the encoded payload. */
export interface SignalingPost {
  sessionId: string;
  fn: string;
}

/** How long a signaling long-poll waits for something to deliver (reference §7.2). */
export const SIGNALING_WAIT_MS = 30_000;

/** Whether removing an attendee took the whole room with it (its last member left). */
export interface Removal {
  roomDeleted: boolean;
}

/** Access levels (Talk reference §5): any attendee, any moderator (incl. guest moderators), logged-in moderators. */
type Need = "participant" | "moderator" | "loggedInModerator";

interface Access {
  meta: RoomMeta;
  attendee: Attendee;
  session: Session | null;
}

type AttendeeRow = Attendee & { userUuid: string | null };

const isOneToOne = (type: number) => type === RoomType.OneToOne || type === RoomType.FormerOneToOne;
const isGroupOrPublic = (type: number) => type === RoomType.Group || type === RoomType.Public;
/** "Users" for the last-moderator and last-member rules: owners, moderators and invited users. */
const MEMBER_TYPES = `(${ParticipantType.Owner}, ${ParticipantType.Moderator}, ${ParticipantType.User})`;

export class Room extends DurableObject<Env> {
  private meta: RoomMeta | null = null;
  /** Changes whenever the object is (re)constructed; lets tests prove an eviction happened. */
  private readonly nonce = crypto.randomUUID();
  private readonly index: IndexSync;
  /** Long-polls waiting for signaling, by session id: calling one ends that wait. */
  private readonly waiters = new Map<string, () => void>();

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
    const keys = Object.keys(META_COLUMNS) as (keyof typeof META_COLUMNS)[];
    this.sql.exec(
      `UPDATE meta SET ${keys.map((k) => `${META_COLUMNS[k]} = ?`).join(", ")} WHERE id = ?`,
      ...keys.map((k) => m[k]),
      m.id,
    );
    this.index.markRoom();
  }

  // -------------------------------------------------------------------------------------------
  // RPC: lifecycle and views

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
      if (init.owner) this.insertAttendee({ ...init.owner, participantType: ParticipantType.Owner }, now);
      for (const m of init.members ?? []) this.insertAttendee(m, now);
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
    return this.viewOf(attendee, session && attendee && session.attendeeId === attendee.id ? session : null);
  }

  async snapshot(): Promise<RoomSnapshot | null> {
    return this.snapshotNow();
  }

  // -------------------------------------------------------------------------------------------
  // RPC: sessions

  /**
   * Starts a session for the caller (Talk "join conversation"; OpenTalk joins reuse it).
   * Non-members may join public rooms (users as self-joined, guests as guests) with the password.
   */
  async join(caller: Caller, options: { password?: string; force: boolean }): Promise<Outcome<CallerView>> {
    if (!this.meta) return fail(404, "room");
    const found = this.callerSession(caller);
    const before = this.callerAttendee(caller, found);
    const hadSession = found !== null;
    if (!before) {
      const meta = this.meta;
      const selfJoinAllowed = meta.type === RoomType.Public || (caller.kind === "user" && meta.listable > 0 && meta.type === RoomType.Group);
      if (!selfJoinAllowed) return fail(404, "room");
    }
    const needsPassword =
      this.meta.passwordHash !== null && (!before || (before.participantType === ParticipantType.UserSelfJoined && !hadSession));
    if (needsPassword && !(await verifyPassword(options.password ?? "", this.meta.passwordHash as string))) return fail(403, "password");
    const sessionId = randomString(255, ALNUM) + (caller.tabId ? `$${caller.tabId}` : "");
    // Only a guest's first session names a new attendee (users are found by their user id).
    const guestActorId = caller.kind === "user" && caller.userid ? "" : await sha1Hex(sessionId);
    const awaited = needsPassword || guestActorId !== "";

    // No awaits below until the writes are done: they form one atomic batch. After an await the
    // caller's session is read again, since a concurrent request may have changed it.
    const meta = this.meta;
    if (!meta) return fail(404, "room");
    const previous = awaited ? this.callerSession(caller) : found;
    if (previous && !options.force && previous.inCall !== 0) {
      return fail(409, "conflict", { sessionId: previous.id, inCall: previous.inCall, lastPing: previous.lastPing });
    }
    if (previous) this.deleteSession(previous.id);
    const attendee = (awaited ? this.callerAttendee(caller, previous) : before) ?? this.createCallerAttendee(caller, meta, guestActorId);
    const now = nowSeconds();
    const session: Session = { id: sessionId, attendeeId: attendee.id, cookie: this.cookieKey(caller), inCall: 0, lastPing: now, state: 1, createdAt: now };
    this.sql.exec(
      "INSERT INTO sessions (id, attendee_id, cookie, in_call, last_ping, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      session.id, session.attendeeId, session.cookie, session.inCall, session.lastPing, session.state, session.createdAt,
    );
    await this.sessionsChanged();
    return ok(this.viewOf(attendee, session));
  }

  /** Talk's session state: 1 active (the client is in front), 0 inactive (hidden or away). */
  async setSessionState(caller: Caller, state: 0 | 1): Promise<Outcome<null>> {
    if (!this.meta) return fail(404, "room");
    const session = this.callerSession(caller);
    if (!session) return fail(404, "session");
    if (session.state !== state) this.sql.exec("UPDATE sessions SET state = ? WHERE id = ?", state, session.id);
    return ok(null);
  }

  /** Ends the caller's session here; self-joined users and unnamed guests leave with their last session. */
  async leave(caller: Caller): Promise<void> {
    if (!this.meta) return;
    const session = this.callerSession(caller);
    if (!session) return;
    this.deleteSession(session.id);
    this.dropTransientAttendee(session.attendeeId);
    await this.sessionsChanged();
  }

  /** Session expiry and the throttled publication of activity counts share this one alarm. */
  override async alarm(): Promise<void> {
    if (!this.meta) return;
    const cutoff = nowSeconds() - SESSION_KILL_SECONDS;
    const stale = this.sql.exec("SELECT id, attendee_id FROM sessions WHERE last_ping < ?", cutoff).toArray();
    for (const row of stale) {
      this.deleteSession(row.id as string);
      this.dropTransientAttendee(row.attendee_id as number);
    }
    let dirty = this.recomputeCall() || stale.length > 0;
    if (this.meta.lobbyTimer > 0 && this.meta.lobbyTimer <= nowSeconds()) {
      // The webinar starts: the lobby opens by itself at its time.
      this.meta.lobbyState = 0;
      this.meta.lobbyTimer = 0;
      dirty = true;
    }
    const live = this.liveCounts();
    if (live.activeUsers !== this.meta.activeUsers || live.activeGuests !== this.meta.activeGuests) {
      Object.assign(this.meta, live);
      dirty = true;
    }
    if (dirty) {
      this.saveMeta();
      this.wakeAll();
    }
    await this.signaling.heartbeat(); // OpenTalk signaling: idle and vanished sockets
    await this.armAlarm();
    await this.index.flush();
  }

  // -------------------------------------------------------------------------------------------
  // RPC: conversation settings

  /** Renames a group or public room (moderators). The dialect layer validates the name. */
  async rename(caller: Caller, name: string): Promise<Outcome<CallerView>> {
    return this.mutate(caller, "moderator", (a) => {
      if (isOneToOne(a.meta.type)) return fail(400, "type");
      a.meta.name = name;
      return ok(undefined);
    });
  }

  /** Deletes the room and everything in it (moderators; never one-to-one rooms). */
  async destroy(caller: Caller): Promise<Outcome<null>> {
    const access = this.access(caller, "moderator");
    if (!access.ok) return access;
    if (isOneToOne(access.value.meta.type)) return fail(400, "type");
    await this.wipe();
    return ok(null);
  }

  /**
   * Makes a group room public or a public room a group room (logged-in moderators). Going private
   * removes guests, guest moderators and self-joined users together with their sessions.
   */
  async setPublic(caller: Caller, makePublic: boolean): Promise<Outcome<CallerView>> {
    return this.mutate(caller, "loggedInModerator", (a) => {
      if (!isGroupOrPublic(a.meta.type)) return fail(400, "type");
      a.meta.type = makePublic ? RoomType.Public : RoomType.Group;
      if (!makePublic) {
        const transient = [ParticipantType.Guest, ParticipantType.UserSelfJoined, ParticipantType.GuestModerator];
        for (const row of this.sql.exec("SELECT * FROM attendees WHERE participant_type IN (?, ?, ?)", ...transient).toArray()) {
          this.deleteAttendee(attendeeFromRow(row));
        }
      }
      return ok(undefined);
    });
  }

  /** Read-only on or off (moderators; group and public rooms). Going read-only ends the call. */
  async setReadOnly(caller: Caller, state: number): Promise<Outcome<CallerView>> {
    return this.mutate(caller, "moderator", (a) => {
      if (!isGroupOrPublic(a.meta.type)) return fail(400, "type");
      a.meta.readOnly = state;
      if (state === 1) this.endCall();
      return ok(undefined);
    });
  }

  /** Sets or clears (null) the password of a public room (moderators). */
  async setPassword(caller: Caller, password: { hash: string; sealed: string } | null): Promise<Outcome<CallerView>> {
    return this.mutate(caller, "moderator", (a) => {
      if (a.meta.type !== RoomType.Public) return fail(403, "type");
      a.meta.passwordHash = password?.hash ?? null;
      a.meta.passwordSealed = password?.sealed ?? null;
      return ok(undefined);
    });
  }

  /** Per-user favourite flag (users only; the dialect layer refuses guests first). */
  async setFavorite(caller: Caller, favorite: boolean): Promise<Outcome<CallerView>> {
    return this.updateSelf(caller, "favorite", favorite ? 1 : 0);
  }

  /** Per-user notification level 1–3 (validated by the dialect layer). */
  async setNotificationLevel(caller: Caller, level: number): Promise<Outcome<CallerView>> {
    return this.updateSelf(caller, "notification_level", level);
  }

  /** Per-user call notifications on (1) or off (0). */
  async setCallNotifications(caller: Caller, level: number): Promise<Outcome<CallerView>> {
    return this.updateSelf(caller, "notification_calls", level);
  }

  /** Room default permissions; a non-zero value is custom. Resets every attendee's own permissions. */
  async setDefaultPermissions(caller: Caller, permissions: number): Promise<Outcome<CallerView>> {
    return this.mutate(caller, "moderator", (a) => {
      if (!isGroupOrPublic(a.meta.type)) return fail(400, "type");
      a.meta.defaultPermissions = modifyPermissions("set", 0, permissions);
      for (const row of this.sql.exec("SELECT * FROM attendees WHERE permissions != 0").toArray()) {
        const attendee = attendeeFromRow(row);
        this.sql.exec("UPDATE attendees SET permissions = 0 WHERE id = ?", attendee.id);
        this.index.markUser(attendee.userUuid);
      }
      return ok(undefined);
    });
  }

  // -------------------------------------------------------------------------------------------
  // RPC: participants

  /** Every attendee with their live sessions (not for plain guests; held back by the lobby). */
  async participants(caller: Caller): Promise<Outcome<ParticipantList>> {
    const access = this.access(caller, "participant");
    if (!access.ok) return access;
    const { meta, attendee } = access.value;
    if (attendee.participantType === ParticipantType.Guest) return fail(403, "guest");
    if (this.inLobby(attendee)) return fail(412, "lobby");
    const cutoff = nowSeconds() - SESSION_KILL_SECONDS;
    return ok({
      meta: { ...meta, ...this.liveCounts() },
      self: attendee,
      attendees: this.sql.exec("SELECT * FROM attendees ORDER BY id").toArray().map((r) => stripUser(attendeeFromRow(r))),
      sessions: this.sql.exec("SELECT * FROM sessions WHERE last_ping >= ? ORDER BY created_at", cutoff).toArray().map(sessionFromRow),
    });
  }

  /**
   * Adds users, groups (with their members) or email invitees (logged-in moderators). Email
   * invitees turn a group room public. Returns the new room type and the email invitees added.
   */
  async addParticipants(caller: Caller, members: NewMember[]): Promise<Outcome<{ type: number; typeChanged: boolean; invited: Attendee[] }>> {
    const access = this.access(caller, "loggedInModerator");
    if (!access.ok) return access;
    const { meta } = access.value;
    if (!isGroupOrPublic(meta.type) || meta.objectType === "share:password") return fail(400, "room-type");
    const now = nowSeconds();
    const invited: Attendee[] = [];
    let changed = false;
    for (const m of members) {
      const existing = this.attendeeByActor(m.actorType, m.actorId);
      if (existing) {
        if (existing.participantType === ParticipantType.UserSelfJoined && m.participantType === ParticipantType.User) {
          this.sql.exec("UPDATE attendees SET participant_type = ? WHERE id = ?", ParticipantType.User, existing.id);
          this.index.markUser(m.userUuid);
          changed = true;
        }
        continue;
      }
      const added = this.insertAttendee(m, now);
      if (added.actorType === "emails") invited.push(added);
      changed = true;
    }
    const typeChanged = invited.length > 0 && meta.type === RoomType.Group;
    if (typeChanged) meta.type = RoomType.Public;
    if (changed) this.saveMeta();
    await this.index.flush();
    return ok({ type: meta.type, typeChanged, invited });
  }

  /** Adds members without an acting caller (room creation flows, re-adding one-to-one owners). */
  async addMembers(members: NewMember[]): Promise<number> {
    if (!this.meta) return 0;
    const now = nowSeconds();
    let added = 0;
    for (const m of members) {
      if (this.attendeeByActor(m.actorType, m.actorId)) continue;
      this.insertAttendee(m, now);
      added += 1;
    }
    if (added > 0) this.saveMeta();
    await this.index.flush();
    return added;
  }

  /**
   * Removes an attendee (moderators). Owners cannot be removed by others; moderators must be
   * demoted first. Removing yourself follows the leave-conversation rules.
   */
  async removeAttendee(caller: Caller, attendeeId: number): Promise<Outcome<Removal>> {
    const access = this.access(caller, "moderator");
    if (!access.ok) return access;
    const { meta, attendee: self } = access.value;
    if (isOneToOne(meta.type)) return fail(400, "room-type");
    const target = this.attendeeById(attendeeId);
    if (!target) return fail(404, "participant");
    if (target.id === self.id) return this.removeSelfNow(access.value);
    if (target.participantType === ParticipantType.Owner) return fail(403, "owner");
    if (isModeratorType(target.participantType)) return fail(400, "moderator");
    this.deleteAttendee(target);
    this.saveMeta();
    await this.sessionsChanged();
    return ok({ roomDeleted: false });
  }

  /** Leaves the conversation for good (users). The last member leaving deletes the room. */
  async removeSelf(caller: Caller): Promise<Outcome<Removal>> {
    const access = this.access(caller, "participant");
    if (!access.ok) return access;
    return this.removeSelfNow(access.value);
  }

  /** Promotes a user (3 → 2) or guest (4 → 6) to moderator (moderators). */
  async promote(caller: Caller, attendeeId: number): Promise<Outcome<null>> {
    return this.changeType(caller, attendeeId, {
      [ParticipantType.User]: ParticipantType.Moderator,
      [ParticipantType.Guest]: ParticipantType.GuestModerator,
    });
  }

  /** Demotes a moderator (2 → 3) or guest moderator (6 → 4) (moderators, not themselves). */
  async demote(caller: Caller, attendeeId: number): Promise<Outcome<null>> {
    return this.changeType(caller, attendeeId, {
      [ParticipantType.Moderator]: ParticipantType.User,
      [ParticipantType.GuestModerator]: ParticipantType.Guest,
    });
  }

  /** Sets, adds or removes permissions of one attendee (moderators). Returns the updated attendee. */
  async setAttendeePermissions(caller: Caller, attendeeId: number, method: PermissionMethod, value: number): Promise<Outcome<ParticipantList>> {
    const access = this.access(caller, "moderator");
    if (!access.ok) return access;
    const { meta } = access.value;
    if (!isGroupOrPublic(meta.type)) return fail(400, "room-type");
    const target = this.attendeeById(attendeeId);
    if (!target) return fail(404, "participant");
    if (target.actorType === "groups" || target.actorType === "circles") return fail(400, "type");
    if (isModeratorType(target.participantType)) return fail(403, "moderator");
    this.applyPermissions(target, method, value, meta);
    this.saveMeta();
    await this.index.flush();
    const updated = this.attendeeById(attendeeId) as AttendeeRow;
    return ok({
      meta: { ...meta },
      self: access.value.attendee,
      attendees: [stripUser(updated)],
      sessions: this.sql.exec("SELECT * FROM sessions WHERE attendee_id = ?", attendeeId).toArray().map(sessionFromRow),
    });
  }

  /** The same change for every attendee without moderator rights (moderators). */
  async setAllPermissions(caller: Caller, method: PermissionMethod, value: number): Promise<Outcome<CallerView>> {
    return this.mutate(caller, "moderator", (a) => {
      if (!isGroupOrPublic(a.meta.type)) return fail(400, "room-type");
      for (const row of this.sql.exec("SELECT * FROM attendees WHERE actor_type NOT IN ('groups', 'circles')").toArray()) {
        const attendee = attendeeFromRow(row);
        if (!isModeratorType(attendee.participantType)) this.applyPermissions(attendee, method, value, a.meta);
      }
      return ok(undefined);
    });
  }

  /** Email invitees to send their invitation again: one attendee, or all of them (moderators). */
  async invitationTargets(caller: Caller, attendeeId: number | null): Promise<Outcome<{ meta: RoomMeta; invitees: Attendee[] }>> {
    const access = this.access(caller, "moderator");
    if (!access.ok) return access;
    let rows: AttendeeRow[];
    if (attendeeId !== null) {
      const target = this.attendeeById(attendeeId);
      if (!target) return fail(404, "participant");
      rows = [target];
    } else {
      rows = this.sql.exec("SELECT * FROM attendees WHERE actor_type = 'emails'").toArray().map(attendeeFromRow);
    }
    return ok({ meta: { ...access.value.meta }, invitees: rows.filter((a) => a.actorType === "emails").map(stripUser) });
  }

  /** A guest (or guest moderator) names themselves. */
  async setGuestName(caller: Caller, displayName: string): Promise<Outcome<null>> {
    const access = this.access(caller, "participant");
    if (!access.ok) return access;
    const { attendee } = access.value;
    if (attendee.participantType !== ParticipantType.Guest && attendee.participantType !== ParticipantType.GuestModerator) {
      return fail(403, "guest");
    }
    this.sql.exec("UPDATE attendees SET display_name = ? WHERE id = ?", displayName, attendee.id);
    return ok(null);
  }

  // ---- BEGIN RPC: OpenTalk events (branch ot-events) ----------------------------------------
  // An OpenTalk event owns its room. These two methods keep the room in step with the event.

  /**
   * Applies an event change to its room in one step (moderators, i.e. the event's creator):
   * the name (= event title), the password (null clears it) and the lobby (= waiting room).
   */
  async applyEventSettings(
    caller: Caller,
    changes: { name?: string; password?: { hash: string; sealed: string } | null; lobbyState?: number },
  ): Promise<Outcome<CallerView>> {
    return this.mutate(caller, "moderator", (a) => {
      if (changes.name !== undefined) a.meta.name = changes.name;
      if (changes.password !== undefined) {
        a.meta.passwordHash = changes.password?.hash ?? null;
        a.meta.passwordSealed = changes.password?.sealed ?? null;
      }
      if (changes.lobbyState !== undefined) a.meta.lobbyState = changes.lobbyState;
      return ok(undefined);
    });
  }

  /**
   * Membership from an event invite: adds the user with `participantType` (3 user, 2 moderator),
   * changes the type of an existing invited member, or removes them (null). The owner is never
   * touched. Returns whether anything changed.
   */
  async setInvitedUser(member: NewMember, participantType: number | null): Promise<boolean> {
    if (!this.meta) return false;
    const row = this.sql.exec("SELECT * FROM attendees WHERE actor_type = ? AND actor_id = ?", member.actorType, member.actorId).toArray()[0];
    const existing = row ? attendeeFromRow(row) : null;
    if (existing?.participantType === ParticipantType.Owner) return false;
    if (participantType === null) {
      if (!existing) return false;
      this.deleteAttendee(existing);
    } else if (!existing) {
      this.insertAttendee({ ...member, participantType }, nowSeconds());
    } else if (existing.participantType !== participantType) {
      this.sql.exec("UPDATE attendees SET participant_type = ? WHERE id = ?", participantType, existing.id);
      this.index.markUser(existing.userUuid);
    } else {
      return false;
    }
    this.saveMeta();
    await this.sessionsChanged();
    return true;
  }
  // ---- END RPC: OpenTalk events ----------------------------------------------------------------

  // -------------------------------------------------------------------------------------------
  // RPC: calls

  /** Sessions in the call that pinged recently (participants; not read-only, not in the lobby). */
  async callPeers(caller: Caller): Promise<Outcome<CallPeer[]>> {
    const access = this.callAccess(caller, { session: false });
    if (!access.ok) return access;
    const rows = this.sql
      .exec(
        `SELECT s.id, s.last_ping, a.actor_type, a.actor_id, a.display_name FROM sessions s JOIN attendees a ON a.id = s.attendee_id
         WHERE s.in_call != 0 AND s.last_ping >= ? ORDER BY s.created_at`,
        nowSeconds() - CALL_PING_SECONDS,
      )
      .toArray();
    return ok(
      rows.map((r) => ({
        actorType: r.actor_type as string,
        actorId: r.actor_id as string,
        displayName: r.display_name as string,
        lastPing: r.last_ping as number,
        sessionId: r.id as string,
      })),
    );
  }

  /**
   * Joins the call with the given flags. Starting a call (none running) needs the start-call
   * permission; audio and video bits the caller may not publish are dropped. Where the server
   * requires recording consent, a join without it is refused.
   */
  async joinCall(caller: Caller, flags: number, consent = { required: false, given: false }): Promise<Outcome<CallStart>> {
    const access = this.callAccess(caller, { session: true });
    if (!access.ok) return access;
    if (consent.required && !consent.given) return fail(400, "consent");
    const { attendee, session, meta } = access.value;
    const permissions = effectivePermissions(attendee.participantType, attendee.permissions, meta.defaultPermissions);
    const running = this.callRunning();
    if (!running && (permissions & Permission.StartCall) === 0) return fail(403, "permission");
    this.setInCall(session as Session, allowedCallFlags(flags, permissions));
    await this.callChanged();
    if (running) return ok({ started: false, roomName: meta.name, notify: [] });
    // Who hears about a new call: users who want call notifications and are not held in the lobby.
    const notify = this.sql
      .exec("SELECT * FROM attendees WHERE actor_type = 'users' AND notification_calls = 1 AND id != ? AND user_uuid IS NOT NULL", attendee.id)
      .toArray()
      .map(attendeeFromRow)
      .filter((a) => !this.inLobby(a))
      .map((a) => ({ actorId: a.actorId, userUuid: a.userUuid as string }));
    return ok({ started: true, roomName: meta.name, notify });
  }

  /** Changes the flags of the caller's session, which must be in the call. */
  async updateCallFlags(caller: Caller, flags: number): Promise<Outcome<null>> {
    const access = this.callAccess(caller, { session: true });
    if (!access.ok) return access;
    const { attendee, session, meta } = access.value;
    if ((session as Session).inCall === 0) return fail(400, "in-call");
    const permissions = effectivePermissions(attendee.participantType, attendee.permissions, meta.defaultPermissions);
    this.setInCall(session as Session, allowedCallFlags(flags, permissions));
    return this.callChanged();
  }

  /** Leaves the call; with `all`, a moderator ends it for everyone. */
  async leaveCall(caller: Caller, all: boolean): Promise<Outcome<null>> {
    const access = this.callAccess(caller, { session: true });
    if (!access.ok) return access;
    if (all && isModeratorType(access.value.attendee.participantType)) this.endCall();
    else {
      this.setInCall(access.value.session as Session, 0);
      // Sessions that stopped pinging do not keep a call alive: without a live one it ends.
      if (!this.callRunning()) this.endCall();
    }
    return this.callChanged();
  }

  /**
   * Checks that a moderator in a running call may ring an attendee who is a user and not in the
   * call yet. Returns the attendee to notify (the dialect layer delivers the notification).
   */
  async ringTarget(caller: Caller, attendeeId: number): Promise<Outcome<{ actorId: string; userUuid: string | null; roomName: string }>> {
    const access = this.callAccess(caller, { session: false, readOnlyAllowed: true });
    if (!access.ok) return access;
    const { attendee, session, meta } = access.value;
    if (!isModeratorType(attendee.participantType)) return fail(403, FORBIDDEN);
    const target = this.attendeeById(attendeeId);
    if (!target) return fail(404, "participant");
    if (target.actorType !== "users") return fail(400, "actor-type");
    if (!this.callRunning()) return fail(400, "call");
    if (!session || session.inCall === 0) return fail(400, "in-call");
    const targetInCall = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE attendee_id = ? AND in_call != 0", target.id).one().n;
    if (targetInCall > 0) return fail(400, "target-in-call");
    return ok({ actorId: target.actorId, userUuid: target.userUuid, roomName: meta.name });
  }

  /** The checks a SIP dial-out request passes first: a participant with the start-call permission. */
  async dialoutCheck(caller: Caller): Promise<Outcome<null>> {
    const access = this.callAccess(caller, { session: false, readOnlyAllowed: true });
    if (!access.ok) return access;
    const { attendee, meta } = access.value;
    const permissions = effectivePermissions(attendee.participantType, attendee.permissions, meta.defaultPermissions);
    if ((permissions & Permission.StartCall) === 0) return fail(403, "permission");
    return ok(null);
  }

  // -------------------------------------------------------------------------------------------
  // RPC: webinar lobby and SIP dial-in

  /**
   * Lobby on or off (moderators; group and public rooms). Turning it on takes everyone without
   * moderator rights out of the call; a timer opens the lobby by alarm at that time.
   */
  async setLobby(caller: Caller, state: number, timer: number | null): Promise<Outcome<CallerView>> {
    return this.mutate(caller, "moderator", (a) => {
      if (!isGroupOrPublic(a.meta.type)) return fail(400, "type");
      if (a.meta.objectType === "file" || a.meta.objectType === "share:password") return fail(400, "object");
      a.meta.lobbyState = state;
      a.meta.lobbyTimer = state === 1 ? (timer ?? 0) : 0;
      if (state === 1) {
        this.sql.exec(
          `UPDATE sessions SET in_call = 0 WHERE in_call != 0 AND attendee_id IN
             (SELECT id FROM attendees WHERE participant_type NOT IN (?, ?, ?))`,
          ParticipantType.Owner, ParticipantType.Moderator, ParticipantType.GuestModerator,
        );
        this.recomputeCall();
      }
      return ok(undefined);
    });
  }

  /**
   * SIP dial-in state 0/1/2 (logged-in moderators allowed to use SIP, on a configured server).
   * Enabling gives every user and email attendee a dial-in PIN.
   */
  async setSip(caller: Caller, state: number, rights: { mayEnable: boolean; configured: boolean }): Promise<Outcome<CallerView>> {
    return this.mutate(caller, "loggedInModerator", (a) => {
      if (!rights.mayEnable) return fail(401, "sip");
      if (!rights.configured) return fail(412, "config");
      if (!isGroupOrPublic(a.meta.type)) return fail(400, "type");
      if (!isSipCompatibleToken(a.meta.token)) return fail(400, "token");
      if (a.meta.sipEnabled === state) return fail(400, "state");
      a.meta.sipEnabled = state;
      if (state !== 0) this.assignPins();
      return ok(undefined);
    });
  }

  /** Users the lobby holds back right now (their pending call notifications are withdrawn). */
  async usersHeldInLobby(): Promise<string[]> {
    if (this.meta?.lobbyState !== 1) return [];
    return this.sql
      .exec("SELECT * FROM attendees WHERE actor_type = 'users' AND user_uuid IS NOT NULL")
      .toArray()
      .map(attendeeFromRow)
      .filter((a) => this.inLobby(a))
      .map((a) => a.userUuid as string);
  }

  /** The attendee a dial-in PIN belongs to (the SIP bridge looks callers up by PIN). */
  async attendeeByPin(pin: string): Promise<Outcome<CallerView>> {
    if (!this.meta) return fail(404, "room");
    const row = this.sql.exec("SELECT * FROM attendees WHERE pin = ? AND pin != ''", pin).toArray()[0];
    if (!row || this.meta.sipEnabled === 0) return fail(404, "pin");
    return ok(this.viewOf(stripUser(attendeeFromRow(row)), null));
  }

  // -------------------------------------------------------------------------------------------
  // RPC: internal signaling (the long-poll stock Talk clients use without a signaling server)

  /**
   * Queues WebRTC messages from the caller's session to other sessions of this room. Messages
   * claiming another sender session, to unknown sessions, or `control` from non-moderators are
   * dropped, as the reference does.
   */
  async sendSignaling(caller: Caller, posts: SignalingPost[]): Promise<Outcome<number>> {
    if (!this.meta) return fail(404, "room");
    const session = this.callerSession(caller);
    if (!session) return fail(404, "session");
    const sender = this.attendeeById(session.attendeeId);
    const moderator = sender !== null && caller.kind === "user" && isLoggedInModeratorType(sender.participantType);
    const now = nowSeconds();
    let queued = 0;
    for (const post of posts) {
      if (post.sessionId !== session.id) continue;
      const message = parseSignalingMessage(post.fn);
      if (!message || (message.type === "control" && !moderator)) continue;
      if (!this.sessionById(message.to)) continue;
      const data = JSON.stringify({ ...message.raw, from: session.id });
      this.sql.exec("INSERT INTO signaling_messages (session_id, data, created_at) VALUES (?, ?, ?)", message.to, data, now);
      this.waiters.get(message.to)?.();
      queued += 1;
    }
    return ok(queued);
  }

  /**
   * The long-poll: refreshes the session's ping, waits up to `waitMs` for messages or a change of
   * the participant list, then hands out the queued messages and who is in the room. 404 without
   * a session; 409 when the caller is still a member but their session is gone (replaced or expired).
   */
  async pullSignaling(caller: Caller, roomSerial: number, waitMs = SIGNALING_WAIT_MS): Promise<Outcome<SignalingPull>> {
    if (!this.meta) return fail(404, "room", { messages: [], usersInRoom: [] });
    const session = this.callerSession(caller);
    if (!session) {
      const member = this.callerAttendee(caller, null);
      return fail(member ? 409 : 404, "session", { messages: [], usersInRoom: [] });
    }
    this.sql.exec("UPDATE sessions SET last_ping = ? WHERE id = ?", nowSeconds(), session.id);
    if (this.pendingSignaling(session.id) === 0) await this.waitForSignal(session.id, waitMs);
    if (!this.meta) return fail(404, "room", { messages: [], usersInRoom: [] });
    if (!this.sessionById(session.id)) {
      // Replaced by a newer join or expired while waiting: 409 while still a member, else 404.
      return fail(this.callerAttendee(caller, null) ? 409 : 404, "session", { messages: [], usersInRoom: [] });
    }
    const rows = this.sql.exec("SELECT id, data FROM signaling_messages WHERE session_id = ? ORDER BY id", session.id).toArray();
    if (rows.length > 0) this.sql.exec("DELETE FROM signaling_messages WHERE session_id = ? AND id <= ?", session.id, rows[rows.length - 1]?.id as number);
    return ok({ messages: rows.map((r) => r.data as string), usersInRoom: this.usersInRoom(roomSerial) });
  }
  // ===========================================================================================
  // OpenTalk signaling and room settings (begin). The protocol lives in signaling-opentalk.ts;
  // this block only wires the object's storage, meta row and hibernation handlers to it.

  private signalingModule: OpenTalkSignaling | null = null;

  private get signaling(): OpenTalkSignaling {
    this.signalingModule ??= new OpenTalkSignaling({
      ctx: this.ctx,
      meta: () => this.meta,
      attendeeType: (uuid) => this.userAttendee(uuid)?.participantType ?? null,
      setLobbyState: (state) => this.setLobbyStateNow(state),
      armAlarm: () => this.armAlarm(),
      roomPassword: async () => (this.meta?.passwordSealed ? unseal(config(this.env).secret, this.meta.passwordSealed) : null),
    });
    return this.signalingModule;
  }

  private async setLobbyStateNow(state: number): Promise<void> {
    if (!this.meta || this.meta.lobbyState === state) return;
    this.meta.lobbyState = state;
    this.saveMeta();
    await this.index.flush();
  }

  /** Checks a signaling start (password, ban, resumption) and reserves the participant. */
  async prepareSignaling(start: SignalingStart): Promise<Outcome<{ participantId: string; resumption: string }>> {
    return this.signaling.prepare(start);
  }

  /**
   * OpenTalk PATCH /v1/rooms/{id}: password (null clears it) and waiting room (= lobby state).
   * The Worker has authorised the caller (room creator or administrator).
   */
  async updateOpenTalkRoom(change: { password?: { hash: string; sealed: string } | null; waitingRoom?: boolean }): Promise<RoomMeta | null> {
    const meta = this.meta;
    if (!meta) return null;
    if (change.password !== undefined) {
      meta.passwordHash = change.password?.hash ?? null;
      meta.passwordSealed = change.password?.sealed ?? null;
    }
    const lobby = change.waitingRoom === undefined ? meta.lobbyState : change.waitingRoom ? 1 : 0;
    const lobbyChanged = lobby !== meta.lobbyState;
    meta.lobbyState = lobby;
    if (change.password !== undefined || lobbyChanged) this.saveMeta();
    await this.index.flush();
    if (lobbyChanged) this.signaling.waitingRoomChanged(lobby === 1);
    return { ...meta };
  }

  /** OpenTalk DELETE /v1/rooms/{id} (authorised by the Worker): room_deleted to every socket, then wipe. */
  async deleteOpenTalkRoom(): Promise<boolean> {
    if (!this.meta) return false;
    this.signaling.closeAll();
    await this.wipe();
    this.signalingModule = null;
    return true;
  }

  /** The only fetch: the signaling upgrade forwarded by the Worker after redeeming a ticket. */
  override async fetch(request: Request): Promise<Response> {
    return this.signaling.accept(request);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.signaling.message(ws, message);
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    await this.signaling.closed(ws);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.signaling.closed(ws);
  }

  // OpenTalk signaling and room settings (end)
  // ===========================================================================================

  // -------------------------------------------------------------------------------------------
  // Access and mutation plumbing

  /** Resolves the caller's attendee and checks the access level (reference §5, steps 2 and 4). */
  private access(caller: Caller, need: Need): Outcome<Access> {
    const meta = this.meta;
    if (!meta) return fail(404, "room");
    const found = this.callerSession(caller);
    const attendee = this.callerAttendee(caller, found);
    if (!attendee) return fail(404, "room");
    const session = found && found.attendeeId === attendee.id ? found : null;
    if (need === "moderator" && !isModeratorType(attendee.participantType)) return fail(403, FORBIDDEN);
    if (need === "loggedInModerator" && !(caller.kind === "user" && isLoggedInModeratorType(attendee.participantType))) {
      return fail(403, FORBIDDEN);
    }
    return ok({ meta, attendee, session });
  }

  /** Checks access, runs a synchronous change, persists the meta row and returns the fresh view. */
  private async mutate(caller: Caller, need: Need, change: (a: Access) => Outcome<undefined>): Promise<Outcome<CallerView>> {
    const access = this.access(caller, need);
    if (!access.ok) return access;
    const applied = change(access.value);
    if (!applied.ok) return applied;
    this.saveMeta();
    this.wakeAll();
    await this.armAlarm();
    await this.index.flush();
    const self = this.attendeeById(access.value.attendee.id);
    return ok(this.viewOf(self ? stripUser(self) : null, access.value.session));
  }

  /** Updates one per-attendee column of a logged-in caller. */
  private async updateSelf(caller: Caller, column: "favorite" | "notification_level" | "notification_calls", value: number): Promise<Outcome<CallerView>> {
    const access = this.access(caller, "participant");
    if (!access.ok) return access;
    const { attendee, session } = access.value;
    this.sql.exec(`UPDATE attendees SET ${column} = ? WHERE id = ?`, value, attendee.id);
    this.index.markUser(caller.userUuid);
    await this.index.flush();
    return ok(this.viewOf(stripUser(this.attendeeById(attendee.id) as AttendeeRow), session));
  }

  private async changeType(caller: Caller, attendeeId: number, transitions: Record<number, number>): Promise<Outcome<null>> {
    const access = this.access(caller, "moderator");
    if (!access.ok) return access;
    const target = this.attendeeById(attendeeId);
    if (!target) return fail(404, "participant");
    if (target.id === access.value.attendee.id) return fail(403, "self");
    if (target.participantType === ParticipantType.Owner) return fail(403, "owner");
    const next = target.actorType === "groups" || target.actorType === "circles" ? undefined : transitions[target.participantType];
    if (next === undefined) return fail(400, "participant-type");
    // A promotion starts from a clean slate: moderators have every permission anyway.
    const permissions = isModeratorType(next) ? 0 : target.permissions;
    this.sql.exec("UPDATE attendees SET participant_type = ?, permissions = ? WHERE id = ?", next, permissions, target.id);
    this.index.markUser(target.userUuid);
    this.saveMeta();
    await this.index.flush();
    return ok(null);
  }

  /** Stores a set/add/remove on one attendee; self-joined users become permanent members. */
  private applyPermissions(target: AttendeeRow, method: PermissionMethod, value: number, meta: RoomMeta): void {
    const start = target.permissions !== 0 || method === "set" ? target.permissions : initialPermissions(target.participantType, meta.defaultPermissions);
    const permissions = modifyPermissions(method, start, value);
    const type = target.participantType === ParticipantType.UserSelfJoined ? ParticipantType.User : target.participantType;
    this.sql.exec("UPDATE attendees SET permissions = ?, participant_type = ? WHERE id = ?", permissions, type, target.id);
    this.index.markUser(target.userUuid);
  }

  /** The leave-for-good rules (reference §6.2): last moderator stays, last member deletes the room. */
  private async removeSelfNow({ meta, attendee }: Access): Promise<Outcome<Removal>> {
    const members = this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM attendees WHERE participant_type IN ${MEMBER_TYPES}`).one().n;
    if (isLoggedInModeratorType(attendee.participantType) && !isOneToOne(meta.type) && members > 1) {
      const moderators = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM attendees WHERE participant_type IN (1, 2)").one().n;
      if (moderators === 1) return fail(400, "last-moderator");
    }
    const isMember = attendee.participantType >= ParticipantType.Owner && attendee.participantType <= ParticipantType.User;
    if (isMember && members === 1 && meta.type !== RoomType.Changelog && meta.objectType !== "file") {
      await this.wipe();
      return ok({ roomDeleted: true });
    }
    this.deleteAttendee(this.attendeeById(attendee.id) as AttendeeRow);
    this.saveMeta();
    await this.sessionsChanged();
    return ok({ roomDeleted: false });
  }

  /** Deletes the room: D1 summary and index first (so it vanishes from lists), then all storage. */
  private async wipe(): Promise<void> {
    this.index.markDeleted();
    await this.index.flush();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    migrate(this.sql);
    this.meta = null;
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  private viewOf(attendee: Attendee | null, session: Session | null): CallerView {
    return { meta: { ...(this.meta as RoomMeta), ...this.liveCounts() }, attendee, session };
  }

  private snapshotNow(): RoomSnapshot | null {
    if (!this.meta) return null;
    return {
      meta: { ...this.meta },
      attendees: this.sql.exec("SELECT * FROM attendees ORDER BY id").toArray().map((r) => stripUser(attendeeFromRow(r))),
      sessions: this.sql.exec("SELECT * FROM sessions ORDER BY created_at").toArray().map(sessionFromRow),
    };
  }

  private insertAttendee(m: NewMember, now: number): AttendeeRow {
    this.sql.exec(
      `INSERT OR IGNORE INTO attendees (actor_type, actor_id, display_name, participant_type, user_uuid, invited_email, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      m.actorType, m.actorId, m.displayName, m.participantType, m.userUuid ?? null, m.invitedEmail ?? "", now,
    );
    this.index.markUser(m.userUuid);
    if (this.meta && this.meta.sipEnabled !== 0) this.assignPins();
    return attendeeFromRow(this.sql.exec("SELECT * FROM attendees WHERE actor_type = ? AND actor_id = ?", m.actorType, m.actorId).one());
  }

  /** Ends one session; whatever signaling was queued for it goes too. */
  private deleteSession(id: string): void {
    this.sql.exec("DELETE FROM signaling_messages WHERE session_id = ?", id);
    this.sql.exec("DELETE FROM sessions WHERE id = ?", id);
  }

  private deleteAttendee(a: AttendeeRow): void {
    this.sql.exec("DELETE FROM signaling_messages WHERE session_id IN (SELECT id FROM sessions WHERE attendee_id = ?)", a.id);
    this.sql.exec("DELETE FROM sessions WHERE attendee_id = ?", a.id);
    this.sql.exec("DELETE FROM attendees WHERE id = ?", a.id);
    this.index.markUser(a.userUuid);
  }

  private inLobby(attendee: Attendee): boolean {
    const meta = this.meta as RoomMeta;
    const permissions = effectivePermissions(attendee.participantType, attendee.permissions, meta.defaultPermissions);
    return heldInLobby(meta.lobbyState, attendee.participantType, permissions);
  }

  /**
   * Access for the call endpoints: a participant (404), with a session when the endpoint needs one
   * (404), not in a read-only room (403) and not held in the lobby (412).
   */
  private callAccess(caller: Caller, opts: { session: boolean; readOnlyAllowed?: boolean }): Outcome<Access> {
    const access = this.access(caller, "participant");
    if (!access.ok) return access;
    const { meta, attendee, session } = access.value;
    if (opts.session && !session) return fail(404, "session");
    if (!opts.readOnlyAllowed && meta.readOnly === 1) return fail(403, "read-only");
    if (this.inLobby(attendee)) return fail(412, "lobby");
    return access;
  }

  private setInCall(session: Session, flags: number): void {
    this.sql.exec("UPDATE sessions SET in_call = ? WHERE id = ?", flags, session.id);
  }

  /** After a call change: room call state to D1 (hasCall in lists) and wake the pollers. */
  private async callChanged(): Promise<Outcome<null>> {
    this.recomputeCall();
    this.saveMeta();
    this.wakeAll();
    await this.index.flush();
    return ok(null);
  }

  /**
   * Derives the room's call state from its sessions: `callFlag` is the OR of every in-call
   * session's flags; the first joiner starts the clock; the call ends with its last session.
   * Returns whether anything changed.
   */
  private recomputeCall(): boolean {
    const meta = this.meta;
    if (!meta) return false;
    let callFlag = 0;
    for (const row of this.sql.exec<{ in_call: number }>("SELECT DISTINCT in_call FROM sessions WHERE in_call != 0")) callFlag |= row.in_call;
    const before = `${meta.callFlag}:${meta.callStartTime}`;
    meta.callFlag = callFlag;
    if (meta.callFlag === 0) meta.callStartTime = 0;
    else if (meta.callStartTime === 0) meta.callStartTime = nowSeconds();
    return before !== `${meta.callFlag}:${meta.callStartTime}`;
  }

  /** A call runs while a session is in it and pinged within the call window. */
  private callRunning(): boolean {
    return (
      this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE in_call != 0 AND last_ping >= ?", nowSeconds() - CALL_PING_SECONDS).one()
        .n > 0
    );
  }

  /** Gives every user and email attendee without one a unique 7-digit dial-in PIN. */
  private assignPins(): void {
    const taken = new Set(this.sql.exec<{ pin: string }>("SELECT pin FROM attendees WHERE pin != ''").toArray().map((r) => r.pin));
    for (const row of this.sql.exec("SELECT * FROM attendees WHERE pin = '' AND actor_type IN ('users', 'emails')").toArray()) {
      const attendee = attendeeFromRow(row);
      let pin = sipDigits(PIN_LENGTH);
      while (taken.has(pin)) pin = sipDigits(PIN_LENGTH);
      taken.add(pin);
      this.sql.exec("UPDATE attendees SET pin = ? WHERE id = ?", pin, attendee.id);
      this.index.markUser(attendee.userUuid);
    }
  }

  private pendingSignaling(sessionId: string): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM signaling_messages WHERE session_id = ?", sessionId).one().n;
  }

  private usersInRoom(roomSerial: number): SignalingUser[] {
    const meta = this.meta as RoomMeta;
    return this.sql
      .exec("SELECT s.*, a.actor_type, a.actor_id, a.participant_type, a.permissions FROM sessions s JOIN attendees a ON a.id = s.attendee_id WHERE s.last_ping >= ?", nowSeconds() - USERS_IN_ROOM_SECONDS)
      .toArray()
      .map((r) => ({
        userId: r.actor_type === "users" ? (r.actor_id as string) : "",
        roomId: roomSerial,
        lastPing: r.last_ping as number,
        sessionId: r.id as string,
        inCall: r.in_call as number,
        participantPermissions: effectivePermissions(r.participant_type as number, r.permissions as number, meta.defaultPermissions),
        actorType: r.actor_type as string,
        actorId: r.actor_id as string,
      }));
  }

  /** Resolves after `ms`, or earlier when `wakeAll` or a message for the session arrives. */
  private waitForSignal(sessionId: string, ms: number): Promise<void> {
    this.waiters.get(sessionId)?.();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.waiters.get(sessionId) === done) this.waiters.delete(sessionId);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.set(sessionId, done);
    });
  }

  /** The participant list or call changed: every waiting long-poll returns. */
  private wakeAll(): void {
    for (const wake of [...this.waiters.values()]) wake();
  }

  /** Disconnects every session from the call. */
  private endCall(): void {
    const meta = this.meta as RoomMeta;
    this.sql.exec("UPDATE sessions SET in_call = 0");
    meta.callFlag = 0;
    meta.callStartTime = 0;
  }

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

  private attendeeById(id: number): AttendeeRow | null {
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
      const member = { actorType: "users" as const, actorId: caller.userid, displayName: caller.displayName ?? caller.userid, participantType: type };
      return stripUser(this.insertAttendee({ ...member, userUuid: caller.userUuid }, now));
    }
    // Guests: actor id = sha1 of their first session id, stable while they keep their cookie.
    return stripUser(this.insertAttendee({ actorType: "guests", actorId: guestActorId, displayName: "", participantType: ParticipantType.Guest }, now));
  }

  /** Self-joined users and unnamed guests without custom permissions leave with their last session. */
  private dropTransientAttendee(attendeeId: number): void {
    const a = this.attendeeById(attendeeId);
    if (!a) return;
    const remaining = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE attendee_id = ?", attendeeId).one().n;
    if (remaining > 0) return;
    const transientGuest = a.actorType === "guests" && a.displayName === "" && a.permissions === 0 && a.participantType === ParticipantType.Guest;
    if (a.participantType === ParticipantType.UserSelfJoined || transientGuest) this.deleteAttendee(a);
  }

  /** Distinct users and guests holding a live session right now. */
  private liveCounts(): { activeUsers: number; activeGuests: number } {
    const row = this.sql
      .exec<{ users: number; guests: number }>(
        `SELECT count(DISTINCT CASE WHEN a.actor_type = 'users' THEN a.id END) AS users,
                count(DISTINCT CASE WHEN a.actor_type IN ('guests', 'emails') THEN a.id END) AS guests
         FROM sessions s JOIN attendees a ON a.id = s.attendee_id`,
      )
      .one();
    return { activeUsers: row.users, activeGuests: row.guests };
  }

  /** After sessions come or go: write member changes through and re-arm the alarm. */
  private async sessionsChanged(): Promise<void> {
    this.recomputeCall();
    this.wakeAll();
    await this.armAlarm();
    await this.index.flush();
  }

  /**
   * One alarm for three duties: the earliest moment a session could go stale, publishing the
   * activity counts to D1 (coalesced) when they differ from what the summary shows, and the lobby
   * timer. Nothing due: no alarm.
   */
  private async armAlarm(): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    const oldest = this.sql.exec<{ p: number | null }>("SELECT min(last_ping) AS p FROM sessions").one().p;
    const live = this.liveCounts();
    const countsDue = live.activeUsers !== meta.activeUsers || live.activeGuests !== meta.activeGuests;
    const candidates: number[] = [];
    if (oldest !== null) candidates.push((oldest + SESSION_KILL_SECONDS + 1) * 1000);
    if (countsDue) candidates.push(Date.now() + COUNTS_PUBLISH_SECONDS * 1000);
    if (meta.lobbyState === 1 && meta.lobbyTimer > 0) candidates.push(meta.lobbyTimer * 1000);
    const heartbeat = this.signaling.nextHeartbeat(); // OpenTalk signaling, only while sockets exist
    if (heartbeat !== null) candidates.push(heartbeat);
    // getAlarm() is answered from memory; setAlarm() and deleteAlarm() are storage writes, so
    // they run only when they change something.
    const current = await this.ctx.storage.getAlarm();
    if (candidates.length === 0) {
      if (current !== null) await this.ctx.storage.deleteAlarm();
      return;
    }
    const at = Math.min(...candidates);
    // An alarm already due sooner covers both duties: its handler re-arms.
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}

function stripUser(a: AttendeeRow): Attendee {
  const { userUuid: _u, ...rest } = a;
  return rest;
}

/** A decoded internal-signaling message: the recipient and type are what the server looks at. */
function parseSignalingMessage(fn: string): { to: string; type: string; raw: Record<string, unknown> } | null {
  let raw: unknown;
  try {
    raw = JSON.parse(fn);
  } catch {
    return null;
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return null;
  const { to, type } = raw as { to?: unknown; type?: unknown };
  if (typeof to !== "string" || typeof type !== "string") return null;
  return { to, type, raw: raw as Record<string, unknown> };
}
