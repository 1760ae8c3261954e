/**
 * The room's side of Talk's standalone signaling: which signaling sessions joined with which Talk
 * session, the rule of joining, routing between the room's sessions (sockets here, visitors from
 * other rooms' sockets, long-poll sessions in the call), and what every committed room change
 * tells them. The socket protocol around it is protocol.ts.
 */
import { ROOM_SCOPE } from "../../room/chat-store";
import { ok, type Outcome } from "../../room/contract";
import type { Tx } from "../../room/ops/actor";
import { endSession } from "../../room/ops/sessions";
import { isLoggedInModeratorType } from "../../room/permissions";
import type { RoomChange } from "../../room/presence";
import { inLobby } from "../../room/rules";
import { nowSeconds, type RoomStore } from "../../room/store";
import type { RoomMeta } from "../../room/types";
import { ERRORS, type ErrorCode, errorFrame, eventFrame, frame, type Recipient, roomProperties } from "./frames";
import { type Member, Members } from "./members";
import { close, SessionTable, send, TALK_SOCKET_TAG, type WsSession } from "./sessions";
import { Outbox, type PeerLookup, type Visit, type VisitorRequest } from "./visits";

/**
 * How often the Talk sessions of connected sockets are pinged (the reference's signaling server
 * pings Nextcloud for its sessions too): within Talk's 30-second "in the call" window.
 */
export const PING_INTERVAL_MS = 20_000;

export interface StandaloneHost {
  readonly ctx: DurableObjectState;
  readonly store: RoomStore;
  readonly secret: string;
  apply<T>(op: (tx: Tx) => Outcome<T>): Promise<Outcome<T>>;
  armAlarm(): Promise<void>;
  /** Queues a message for a Talk session that signals by long-poll (and wakes its poll). */
  queueForLongPoll(talkSession: string, message: string): void;
  /** Another conversation's room object, by token (for sessions that join it over this socket). */
  peer: PeerLookup;
}

export class SignalingRoom {
  readonly sessions: SessionTable;
  private readonly members: Members;
  /** Frames for visitors, on their way to the sockets of their home rooms. */
  private readonly outbox: Outbox;
  /** The last ping duty (a room join pings its session itself). */
  private lastPingRun = Date.now();
  /** The room's token, remembered for the last word to sockets when the room is deleted. */
  private token = "";

  constructor(private readonly host: StandaloneHost) {
    this.members = new Members(host.store, host.ctx.storage.sql);
    this.sessions = new SessionTable(host.ctx);
    this.outbox = new Outbox(
      () => this.token,
      host.peer,
      async (home, sids) => {
        for (const sid of sids) {
          const visitor = this.sessions.get(sid);
          if (visitor?.home === home) await this.endVisitor(visitor);
        }
      },
    );
  }

  /** The sessions and sockets, read once after the object woke up. */
  load(): void {
    if (this.sessions.load()) this.token = this.host.store.meta?.token ?? "";
  }

  // -------------------------------------------------------------------------------------------
  // Joining and leaving

  /**
   * Joins this room with a Talk session of it (the hello's own: a user's for that user, a guest's
   * for a guest), leaving the one the signaling session was in. Answers on the session's socket,
   * here or at its home room.
   */
  async join(session: WsSession, roomid: string, talkId: string | undefined, id: string | undefined): Promise<"joined" | "already" | "refused"> {
    const store = this.host.store;
    if (store.meta && session.talkSession !== null && session.talkSession === talkId && store.sessionById(talkId)) {
      this.post(session, errorFrame("already_joined", ERRORS.already_joined, id, { room: { roomid, properties: roomProperties(store.meta) } }));
      return "already";
    }
    if (session.talkSession !== null) await this.leaveRoom(session);
    const meta = store.meta;
    const talk = talkId ? store.sessionById(talkId) : null;
    const attendee = talk ? store.attendeeById(talk.attendeeId) : null;
    const own = attendee !== null && (session.userId !== null ? attendee.actorType === "users" && attendee.actorId === session.userId : attendee.actorType !== "users");
    const refusal: ErrorCode | null = !meta || roomid !== meta.token || !talk || !attendee || !own ? "no_such_room" : this.sessions.signalingOf(talk.id) ? "duplicate_session" : null;
    if (refusal || !meta || !talk || !attendee) {
      this.post(session, errorFrame(refusal ?? "no_such_room", ERRORS[refusal ?? "no_such_room"], id));
      return "refused";
    }
    this.sessions.setJoined(session, { talkSession: talk.id, attendeeId: attendee.id, displayName: attendee.displayName || session.displayName });
    store.ping(talk.id, nowSeconds());
    this.post(session, frame("room", { roomid, properties: roomProperties(meta) }, id));
    this.sync(meta, session);
    await this.host.armAlarm();
    return "joined";
  }

