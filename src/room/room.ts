/**
 * One Durable Object per room: the authoritative members, sessions, call flags, lobby and bans, in
 * memory and in the object's SQLite storage. This class is the dialect-neutral core and its RPC
 * face: each method resolves to one operation (ops/), run by `apply`, the one write path:
 * operation (validate → authorise → write, no await) → commit (save, pending D1 index, tell every
 * live presence, arm the alarm) → D1 flush. The live protocols (Talk's long-poll, OpenTalk's
 * sockets) are presences added by the deployed class (src/durable-objects/room.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { events } from "../db/schema";
import { ALNUM, randomString, sha1Hex, verifyPassword } from "../lib/crypto";
import { Commit, ORPHAN_GRACE_SECONDS, SESSION_KILL_SECONDS } from "./commit";
import { ChatFeed } from "./chat-feed";
import { type Caller, type CallerView, type ChatPage, type ChatQuery, type ChatRoomFacts, type GroupLeaver, type MentionCandidates, type CallPeer, type CallStart, fail, ok, type Outcome, type ParticipantList, type Removal, type RoomGrant } from "./contract";
import { IndexSync } from "./index-sync";
import { access, callerAttendee, callerSession, participantAccess, stripUser, type Tx } from "./ops/actor";
import * as calls from "./ops/calls";
import * as chat from "./ops/chat";
import * as chatRead from "./ops/chat-read";
import { unreadCount } from "./unread";
import { actorOf, recordSystem, SYSTEM_ACTOR } from "./ops/chat";
import * as membership from "./ops/membership";
import { recomputeCall } from "./ops/call-state";
import * as sessions from "./ops/sessions";
import { openLobbyByTimer, type SettingsPatch, setPreference, updateSettings } from "./ops/settings";
import type { PermissionMethod } from "./permissions";
import { type Presence, RoomChange } from "./presence";
import { inLobby, isOneToOne, isOwner, meets, selfJoinAllowed } from "./rules";
import { nowSeconds, RoomStore } from "./store";
import { type Attendee, type ChatFacts, type NewMember, ParticipantType, type RoomInit, type RoomMeta, type RoomSnapshot, type StoredMessage } from "./types";


export class RoomObject extends DurableObject<Env> {
  protected store!: RoomStore;
  protected commit!: Commit;
  /** Readers waiting for the room chat (both dialects write it). */
  private readonly chatFeed = new ChatFeed();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.store = new RoomStore(ctx.storage.sql);
      this.commit = new Commit(ctx.storage, this.store, new IndexSync(env.DB, this.store), () => [this.chatFeed, ...this.presences()]);
      await this.commit.start();
    });
  }

  /** The live protocols this object hosts (none in the core). */
  protected presences(): Presence[] {
    return [];
  }

  /** The one write path: runs a synchronous operation and commits what it changed. */
  protected async apply<T>(op: (tx: Tx) => Outcome<T>): Promise<Outcome<T>> {
    const meta = this.store.meta;
    if (!meta) return fail(404, "room");
    const tx: Tx = { store: this.store, meta, change: new RoomChange() };
    const result = op(tx);
    // A refused operation wrote nothing; D1 still learns whatever an earlier crash left pending.
    if (result.ok) await this.commit.finish(tx.change);
    else await this.commit.flushIndex();
    return result;
  }

  private viewOf(attendee: Attendee | null, session: CallerView["session"]): CallerView {
    return { meta: { ...(this.store.meta as RoomMeta), ...this.store.liveCounts() }, attendee, session, chat: attendee ? this.chatFacts(attendee) : null };
  }

  /** What a member's conversation object says about the chat (no query but the common read marker). */
  private chatFacts(a: Attendee): ChatFacts {
    const chat = this.store.chat;
    return {
      lastMessage: chat.lastMessage(),
      unreadMessages: unreadCount(a, chat.commentCount(), () => chat.messageCount()),
      unreadMention: a.lastMentionMessage > a.lastReadMessage,
      unreadMentionDirect: a.lastMentionDirect > a.lastReadMessage,
      lastReadMessage: a.lastReadMessage,
      lastCommonReadMessage: this.store.lastCommonRead(),
    };
  }

  private viewAfter(a: { attendee: { id: number } | null; session: CallerView["session"] }): CallerView {
    const self = a.attendee ? this.store.attendeeById(a.attendee.id) : null;
    return this.viewOf(self ? stripUser(self) : null, a.session);
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle and views

  /** Creates the room (idempotent for the same id); the owner becomes attendee type 1. */
  async create(init: RoomInit): Promise<RoomSnapshot> {
    if (!this.store.meta) {
      const now = nowSeconds();
      const tx: Tx = { store: this.store, meta: this.store.insertMeta(init, now), change: new RoomChange() };
      const actor = init.owner ? actorOf(init.owner) : SYSTEM_ACTOR;
      recordSystem(tx, actor, "conversation_created");
      if (init.owner) membership.insertMember(tx, { ...init.owner, participantType: ParticipantType.Owner });
      // One-to-one rooms record only their creation (the reference does the same).
      membership.addMembers(tx, init.members ?? [], isOneToOne(init.type) ? undefined : actor);
      if (init.eventRoom) this.store.markPending("orphan-check");
      tx.change.settings = true;
      await this.commit.finish(tx.change);
    } else {
      await this.commit.flushIndex();
    }
    return this.snapshotNow() as RoomSnapshot;
  }

  /** The caller's view, or null when the room does not exist. */
  async view(caller: Caller): Promise<CallerView | null> {
    if (!this.store.meta) return null;
    const session = callerSession(this.store, caller);
    const attendee = callerAttendee(this.store, caller, session);
    return this.viewOf(attendee ? stripUser(attendee) : null, session && attendee && session.attendeeId === attendee.id ? session : null);
  }

  /** What a signed-in caller may do here (the OpenTalk routes ask before anything else). */
  async grant(caller: Caller): Promise<RoomGrant | null> {
    const meta = this.store.meta;
    if (!meta) return null;
    const attendee = callerAttendee(this.store, caller, null);
    // Non-members see a room they could join (a public room, an OpenTalk room they administer).
    if (!attendee && !isOwner(meta, caller, null) && !selfJoinAllowed(meta, caller)) return null;
    return {
      meta: { ...meta },
      attendee: attendee ? stripUser(attendee) : null,
      configure: meets("configure", meta, caller, attendee),
      moderator: meets("moderator", meta, caller, attendee),
      owner: isOwner(meta, caller, attendee),
    };
  }

  async snapshot(): Promise<RoomSnapshot | null> {
    return this.snapshotNow();
  }

  private snapshotNow(): RoomSnapshot | null {
    if (!this.store.meta) return null;
    return { meta: { ...this.store.meta }, attendees: this.store.attendees().map(stripUser), sessions: this.store.sessions() };
  }

  // -------------------------------------------------------------------------------------------
  // Sessions

  /**
   * Starts a Talk session for the caller. Non-members may join public rooms (users as self-joined,
   * guests as guests) with the password, and listed group rooms (users).
   */
  async join(caller: Caller, options: { password?: string; force: boolean }): Promise<Outcome<CallerView>> {
    const meta = this.store.meta;
    if (!meta) return fail(404, "room");
    const planned = sessions.planJoin({ store: this.store, meta, change: new RoomChange() }, caller);
    if (!planned.ok) return planned;
    const plan = planned.value;
    if (plan.needsPassword && !(await verifyPassword(options.password ?? "", meta.passwordHash as string))) return fail(403, "password");
    const sessionId = randomSessionId(caller.tabId);
    // Only a guest's first session names a new attendee (users are found by their user id).
    const guestActorId = caller.kind === "user" && caller.userid ? "" : await sha1Hex(sessionId);
    const awaited = plan.needsPassword || guestActorId !== "";
    const joined = await this.apply((tx) => sessions.join(tx, caller, plan, { force: options.force, sessionId, guestActorId, awaited }));
    if (!joined.ok) return joined;
    return ok({ ...this.viewOf(stripUser(joined.value.attendee), joined.value.session), invitationAnswered: joined.value.invitationAnswered });
  }

  /** Talk's session state: 1 active (the client is in front), 0 inactive (hidden or away); answers the caller's view. */
  async setSessionState(caller: Caller, state: number): Promise<Outcome<CallerView>> {
    if (!this.store.meta) return fail(404, "room");
    const session = callerSession(this.store, caller);
    if (!session) return fail(404, "session");
    if (state !== 0 && state !== 1) return fail(400, "state");
    if (session.state !== state) this.store.setSessionState(session.id, state);
    return ok((await this.view(caller)) as CallerView);
  }

  /** Ends the caller's Talk session here. */
  async leave(caller: Caller): Promise<void> {
    await this.apply((tx) => {
      sessions.leave(tx, caller);
      return ok(null);
    });
  }

  /** Expiry, activity counts, the lobby timer, orphan checks, presences' duties, D1 retries. */
  override async alarm(): Promise<void> {
    this.commit.fired();
    const meta = this.store.meta;
    const change = new RoomChange();
    if (meta) {
      const tx: Tx = { store: this.store, meta, change };
      sessions.expireSessions(tx, nowSeconds() - SESSION_KILL_SECONDS);
      recomputeCall(tx);
      openLobbyByTimer(tx);
      const live = this.store.liveCounts();
      if (live.activeUsers !== meta.activeUsers || live.activeGuests !== meta.activeGuests) {
        Object.assign(meta, live);
        change.settings = true;
      }
    }
    await this.commit.finish(change);
    for (const presence of this.presences()) await presence.alarm(Date.now());
    await this.checkOrphan();
    await this.commit.arm();
  }

  /** A room made for an event that never got it (a crash between the two writes) removes itself. */
  private async checkOrphan(): Promise<void> {
    const meta = this.store.meta;
    const check = this.store.hasPending("orphan-check") ? this.store.pending().find((p) => p.key === "orphan-check") : undefined;
    if (!meta || !check || nowSeconds() - meta.createdAt < ORPHAN_GRACE_SECONDS) return;
    const claimed = await drizzle(this.env.DB).select({ id: events.id }).from(events).where(eq(events.roomId, meta.id)).get();
    if (claimed) {
      this.store.settled([check]);
      return;
    }
    await this.apply((tx) => this.wipe(tx));
  }

  // -------------------------------------------------------------------------------------------
  // Settings and deletion

  /** Any room setting, one rule per field, for both dialects. Returns the caller's fresh view. */
  async updateSettings(caller: Caller, patch: SettingsPatch): Promise<Outcome<CallerView>> {
    const done = await this.apply((tx) => updateSettings(tx, caller, patch));
    return done.ok ? ok(this.viewAfter(done.value)) : done;
  }

  /** One per-user preference of the caller (favourite, notification level, call notifications). */
  async setPreference(caller: Caller, key: "favorite" | "notification_level" | "notification_calls", value: number): Promise<Outcome<CallerView>> {
    const done = await this.apply((tx) => setPreference(tx, caller, key, value));
    return done.ok ? ok(this.viewAfter(done.value)) : done;
  }

  /** Deletes the room and everything in it (configure rights; never one-to-one rooms). */
  async destroy(caller: Caller): Promise<Outcome<null>> {
    return this.apply((tx) => {
      const granted = access(tx, caller, "configure");
      if (!granted.ok) return granted;
      if (isOneToOne(tx.meta.type)) return fail(400, "type");
      return this.wipe(tx);
    });
  }

  private wipe(tx: Tx): Outcome<null> {
    tx.change.deletedId = this.store.meta?.id ?? null;
    this.store.wipe();
    tx.change.deleted = true;
    return ok(null);
  }

  // -------------------------------------------------------------------------------------------
  // Chat

  /** Sends a message to the room chat (or an OpenTalk group/private chat). */
  async sendMessage(caller: Caller, input: chat.SendInput): Promise<Outcome<chat.Sent & ChatRoomFacts>> {
    const sent = await this.apply((tx) => chat.sendMessage(tx, caller, input));
    return sent.ok ? ok({ ...sent.value, ...this.chatRoomFacts() }) : sent;
  }

  async editMessage(caller: Caller, messageId: number, text: string, defaultGroupNotification = 2): Promise<Outcome<chat.Rewritten & ChatRoomFacts>> {
    const done = await this.apply((tx) => chat.editMessage(tx, caller, messageId, text, defaultGroupNotification));
    return done.ok ? ok({ ...done.value, ...this.chatRoomFacts() }) : done;
  }

  async deleteMessage(caller: Caller, messageId: number): Promise<Outcome<chat.Rewritten & ChatRoomFacts>> {
    const done = await this.apply((tx) => chat.deleteMessage(tx, caller, messageId));
    return done.ok ? ok({ ...done.value, ...this.chatRoomFacts() }) : done;
  }

  async clearHistory(caller: Caller, source: string | null = null): Promise<Outcome<StoredMessage>> {
    return this.apply((tx) => chat.clearHistory(tx, caller, { source }));
  }

  async switchChat(caller: Caller, enabled: boolean, source: string | null): Promise<Outcome<null>> {
    return this.apply((tx) => chat.switchChat(tx, caller, enabled, source));
  }

  /** Sets the caller's read marker (null: the newest message); returns their fresh view. */
  async setReadMarker(caller: Caller, messageId: number | null): Promise<Outcome<CallerView>> {
    const done = await this.apply((tx) => chat.setReadMarker(tx, caller, messageId));
    return done.ok ? ok(this.viewAfter(done.value)) : done;
  }

  async markUnread(caller: Caller): Promise<Outcome<CallerView>> {
    const done = await this.apply((tx) => chat.markUnread(tx, caller));
    return done.ok ? ok(this.viewAfter(done.value)) : done;
  }

  /**
   * Reads the room chat (Talk's receive): the history before `lastKnown` (newest first), or the
   * messages after it (oldest first), waiting up to `timeout` seconds for some when there are none.
   * Polling with `setReadMarker` first moves the reader's marker to `lastKnown`.
   */
  async receiveMessages(caller: Caller, q: ChatQuery): Promise<Outcome<ChatPage>> {
    const first = chatRead.reader(this.readTx(), caller);
    if (!first.ok) return first;
    let attendee = first.value;
    if (q.lookIntoFuture && q.setReadMarker && q.lastKnown > attendee.lastReadMessage) {
      const moved = await this.apply((tx) => chat.setReadMarker(tx, caller, q.lastKnown));
      if (moved.ok) attendee = moved.value.attendee;
    }
    const deadline = Date.now() + q.timeout * 1000;
    for (;;) {
      const page = chatRead.readPage(this.store, q, attendee);
      const left = deadline - Date.now();
      if (page.settled || left <= 0) return ok(page.page);
      await this.chatFeed.wait(left);
      // Removed meanwhile (or the room went away): nothing more to read.
      const still = chatRead.reader(this.readTx(), caller);
      if (!still.ok) return still;
    }
  }

  /** Members who could be mentioned, matching `search` (id or name, case-insensitive). */
  async mentionCandidates(caller: Caller, search: string, limit: number): Promise<Outcome<MentionCandidates>> {
    return chatRead.mentionCandidates(this.readTx(), caller, search, limit);
  }

  /** What a chat answer tells its dialect besides the message: the common read marker, the room's name and kind. */
  private chatRoomFacts(): ChatRoomFacts {
    const meta = this.store.meta;
    return { lastCommonRead: this.store.lastCommonRead(), roomName: meta?.name ?? "", oneToOne: meta ? isOneToOne(meta.type) : false };
  }

  /** A working set for reads (nothing is committed from it). */
  private readTx(): Tx {
    return { store: this.store, meta: this.store.meta as RoomMeta, change: new RoomChange() };
  }

  // -------------------------------------------------------------------------------------------
  // Participants

  /** Every attendee with their live sessions (not for plain guests; held back by the lobby). */
  async participants(caller: Caller): Promise<Outcome<ParticipantList>> {
    const meta = this.store.meta;
    if (!meta) return fail(404, "room");
    const granted = participantAccess({ store: this.store, meta, change: new RoomChange() }, caller, "participant");
    if (!granted.ok) return granted;
    const { attendee } = granted.value;
    if (attendee.participantType === ParticipantType.Guest) return fail(403, "guest");
    if (inLobby(meta, attendee)) return fail(412, "lobby");
    return ok({
      meta: { ...meta, ...this.store.liveCounts() },
      self: stripUser(attendee),
      attendees: this.store.listedAttendees(),
      sessions: this.store.liveSessions(nowSeconds() - SESSION_KILL_SECONDS),
    });
  }

  async addParticipants(
    caller: Caller,
    members: NewMember[],
  ): Promise<Outcome<{ meta: RoomMeta; type: number; typeChanged: boolean; invited: Attendee[]; addedUsers: { userUuid: string; actorId: string }[] }>> {
    return this.apply((tx) => membership.addParticipants(tx, caller, members));
  }

  /** Members the Worker vouches for (room creation flows, re-adding a one-to-one partner). */
  async addMembers(members: NewMember[]): Promise<number> {
    const done = await this.apply((tx) => {
      const added = membership.addMembers(tx, members);
      tx.change.settings = added > 0;
      return ok(added);
    });
    return done.ok ? done.value : 0;
  }

  /** Users who left a group attendee (or lost it): plain members without another such group go. */
  async pruneGroupLeavers(leavers: GroupLeaver[], removedGroup?: string): Promise<Outcome<number>> {
    return this.apply((tx) => ok(membership.pruneGroupLeavers(tx, leavers, removedGroup)));
  }

  /** Removes an attendee; removing oneself follows the leave-for-good rules. */
  async removeAttendee(caller: Caller, attendeeId: number): Promise<Outcome<Removal>> {
    return this.apply((tx) => {
      const removed = membership.removeOther(tx, caller, attendeeId);
      if (!removed.ok || removed.value !== "self") return removed as Outcome<Removal>;
      return this.leaveForGood(tx, caller);
    });
  }

  /** Leaves the conversation for good. The last member leaving deletes the room. */
  async removeSelf(caller: Caller): Promise<Outcome<Removal>> {
    return this.apply((tx) => this.leaveForGood(tx, caller));
  }

  private leaveForGood(tx: Tx, caller: Caller): Outcome<Removal> {
    const left = membership.leaveForGood(tx, caller);
    if (!left.ok || left.value !== "wipe") return left as Outcome<Removal>;
    this.wipe(tx);
    return ok({ roomDeleted: true });
  }

  /** A user changed their read privacy: their row here follows. */
  async setReadPrivacy(userid: string, privacy: number): Promise<void> {
    await this.apply((tx) => chat.setReadPrivacy(tx, userid, privacy));
  }

  /** The user's account is gone (the Worker deletes it after every room has let them go). */
  async userDeleted(userid: string, displayName: string): Promise<void> {
    await this.apply((tx) => {
      const done = membership.userDeleted(tx, userid, displayName);
      if (done.ok && done.value === "wipe") return this.wipe(tx);
      return ok(null);
    });
  }

  async changeRole(caller: Caller, attendeeId: number, direction: "promote" | "demote"): Promise<Outcome<null>> {
    return this.apply((tx) => membership.changeRole(tx, caller, attendeeId, direction));
  }

  /** Sets, adds or removes permissions of one attendee. Returns that attendee and their sessions. */
  async setAttendeePermissions(caller: Caller, attendeeId: number, method: PermissionMethod, value: number): Promise<Outcome<ParticipantList>> {
    const done = await this.apply((tx) => membership.setAttendeePermissions(tx, caller, attendeeId, method, value));
    if (!done.ok) return done;
    const updated = this.store.attendeeById(attendeeId);
    return ok({
      meta: { ...(this.store.meta as RoomMeta) },
      self: stripUser(done.value.attendee ?? (updated as NonNullable<typeof updated>)),
      attendees: updated ? [stripUser(updated)] : [],
      sessions: this.store.sessionsOf(attendeeId),
    });
  }

  async setAllPermissions(caller: Caller, method: PermissionMethod, value: number): Promise<Outcome<CallerView>> {
    const done = await this.apply((tx) => membership.setAllPermissions(tx, caller, method, value));
    return done.ok ? ok(this.viewAfter(done.value)) : done;
  }

  async invitationTargets(caller: Caller, attendeeId: number | null): Promise<Outcome<{ meta: RoomMeta; invitees: Attendee[] }>> {
    return this.apply((tx) => membership.invitationTargets(tx, caller, attendeeId));
  }

  async setGuestName(caller: Caller, displayName: string): Promise<Outcome<null>> {
    return this.apply((tx) => membership.setGuestName(tx, caller, displayName));
  }

  /** An event invite's membership (the event's owner acts). */
  async setInvitedUser(caller: Caller, member: NewMember, participantType: number | null): Promise<Outcome<boolean>> {
    return this.apply((tx) => membership.setInvitedUser(tx, caller, member, participantType));
  }

  // -------------------------------------------------------------------------------------------
  // Calls, lobby and SIP dial-in

  async callPeers(caller: Caller): Promise<Outcome<CallPeer[]>> {
    return this.apply((tx) => calls.callPeers(tx, caller));
  }

  async joinCall(caller: Caller, flags: number, consent = { required: false, given: false }, silent = false): Promise<Outcome<CallStart>> {
    return this.apply((tx) => calls.joinCall(tx, caller, flags, consent, silent));
  }

  /** The running call's start (Unix seconds), or null when there is none. */
  async callStartTime(): Promise<number | null> {
    return this.store.meta && this.store.meta.callFlag !== 0 ? this.store.meta.callStartTime : null;
  }

  /** What a user's call notification should do now (Talk's notification-state). */
  async callNotificationState(userUuid: string): Promise<calls.CallNotificationState> {
    return calls.callNotificationState({ store: this.store }, userUuid, nowSeconds());
  }

  async updateCallFlags(caller: Caller, flags: number): Promise<Outcome<null>> {
    return this.apply((tx) => calls.updateCallFlags(tx, caller, flags));
  }

  async leaveCall(caller: Caller, all: boolean): Promise<Outcome<null>> {
    return this.apply((tx) => calls.leaveCall(tx, caller, all));
  }

  async ringTarget(caller: Caller, attendeeId: number): Promise<Outcome<calls.RingTarget>> {
    return this.apply((tx) => calls.ringTarget(tx, caller, attendeeId));
  }

  async dialoutCheck(caller: Caller): Promise<Outcome<null>> {
    return this.apply((tx) => calls.dialoutCheck(tx, caller));
  }

  /** Users the lobby holds back right now (their pending call notifications are withdrawn). */
  async usersHeldInLobby(): Promise<string[]> {
    const meta = this.store.meta;
    if (meta?.lobbyState !== 1) return [];
    return this.store.attendees("actor_type = 'users' AND user_uuid IS NOT NULL").filter((a) => inLobby(meta, a)).map((a) => a.userUuid as string);
  }

  /** The attendee a dial-in PIN belongs to (the SIP bridge looks callers up by PIN). */
  async attendeeByPin(pin: string): Promise<Outcome<CallerView>> {
    const meta = this.store.meta;
    if (!meta) return fail(404, "room");
    const found = this.store.attendeeByPin(pin);
    if (!found || meta.sipEnabled === 0) return fail(404, "pin");
    return ok(this.viewOf(stripUser(found), null));
  }
}

function randomSessionId(tabId: string | undefined): string {
  return randomString(255, ALNUM) + (tabId ? `$${tabId}` : "");
}
