/**
 * Talk's standalone signaling protocol served by the room object itself (no separate signaling
 * server): `api/v3/signaling/settings?token=` names this room's WebSocket, and the sockets are
 * hibernatable, like OpenTalk's. A socket says `hello` (v1 ticket, v2 token, or a resume), joins
 * the room with the Talk session it got from `participants/active`, and from then on hears every
 * committed room change (join/leave/participants events, room list updates, chat refreshes,
 * removal, deletion) and exchanges WebRTC messages with the room's other sessions — over their
 * sockets, or through the internal long-poll's queue for sessions that signal that way.
 */
import { ROOM_SCOPE } from "../../room/chat-store";
import { ok, type Outcome } from "../../room/contract";
import type { Tx } from "../../room/ops/actor";
import { endSession } from "../../room/ops/sessions";
import { isLoggedInModeratorType } from "../../room/permissions";
import type { Presence, RoomChange } from "../../room/presence";
import { inLobby } from "../../room/rules";
import { nowSeconds, type RoomStore } from "../../room/store";
import type { RoomMeta } from "../../room/types";
import { ALNUM, randomString, sha256Hex } from "../../lib/crypto";
import { EDGETALK_VERSION } from "../../version";
import { verifyHelloTicket, verifyHelloV2 } from "./auth";
import { ClientMessage, ERRORS, type ErrorCode, errorFrame, eventFrame, frame, type Hello, helloParams, IGNORED_TYPES, type Recipient, roomProperties, type Routed, SERVER_FEATURES } from "./frames";
import { type Member, Members } from "./members";

/** The path of the upgrade the Worker forwards to the room object. */
export const TALK_SIGNALING_PATH = "/talk-signaling";
/** The hibernation tag of Talk signaling sockets (OpenTalk's carry their own). */
export const TALK_SOCKET_TAG = "talk-signaling";
/** How long a signaling session whose socket dropped can be resumed before its Talk session ends. */
export const RESUME_WINDOW_MS = 60_000;
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
}

/** What a socket carries across hibernation: its signaling session, once it said hello. */
interface Attachment {
  talk: 1;
  sid: string | null;
}

/** A signaling session (a row of talk_ws_sessions). */
interface WsSession {
  sid: string;
  userId: string | null;
  displayName: string;
  features: string[];
  talkSession: string | null;
  attendeeId: number | null;
  connected: boolean;
  expires: number | null;
}

export class TalkStandalone implements Presence {
  private loaded = false;
  private readonly sessions = new Map<string, WsSession>();
  private readonly sockets = new Map<string, WebSocket>();
  private readonly members: Members;
  /** The last ping duty (a room join pings its session itself). */
  private lastPingRun = Date.now();
  /** The room's token, remembered for the last word to sockets when the room is deleted. */
  private token = "";

  constructor(private readonly host: StandaloneHost) {
    this.members = new Members(host.store, host.ctx.storage.sql);
  }

  private get sql(): SqlStorage {
    return this.host.ctx.storage.sql;
  }