  /** Leaves the room: the Talk session ends, as the reference's backend ends it on `leave`. */
  async leaveRoom(session: WsSession): Promise<void> {
    const talk = session.talkSession;
    if (!talk) return;
    this.sessions.setJoined(session, null);
    await this.endTalkSession(talk);
  }

  async endTalkSession(talk: string): Promise<void> {
    await this.host.apply((tx) => {
      const s = tx.store.sessionById(talk);
      if (s) endSession(tx, s);
      return ok(null);
    });
  }

  /** Forgets a signaling session for good (no resumption). */
  drop(session: WsSession): void {
    this.sessions.remove(session);
    if (this.sessions.size === 0) this.members.forget();
  }

  /** Everyone in the room as a `participants` update (for a session that resumed). */
  participantsFrame(meta: RoomMeta): string {
    return eventFrame("participants", "update", { roomid: meta.token, users: this.members.current(meta, this.sessions.byTalk()).map((m) => m.entry) });
  }

  // -------------------------------------------------------------------------------------------
  // Visitors: sessions of other rooms' sockets that joined this room (see visits.ts)

  /** A session of another room's socket joins this room. */
  async visit(visit: Visit): Promise<void> {
    this.load();
    let session = this.sessions.get(visit.sid);
    if (session && session.home !== visit.home) return;
    if (!session) {
      session = { sid: visit.sid, userId: visit.userId, displayName: visit.displayName, features: visit.features, talkSession: null, attendeeId: null, connected: true, expires: null, away: null, home: visit.home };
      this.sessions.add(session, `visit:${session.sid}`);
    }
    if ((await this.join(session, visit.roomid, visit.talkId, visit.id)) === "refused") {
      this.drop(session);
      this.outbox.push(visit.home, { sid: session.sid, end: true });
    }
  }

  /** A visitor's `message` or `control`; false when this room does not know the session (anymore). */
  visitorRequest(sid: string, request: VisitorRequest): boolean {
    this.load();
    const session = this.sessions.get(sid);
    if (!session?.home) return false;
    this.route(session, request);
    return true;
  }

  /** The visitor left (or said bye, or its home expired it): its Talk session here ends. */
  async visitEnd(sid: string): Promise<void> {
    this.load();
    const session = this.sessions.get(sid);
    if (session?.home) await this.endVisitor(session, false);
  }

  /** The visitor's socket was resumed at its home: it gets the room's participants anew. */
  visitResumed(sid: string): void {
    this.load();
    const session = this.sessions.get(sid);
    const meta = this.host.store.meta;
    if (session?.home && meta && this.joined(session)) {
      this.post(session, this.participantsFrame(meta));
    }
  }

  /** Forgets a visitor, ends its Talk session here, and (unless it asked) tells its home room. */
  private async endVisitor(session: WsSession, tellHome = true): Promise<void> {
    if (tellHome && session.home) this.outbox.push(session.home, { sid: session.sid, end: true });
    this.drop(session);
    if (session.talkSession) await this.endTalkSession(session.talkSession);
  }

  /** A frame to a session's socket: here, or at its home room for a visitor. */
  post(session: WsSession, text: string): void {
    if (session.home) {
      this.outbox.push(session.home, { sid: session.sid, text });
      return;
    }
    const ws = this.sessions.socket(session.sid);
    if (ws) send(ws, text);
  }

  // -------------------------------------------------------------------------------------------
  // Messages between sessions


