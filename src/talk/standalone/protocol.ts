/**
 * Talk's standalone signaling protocol served by the room object itself (no separate signaling
 * server): `api/v3/signaling/settings?token=` names this room's WebSocket, and the sockets are
 * hibernatable, like OpenTalk's. A socket says `hello` (v1 ticket, v2 token, or a resume), joins
 * the room with the Talk session it got from `participants/active`, and from then on hears every
 * committed room change (join/leave/participants events, room list updates, chat refreshes,
 * removal, deletion) and exchanges WebRTC messages with the room's other sessions — over their
 * sockets, or through the internal long-poll's queue for sessions that signal that way.
 */
import { ALNUM, randomString, sha256Hex } from "../../lib/crypto";
import type { Presence, RoomChange } from "../../room/presence";
import type { RoomMeta } from "../../room/types";
import { EDGETALK_VERSION } from "../../version";
import { verifyHelloTicket, verifyHelloV2 } from "./auth";
import { ClientMessage, ERRORS, type ErrorCode, errorFrame, frame, type Hello, helloParams, IGNORED_TYPES, SERVER_FEATURES } from "./frames";
import { close, SessionTable, send, TALK_SOCKET_TAG, type WsSession } from "./sessions";
import { SignalingRoom, type StandaloneHost } from "./signaling-room";
import { type Delivery, Lanes, type Visit, type VisitorRequest } from "./visits";

/** The path of the upgrade the Worker forwards to the room object. */
export const TALK_SIGNALING_PATH = "/talk-signaling";
/** How long a signaling session whose socket dropped can be resumed before its Talk session ends. */
export const RESUME_WINDOW_MS = 60_000;

export type { StandaloneHost } from "./signaling-room";

export class TalkStandalone implements Presence {
  /** The room's side, which other rooms' objects (visits) and the long-poll reach directly. */
  readonly room: SignalingRoom;
  /** Each visiting session's exchanges with the room it visits, kept in the client's order. */
  private readonly forwards = new Lanes();

  constructor(private readonly host: StandaloneHost) {
    this.room = new SignalingRoom(host);
  }

  private get sessions(): SessionTable {
    return this.room.sessions;
  }

  private load(): void {
    this.room.load();
  }

  // -------------------------------------------------------------------------------------------
  // Sockets