  /** The sessions and sockets, read once after the object woke up. */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    this.token = this.host.store.meta?.token ?? "";
    for (const r of this.sql.exec("SELECT * FROM talk_ws_sessions").toArray()) {
      this.sessions.set(r.sid as string, {
        sid: r.sid as string,
        userId: (r.user_id as string | null) ?? null,
        displayName: r.display_name as string,
        features: JSON.parse(r.features as string) as string[],
        talkSession: (r.talk_session as string | null) ?? null,
        attendeeId: (r.attendee_id as number | null) ?? null,
        connected: r.connected === 1,
        expires: (r.expires as number | null) ?? null,
      });
    }
    for (const ws of this.host.ctx.getWebSockets(TALK_SOCKET_TAG)) {
      const att = ws.deserializeAttachment() as Attachment | null;
      if (att?.sid) this.sockets.set(att.sid, ws);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Sockets

  /** The Worker forwards the upgrade of `/standalone-signaling/{token}/spreed`. */
  accept(request: Request): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("Expected a WebSocket upgrade", { status: 426 });
    if (!this.host.store.meta) return new Response("Not found", { status: 404 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.host.ctx.acceptWebSocket(server, [TALK_SOCKET_TAG]);
    server.serializeAttachment({ talk: 1, sid: null } satisfies Attachment);
    server.send(frame("welcome", { features: SERVER_FEATURES, version: `EdgeTalk ${EDGETALK_VERSION.edgetalk}` }));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Whether a socket belongs to this protocol. */
  static owns(ws: WebSocket): boolean {
    return (ws.deserializeAttachment() as Partial<Attachment> | null)?.talk === 1;
  }

  async message(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    this.load();
    let json: unknown;
    try {
      json = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    } catch {
      send(ws, errorFrame("invalid_format", ERRORS.invalid_format));
      return;
    }
    const type = (json as { type?: unknown } | null)?.type;
    if (typeof type === "string" && IGNORED_TYPES.has(type)) return;
    const parsed = ClientMessage.safeParse(json);
    if (!parsed.success) {
      const id = (json as { id?: unknown } | null)?.id;
      send(ws, errorFrame("invalid_format", ERRORS.invalid_format, typeof id === "string" ? id : undefined));
      return;
    }
    const msg = parsed.data;
    const att = ws.deserializeAttachment() as Attachment | null;
    const session = att?.sid ? this.sessions.get(att.sid) : undefined;
    if (!session) {
      if (msg.type === "hello") await this.hello(ws, msg.hello, msg.id);
      else send(ws, errorFrame("hello_expected", ERRORS.hello_expected, msg.id));
      return;
    }
    switch (msg.type) {
      case "hello":
        return; // already authenticated: ignored, as the reference does
      case "room":
        await this.room(ws, session, msg.room.roomid, msg.room.sessionid, msg.id);
        return;
      case "message":
      case "control":
        this.route(ws, session, msg.type, msg.type === "message" ? msg.message : msg.control, msg.id);
        return;
      case "bye":
        await this.bye(ws, session, msg.id);
        return;
    }
  }

  /** A socket closed or failed: its session may be resumed for a while, then its Talk session ends. */
  async closed(ws: WebSocket): Promise<void> {
    this.load();
    const att = ws.deserializeAttachment() as Attachment | null;
    try {
      ws.close(1000, "closed");
    } catch {
      // already closed
    }
    const session = att?.sid ? this.sessions.get(att.sid) : undefined;
    if (!session || this.sockets.get(session.sid) !== ws) return;
    this.sockets.delete(session.sid);
    session.connected = false;
    session.expires = Date.now() + RESUME_WINDOW_MS;
    this.sql.exec("UPDATE talk_ws_sessions SET connected = 0, expires = ? WHERE sid = ?", session.expires, session.sid);
    await this.host.armAlarm();
  }

  // -------------------------------------------------------------------------------------------
  // hello

  private async hello(ws: WebSocket, hello: Hello, id: string | undefined): Promise<void> {
    if (hello.version !== "1.0" && hello.version !== "2.0") return fail(ws, "invalid_hello_version", id);
    if (hello.resumeid) return this.resume(ws, hello, id);
    if (!hello.auth) return fail(ws, "invalid_format", id);
    if (hello.auth.type !== undefined && hello.auth.type !== "client") return fail(ws, "invalid_client_type", id);
    let identity: { userId: string | null; displayName: string };
    if (hello.version === "1.0") {
      const params = helloParams("1.0", hello.auth.params);
      if (!params || !(await verifyHelloTicket(this.host.secret, params.userid ?? "", params.ticket))) return fail(ws, "invalid_ticket", id);
      identity = { userId: params.userid || null, displayName: "" };
    } else {
      const params = helloParams("2.0", hello.auth.params);
      if (!params) return fail(ws, "invalid_token", id);
      const verified = await verifyHelloV2(this.host.secret, params.token);
      if (!verified.ok) return fail(ws, verified.code, id);
      identity = verified;
    }
    const resumeId = randomString(64, ALNUM);
    const session: WsSession = { sid: randomString(40, ALNUM), ...identity, features: hello.features ?? [], talkSession: null, attendeeId: null, connected: true, expires: null };
    this.sql.exec(
      "INSERT INTO talk_ws_sessions (sid, resume_hash, user_id, display_name, features) VALUES (?, ?, ?, ?, ?)",
      session.sid,
      await sha256Hex(resumeId),
      session.userId,
      session.displayName,
      JSON.stringify(session.features),
    );
    this.sessions.set(session.sid, session);
    this.attach(ws, session);
    send(ws, frame("hello", helloBody(session, hello.version, resumeId), id));
  }

  /** `hello` with a `resumeid`: the session continues on this socket, still in its room. */
  private async resume(ws: WebSocket, hello: Hello, id: string | undefined): Promise<void> {
    const row = this.sql.exec("SELECT sid FROM talk_ws_sessions WHERE resume_hash = ?", await sha256Hex(hello.resumeid ?? "")).toArray()[0];
    const session = row ? this.sessions.get(row.sid as string) : undefined;
    if (!session || (session.expires !== null && session.expires < Date.now())) return fail(ws, "no_such_session", id);
    const previous = this.sockets.get(session.sid);
    if (previous && previous !== ws) {
      previous.serializeAttachment({ talk: 1, sid: null } satisfies Attachment);
      try {
        previous.close(1000, "session resumed elsewhere");
      } catch {
        // gone already
      }
    }
    session.connected = true;
    session.expires = null;
    this.sql.exec("UPDATE talk_ws_sessions SET connected = 1, expires = NULL WHERE sid = ?", session.sid);
    this.attach(ws, session);
    send(ws, frame("hello", helloBody(session, hello.version, hello.resumeid ?? ""), id));
    const meta = this.host.store.meta;
    if (meta && this.joined(session)) {
      const users = this.members.current(meta, this.byTalk()).map((m) => m.entry);
      send(ws, eventFrame("participants", "update", { roomid: meta.token, users }));
    }
  }

  private attach(ws: WebSocket, session: WsSession): void {
    ws.serializeAttachment({ talk: 1, sid: session.sid } satisfies Attachment);
    this.sockets.set(session.sid, ws);
  }

  // -------------------------------------------------------------------------------------------
  // room

  private async room(ws: WebSocket, session: WsSession, roomid: string, talkId: string | undefined, id: string | undefined): Promise<void> {
    if (roomid === "") {
      await this.leaveRoom(session);
      send(ws, frame("room", { roomid: "" }, id));
      return;
    }
    const store = this.host.store;
    if (store.meta && session.talkSession !== null && session.talkSession === talkId && store.sessionById(talkId)) {
      send(ws, errorFrame("already_joined", ERRORS.already_joined, id, { room: { roomid, properties: roomProperties(store.meta) } }));
      return;
    }
    // Joining a room leaves the one the session was in.
    if (session.talkSession !== null) await this.leaveRoom(session);
    const meta = store.meta;
    if (!meta || roomid !== meta.token) return fail(ws, "no_such_room", id);
    const talk = talkId ? store.sessionById(talkId) : null;
    const attendee = talk ? store.attendeeById(talk.attendeeId) : null;
    // The Talk session must be the hello's own: a user's for that user, a guest's for a guest.
    const own = attendee !== null && (session.userId !== null ? attendee.actorType === "users" && attendee.actorId === session.userId : attendee.actorType !== "users");
    if (!talk || !attendee || !own) return fail(ws, "no_such_room", id);
    if (this.signalingOf(talk.id)) return fail(ws, "duplicate_session", id);
    session.talkSession = talk.id;
    session.attendeeId = attendee.id;
    session.displayName = attendee.displayName || session.displayName;
    this.sql.exec("UPDATE talk_ws_sessions SET talk_session = ?, attendee_id = ?, display_name = ? WHERE sid = ?", talk.id, attendee.id, session.displayName, session.sid);
    store.ping(talk.id, nowSeconds());
    send(ws, frame("room", { roomid, properties: roomProperties(meta) }, id));
    this.sync(meta, session);
    await this.host.armAlarm();
  }

  /** Leaves the room: the Talk session ends, as the reference's backend ends it on `leave`. */
  private async leaveRoom(session: WsSession): Promise<void> {
    const talk = session.talkSession;
    if (!talk) return;
    session.talkSession = null;
    session.attendeeId = null;
    this.sql.exec("UPDATE talk_ws_sessions SET talk_session = NULL, attendee_id = NULL WHERE sid = ?", session.sid);
    await this.endTalkSession(talk);
  }

  private async endTalkSession(talk: string): Promise<void> {
    await this.host.apply((tx) => {
      const s = tx.store.sessionById(talk);
      if (s) endSession(tx, s);
      return ok(null);
    });
  }

  private async bye(ws: WebSocket, session: WsSession, id: string | undefined): Promise<void> {
    send(ws, frame("bye", {}, id));
    this.drop(session);
    ws.serializeAttachment({ talk: 1, sid: null } satisfies Attachment);
    try {
      ws.close(1000, "bye");
    } catch {
      // gone already
    }
    if (session.talkSession) await this.endTalkSession(session.talkSession);
  }

  /** Forgets a signaling session for good (no resumption). */
  private drop(session: WsSession): void {
    this.sessions.delete(session.sid);
    this.sockets.delete(session.sid);
    this.sql.exec("DELETE FROM talk_ws_sessions WHERE sid = ?", session.sid);
    if (this.sessions.size === 0) this.members.forget();
  }

  // -------------------------------------------------------------------------------------------
  // Messages between sessions

  /**
   * `message` (or moderators' `control`) to a session, a user, the room or the call. Recipients
   * with a socket get the frame; sessions on the internal long-poll get it queued in their format.
   */
  private route(ws: WebSocket, session: WsSession, kind: "message" | "control", routed: Routed, id: string | undefined): void {
    const store = this.host.store;
    const meta = store.meta;
    const talk = session.talkSession ? store.sessionById(session.talkSession) : null;
    const sender = talk ? store.attendeeById(talk.attendeeId) : null;
    if (!meta || !talk || !sender) {
      fail(ws, "not_in_room", id);
      return;
    }
    // Control messages need the `control` permission: logged-in moderators (ignored otherwise).
    if (kind === "control" && !(sender.actorType === "users" && isLoggedInModeratorType(sender.participantType))) return;
    if (inLobby(meta, sender)) {
      fail(ws, "not_allowed", id);
      return;
    }
    const out = frame(kind, { sender: { type: routed.recipient.type, sessionid: session.sid, ...(session.userId ? { userid: session.userId } : {}) }, data: routed.data });
    for (const target of this.recipients(meta, routed.recipient, talk.id)) {
      const socket = target.ws ? this.sockets.get(target.ws.sid) : undefined;
      if (target.ws) {
        if (socket) send(socket, out);
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
    const byTalk = this.byTalk();
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
    const sid = this.signalingOf(to)?.sid;
    if (!sid) return false;
    const socket = this.sockets.get(sid);
    if (socket) {
      const sender = { type: "session", sessionid: from.talk, ...(from.userId ? { userid: from.userId } : {}) };
      send(socket, message.type === "control" ? frame("control", { sender, data: message.payload }) : frame("message", { sender, data: message }));
    }
    return true;
  }

  /** The signaling session joined with a Talk session, if one did. */
  private signalingOf(talk: string): WsSession | null {
    for (const s of this.sessions.values()) if (s.talkSession === talk) return s;
    return null;
  }

  /** Signaling sessions by the Talk session they joined with. */
  private byTalk(): Map<string, WsSession> {
    const map = new Map<string, WsSession>();
    for (const s of this.sessions.values()) if (s.talkSession !== null) map.set(s.talkSession, s);
    return map;
  }

  private joined(session: WsSession): boolean {
    return session.talkSession !== null && this.host.store.sessionById(session.talkSession) !== null;
  }

  // -------------------------------------------------------------------------------------------
  // Room changes

  changed(change: RoomChange, meta: RoomMeta | null): void {
    this.load();
    if (this.sessions.size === 0) return;
    if (change.deleted || !meta) {
      for (const ws of this.host.ctx.getWebSockets(TALK_SOCKET_TAG)) {
        send(ws, eventFrame("roomlist", "disinvite", { roomid: this.token, reason: "deleted" }));
        close(ws, "room deleted");
      }
      this.sessions.clear();
      this.sockets.clear();
      return;
    }
    const removed = new Set(change.removed.filter((m) => !m.left).map((m) => m.attendeeId));
    for (const session of [...this.sessions.values()]) {
      if (session.talkSession === null) continue;
      const ws = this.sockets.get(session.sid);
      if (session.attendeeId !== null && removed.has(session.attendeeId)) {
        // Removed from the conversation: told so, and the socket ends.
        if (ws) {
          send(ws, eventFrame("roomlist", "disinvite", { roomid: meta.token, reason: "disinvited" }));
          close(ws, "disinvited");
        }
        this.drop(session);
      } else if (!this.host.store.sessionById(session.talkSession)) {
        // The Talk session ended elsewhere (replaced by a newer join, left, expired): out of the room.
        session.talkSession = null;
        session.attendeeId = null;
        this.sql.exec("UPDATE talk_ws_sessions SET talk_session = NULL, attendee_id = NULL WHERE sid = ?", session.sid);
        if (ws) send(ws, eventFrame("roomlist", "disinvite", { roomid: meta.token, reason: "disinvited" }));
      }
    }
    if (change.settings || change.lobby !== null || change.readOnly) {
      this.broadcast(eventFrame("roomlist", "update", { roomid: meta.token, properties: roomProperties(meta) }), false);
    }
    if (change.messages.some((m) => m.scope === ROOM_SCOPE) || change.historyCleared?.scope === ROOM_SCOPE) {
      this.broadcast(eventFrame("room", "message", { roomid: meta.token, data: { type: "chat", chat: { refresh: true } } }), true);
    }
    const listening = [...this.sessions.values()].some((s) => s.talkSession !== null);
    if (listening && (change.sessions || change.settings || change.lobby !== null || change.updated.length > 0 || change.removed.length > 0)) this.sync(meta);
  }

  /**
   * Announces what changed among the room's sessions to every joined socket: `join` and `leave`
   * room events, and a `participants` update (`changed` and all `users`) when in-call flags, types
   * or permissions moved. A socket that just joined gets the whole room instead.
   */
  private sync(meta: RoomMeta, joiner?: WsSession): void {
    const members = this.members.current(meta, this.byTalk());
    const diff = this.members.diff(members);
    const users = members.map((m) => m.entry);
    const frames: string[] = [];
    if (diff.left.length > 0) frames.push(eventFrame("room", "leave", diff.left));
    if (diff.joined.length > 0) frames.push(eventFrame("room", "join", diff.joined));
    if (diff.changed.length > 0) frames.push(eventFrame("participants", "update", { roomid: meta.token, changed: diff.changed, users }));
    for (const session of this.sessions.values()) {
      if (session === joiner || !session.talkSession) continue;
      const ws = this.sockets.get(session.sid);
      if (ws) for (const f of frames) send(ws, f);
    }
    const ws = joiner ? this.sockets.get(joiner.sid) : undefined;
    if (ws) {
      send(ws, eventFrame("room", "join", members.map((m: Member) => m.join)));
      if (users.some((u) => u.inCall !== 0)) send(ws, eventFrame("participants", "update", { roomid: meta.token, users }));
    }
  }

  /** One frame to every socket of the room (joined ones only, or every authenticated one). */
  private broadcast(text: string, joinedOnly: boolean): void {
    for (const session of this.sessions.values()) {
      if (joinedOnly && !session.talkSession) continue;
      const ws = this.sockets.get(session.sid);
      if (ws) send(ws, text);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Alarm duties: keeping joined Talk sessions alive, ending sessions not resumed in time

  nextAlarm(): number | null {
    this.load();
    let at: number | null = null;
    for (const s of this.sessions.values()) {
      const due = s.connected ? (s.talkSession ? this.lastPingRun + PING_INTERVAL_MS : null) : s.expires;
      if (due !== null && (at === null || due < at)) at = due;
    }
    return at === null ? null : Math.max(at, Date.now() + 1000);
  }

  async alarm(now: number): Promise<void> {
    this.load();
    const expired = [...this.sessions.values()].filter((s) => !s.connected && s.expires !== null && s.expires <= now);
    for (const s of expired) {
      this.drop(s);
      if (s.talkSession) await this.endTalkSession(s.talkSession);
    }
    if (now - this.lastPingRun >= PING_INTERVAL_MS - 1000) {
      this.lastPingRun = now;
      const live = [...this.sessions.values()].filter((s) => s.connected && s.talkSession).map((s) => s.talkSession as string);
      if (live.length > 0) {
        const at = nowSeconds();
        for (const talk of live) this.host.store.ping(talk, at);
      }
    }
  }
}

function helloBody(session: WsSession, version: string, resumeId: string) {
  return {
    sessionid: session.sid,
    resumeid: resumeId,
    userid: session.userId ?? "",
    version,
    server: { features: SERVER_FEATURES, version: `EdgeTalk ${EDGETALK_VERSION.edgetalk}` },
  };
}

function fail(ws: WebSocket, code: ErrorCode, id: string | undefined): void {
  send(ws, errorFrame(code, ERRORS[code], id));
}

function send(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // closed meanwhile: its close handler cleans up
  }
}

function close(ws: WebSocket, reason: string): void {
  try {
    ws.close(1000, reason);
  } catch {
    // already closed
  }
}