  /**
   * `message` (or moderators' `control`) to a session, a user, the room or the call. Recipients
   * with a socket get the frame; sessions on the internal long-poll get it queued in their format.
   */
  route(session: WsSession, { kind, routed, id }: VisitorRequest): void {
    const store = this.host.store;
    const meta = store.meta;
    const talk = session.talkSession ? store.sessionById(session.talkSession) : null;
    const sender = talk ? store.attendeeById(talk.attendeeId) : null;
    if (!meta || !talk || !sender) {
      this.post(session, errorFrame("not_in_room", ERRORS.not_in_room, id));
      return;
    }
    // Control messages need the `control` permission: logged-in moderators (ignored otherwise).
    if (kind === "control" && !(sender.actorType === "users" && isLoggedInModeratorType(sender.participantType))) return;
    if (inLobby(meta, sender)) {
      this.post(session, errorFrame("not_allowed", ERRORS.not_allowed, id));
      return;
    }
    const out = frame(kind, { sender: { type: routed.recipient.type, sessionid: session.sid, ...(session.userId ? { userid: session.userId } : {}) }, data: routed.data });
    for (const target of this.recipients(meta, routed.recipient, talk.id)) {
      if (target.ws) {
        this.post(target.ws, out);
      } else if (routed.data !== null && typeof routed.data === "object") {
        const data = routed.data as Record<string, unknown>;
        const queued = kind === "control" ? { to: target.talk, type: "control", payload: data, from: talk.id } : { ...data, from: talk.id };
        this.host.queueForLongPoll(target.talk, JSON.stringify(queued));
      }
    }
  }

  /** The Talk sessions a message goes to (never the sender's, never one held in the lobby). */
  private recipients(meta: RoomMeta, recipient: Recipient, from: string): { talk: string; ws: WsSession | null }[] {
    const store = this.host.store;
    const byTalk = this.sessions.byTalk();
    const target = (talk: string, rights: { participantType: number; permissions: number } | null) =>
      talk === from || !rights || inLobby(meta, rights) ? [] : [{ talk, ws: byTalk.get(talk) ?? null }];
    if (recipient.type === "session") {
      const talk = this.sessions.get(recipient.sessionid)?.talkSession ?? recipient.sessionid;
      const session = store.sessionById(talk);
      return target(talk, session ? store.attendeeById(session.attendeeId) : null);
    }
    // One query for a user, the call or the room: the sessions with their attendees' rights.
    return store
      .sessionsWithAttendees(0)
      .filter((s) => (recipient.type === "user" ? s.actorType === "users" && s.actorId === recipient.userid : recipient.type === "call" ? s.inCall !== 0 : true))
      .flatMap((s) => target(s.id, s));
  }

  /**
   * A long-poll client's message to a session that signals over a socket. Returns false when the
   * recipient has no socket here (then the long-poll queue keeps it).
   */
  relayFromLongPoll(to: string, message: { type: string; payload?: unknown; [key: string]: unknown }, from: { talk: string; userId: string | null }): boolean {
    this.load();
    const session = this.sessions.signalingOf(to);
    if (!session) return false;
    const sender = { type: "session", sessionid: from.talk, ...(from.userId ? { userid: from.userId } : {}) };
    this.post(session, message.type === "control" ? frame("control", { sender, data: message.payload }) : frame("message", { sender, data: message }));
    return true;
  }

  joined(session: WsSession): boolean {
    return session.talkSession !== null && this.host.store.sessionById(session.talkSession) !== null;
  }

  // -------------------------------------------------------------------------------------------
  // Room changes