  /** The Worker forwards the upgrade of `/standalone-signaling/{token}/spreed`. */
  accept(request: Request): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("Expected a WebSocket upgrade", { status: 426 });
    if (!this.host.store.meta) return new Response("Not found", { status: 404 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.host.ctx.acceptWebSocket(server, [TALK_SOCKET_TAG]);
    SessionTable.detach(server);
    server.send(frame("welcome", { features: SERVER_FEATURES, version: `EdgeTalk ${EDGETALK_VERSION.edgetalk}` }));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Whether a socket belongs to this protocol. */
  static owns(ws: WebSocket): boolean {
    return SessionTable.owns(ws);
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
    const sid = SessionTable.sidOf(ws);
    const session = sid ? this.sessions.get(sid) : undefined;
    if (!session) {
      if (msg.type === "hello") await this.hello(ws, msg.hello, msg.id);
      else send(ws, errorFrame("hello_expected", ERRORS.hello_expected, msg.id));
      return;
    }
    switch (msg.type) {
      case "hello":
        return; // already authenticated: ignored, as the reference does
      case "room":
        await this.joinRoom(ws, session, msg.room.roomid, msg.room.sessionid, msg.id);
        return;
      case "message":
      case "control": {
        const request: VisitorRequest = { kind: msg.type, routed: msg.type === "message" ? msg.message : msg.control, id: msg.id };
        if (session.away) await this.inOrder(session, () => this.forward(ws, session, request));
        else this.room.route(session, request);
        return;
      }
      case "bye":
        await this.bye(ws, session, msg.id);
        return;
    }
  }

  /** A socket closed or failed: its session may be resumed for a while, then its Talk session ends. */
  async closed(ws: WebSocket): Promise<void> {
    this.load();
    const sid = SessionTable.sidOf(ws);
    close(ws, "closed");
    const session = sid ? this.sessions.get(sid) : undefined;
    if (!session || this.sessions.socket(session.sid) !== ws) return;
    this.sessions.dropSocket(session.sid);
    this.sessions.setConnected(session, Date.now() + RESUME_WINDOW_MS);
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
    const session: WsSession = { sid: randomString(40, ALNUM), ...identity, features: hello.features ?? [], talkSession: null, attendeeId: null, connected: true, expires: null, away: null, home: null };
    this.sessions.add(session, await sha256Hex(resumeId));
    this.sessions.attach(ws, session);
    send(ws, frame("hello", helloBody(session, hello.version, resumeId), id));
  }

  /** `hello` with a `resumeid`: the session continues on this socket, still in its room. */
  private async resume(ws: WebSocket, hello: Hello, id: string | undefined): Promise<void> {
    const session = this.sessions.byResumeHash(await sha256Hex(hello.resumeid ?? ""));
    if (!session || session.home || (session.expires !== null && session.expires < Date.now())) return fail(ws, "no_such_session", id);
    const previous = this.sessions.socket(session.sid);
    if (previous && previous !== ws) {
      SessionTable.detach(previous);
      close(previous, "session resumed elsewhere");
    }
    this.sessions.setConnected(session, null);
    this.sessions.attach(ws, session);
    send(ws, frame("hello", helloBody(session, hello.version, hello.resumeid ?? ""), id));
    const meta = this.host.store.meta;
    if (meta && this.room.joined(session)) {
      send(ws, this.room.participantsFrame(meta));
    }
    if (session.away) {
      const away = session.away;
      await this.inOrder(session, async () => {
        await (await this.host.peer(away))?.standaloneVisitResumed(session.sid).catch(() => undefined);
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // room

  private async joinRoom(ws: WebSocket, session: WsSession, roomid: string, talkId: string | undefined, id: string | undefined): Promise<void> {
    if (roomid === "") {
      await this.room.leaveRoom(session);
      await this.inOrder(session, () => this.leaveAway(session));
      send(ws, frame("room", { roomid: "" }, id));
      return;
    }
    if (roomid === this.host.store.meta?.token) {
      await this.inOrder(session, () => this.leaveAway(session));
      await this.room.join(session, roomid, talkId, id);
      return;
    }
    // Another conversation over this socket: the session visits that room's object.
    await this.room.leaveRoom(session);
    await this.inOrder(session, async () => {
      if (session.away !== roomid) await this.leaveAway(session);
      const peer = await this.host.peer(roomid);
      if (!peer) return fail(ws, "no_such_room", id);
      this.sessions.setAway(session, roomid);
      const visit: Visit = { home: this.host.store.meta?.token ?? "", sid: session.sid, userId: session.userId, displayName: session.displayName, features: session.features, roomid, talkId, id };
      try {
        await peer.standaloneVisit(visit);
      } catch {
        if (session.away === roomid) this.sessions.setAway(session, null);
        fail(ws, "no_such_room", id);
      }
    });
  }

  private async bye(ws: WebSocket, session: WsSession, id: string | undefined): Promise<void> {
    send(ws, frame("bye", {}, id));
    this.room.drop(session);
    SessionTable.detach(ws);
    close(ws, "bye");
    if (session.talkSession) await this.room.endTalkSession(session.talkSession);
    await this.inOrder(session, () => this.leaveAway(session));
  }

  // -------------------------------------------------------------------------------------------
  // Visits: sessions on a socket of one room joined to another (see visits.ts)

  /** Runs a session's exchanges with the room it visits one after another, in the client's order. */
  private inOrder(session: WsSession, step: () => Promise<void>): Promise<void> {
    return this.forwards.run(session.sid, step);
  }

  /** A request of a session here for the room it visits; `not_in_room` when that room forgot it. */
  private async forward(ws: WebSocket, session: WsSession, request: VisitorRequest): Promise<void> {
    const away = session.away;
    if (!away) return fail(ws, "not_in_room", request.id);
    const peer = await this.host.peer(away);
    const known = peer ? await peer.standaloneVisitorRequest(session.sid, request).catch(() => false) : false;
    if (known) return;
    if (session.away === away) this.sessions.setAway(session, null);
    fail(ws, "not_in_room", request.id);
  }

  /** Ends the session's visit of another room (its Talk session there ends with it). */
  private async leaveAway(session: WsSession): Promise<void> {
    const away = session.away;
    if (!away) return;
    this.sessions.setAway(session, null);
    const peer = await this.host.peer(away);
    await peer?.standaloneVisitEnd(session.sid).catch(() => undefined);
  }

  /** Frames from a visited room for sockets here; answers the sessions that are not (or no longer) its visitors. */
  deliver(from: string, items: Delivery[]): string[] {
    this.load();
    const gone = new Set<string>();
    for (const item of items) {
      const session = this.sessions.get(item.sid);
      if (!session || session.away !== from) {
        gone.add(item.sid);
        continue;
      }
      const ws = this.sessions.socket(session.sid);
      if (item.text !== undefined && ws) send(ws, item.text);
      if (item.end) this.sessions.setAway(session, null);
    }
    return [...gone];
  }

  // -------------------------------------------------------------------------------------------
  // Room changes and alarm duties

  changed(change: RoomChange, meta: RoomMeta | null): void {
    this.load();
    if (change.deleted || !meta) {
      // The room is gone: the visits its sockets made elsewhere end too.
      for (const session of this.sessions.all()) if (session.away) void this.inOrder(session, () => this.leaveAway(session)).catch(() => undefined);
    }
    this.room.changed(change, meta);
  }

  /** The next duty: pinging joined sessions, ending sessions not resumed in time. */
  nextAlarm(): number | null {
    this.load();
    let at = this.room.nextPing();
    for (const s of this.sessions.all()) if (!s.connected && s.expires !== null && (at === null || s.expires < at)) at = s.expires;
    return at === null ? null : Math.max(at, Date.now() + 1000);
  }

  async alarm(now: number): Promise<void> {
    this.load();
    const expired = this.sessions.all().filter((s) => !s.connected && s.expires !== null && s.expires <= now);
    for (const s of expired) {
      this.room.drop(s);
      if (s.talkSession) await this.room.endTalkSession(s.talkSession);
      await this.inOrder(s, () => this.leaveAway(s));
    }
    this.room.ping(now);
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