  changed(change: RoomChange, meta: RoomMeta | null): void {
    this.load();
    if (this.sessions.size === 0) return;
    if (change.deleted || !meta) {
      const deleted = eventFrame("roomlist", "disinvite", { roomid: this.token, reason: "deleted" });
      for (const session of this.sessions.all()) {
        // Visitors are told, and their sockets (their home room's) stay.
        if (session.home) this.outbox.push(session.home, { sid: session.sid, text: deleted, end: true });
      }
      for (const ws of this.host.ctx.getWebSockets(TALK_SOCKET_TAG)) {
        send(ws, deleted);
        close(ws, "room deleted");
      }
      this.sessions.clear();
      return;
    }
    const removed = new Set(change.removed.filter((m) => !m.left).map((m) => m.attendeeId));
    const disinvited = eventFrame("roomlist", "disinvite", { roomid: meta.token, reason: "disinvited" });
    for (const session of this.sessions.all()) {
      if (session.talkSession === null) continue;
      const ws = this.sessions.socket(session.sid);
      if (session.home && (removed.has(session.attendeeId ?? -1) || !this.host.store.sessionById(session.talkSession))) {
        // A visitor removed, or whose Talk session ended: told so; its home room's socket stays.
        this.outbox.push(session.home, { sid: session.sid, text: disinvited, end: true });
        this.drop(session);
      } else if (session.attendeeId !== null && removed.has(session.attendeeId)) {
        // Removed from the conversation: told so, and the socket ends.
        if (ws) {
          send(ws, disinvited);
          close(ws, "disinvited");
        }
        this.drop(session);
      } else if (!this.host.store.sessionById(session.talkSession)) {
        // The Talk session ended elsewhere (replaced by a newer join, left, expired): out of the room.
        this.sessions.setJoined(session, null);
        if (ws) send(ws, disinvited);
      }
    }
    if (change.settings || change.lobby !== null || change.readOnly) {
      this.broadcast(eventFrame("roomlist", "update", { roomid: meta.token, properties: roomProperties(meta) }), false);
    }
    if (change.messages.some((m) => m.scope === ROOM_SCOPE) || change.historyCleared?.scope === ROOM_SCOPE) {
      this.broadcast(eventFrame("room", "message", { roomid: meta.token, data: { type: "chat", chat: { refresh: true } } }), true);
    }
    const listening = this.sessions.all().some((s) => s.talkSession !== null);
    if (listening && (change.sessions || change.settings || change.lobby !== null || change.updated.length > 0 || change.removed.length > 0)) this.sync(meta);
  }

  /**
   * Announces what changed among the room's sessions to every joined socket: `join` and `leave`
   * room events, and a `participants` update (`changed` and all `users`) when in-call flags, types
   * or permissions moved. A socket that just joined gets the whole room instead.
   */
  private sync(meta: RoomMeta, joiner?: WsSession): void {
    const members = this.members.current(meta, this.sessions.byTalk());
    const diff = this.members.diff(members);
    const users = members.map((m) => m.entry);
    const frames: string[] = [];
    if (diff.left.length > 0) frames.push(eventFrame("room", "leave", diff.left));
    if (diff.joined.length > 0) frames.push(eventFrame("room", "join", diff.joined));
    if (diff.changed.length > 0) frames.push(eventFrame("participants", "update", { roomid: meta.token, changed: diff.changed, users }));
    for (const session of this.sessions.all()) {
      if (session === joiner || !session.talkSession) continue;
      for (const f of frames) this.post(session, f);
    }
    if (joiner) {
      this.post(joiner, eventFrame("room", "join", members.map((m: Member) => m.join)));
      if (users.some((u) => u.inCall !== 0)) this.post(joiner, eventFrame("participants", "update", { roomid: meta.token, users }));
    }
  }

  /** One frame to every socket of the room (joined ones only, or every authenticated one). */
  private broadcast(text: string, joinedOnly: boolean): void {
    for (const session of this.sessions.all()) {
      if (joinedOnly && !session.talkSession) continue;
      this.post(session, text);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Keeping joined Talk sessions alive

  /** When the joined sessions are due for their next ping, if any joined. */
  nextPing(): number | null {
    return this.sessions.all().some((s) => s.connected && s.talkSession) ? this.lastPingRun + PING_INTERVAL_MS : null;
  }

  ping(now: number): void {
    if (now - this.lastPingRun < PING_INTERVAL_MS - 1000) return;
    this.lastPingRun = now;
    const at = nowSeconds();
    for (const s of this.sessions.all()) if (s.connected && s.talkSession) this.host.store.ping(s.talkSession, at);
  }
}
