/**
 * The standalone signaling sessions of one room object: in memory, in its SQLite
 * (`talk_ws_sessions`, so they outlive the object's eviction), and the hibernatable sockets that
 * carry them (each socket's attachment names its session).
 */

/** The hibernation tag of Talk signaling sockets (OpenTalk's carry their own). */
export const TALK_SOCKET_TAG = "talk-signaling";

/** What a socket carries across hibernation: its signaling session, once it said hello. */
interface Attachment {
  talk: 1;
  sid: string | null;
}

/** A signaling session (a row of talk_ws_sessions). */
export interface WsSession {
  sid: string;
  userId: string | null;
  displayName: string;
  features: string[];
  talkSession: string | null;
  attendeeId: number | null;
  connected: boolean;
  expires: number | null;
  /** On a socket here, joined to another conversation: that room's token (see visits.ts). */
  away: string | null;
  /** A visitor from another room's socket: that room's token. */
  home: string | null;
}

export class SessionTable {
  private loaded = false;
  private readonly sessions = new Map<string, WsSession>();
  private readonly sockets = new Map<string, WebSocket>();

  constructor(private readonly ctx: DurableObjectState) {}

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  /** Reads the sessions and their sockets once after the object woke up; true that first time. */
  load(): boolean {
    if (this.loaded) return false;
    this.loaded = true;
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
        away: (r.away as string | null) ?? null,
        home: (r.home as string | null) ?? null,
      });
    }
    for (const ws of this.ctx.getWebSockets(TALK_SOCKET_TAG)) {
      const sid = SessionTable.sidOf(ws);
      if (sid) this.sockets.set(sid, ws);
    }
    return true;
  }

  get size(): number {
    return this.sessions.size;
  }

  get(sid: string): WsSession | undefined {
    return this.sessions.get(sid);
  }

  all(): WsSession[] {
    return [...this.sessions.values()];
  }

  /** A new session; `resumeHash` is what a resume must hash to (never a hash for visitors). */
  add(session: WsSession, resumeHash: string): void {
    this.sql.exec(
      "INSERT INTO talk_ws_sessions (sid, resume_hash, user_id, display_name, features, home) VALUES (?, ?, ?, ?, ?, ?)",
      session.sid,
      resumeHash,
      session.userId,
      session.displayName,
      JSON.stringify(session.features),
      session.home,
    );
    this.sessions.set(session.sid, session);
  }

  byResumeHash(hash: string): WsSession | undefined {
    const row = this.sql.exec("SELECT sid FROM talk_ws_sessions WHERE resume_hash = ?", hash).toArray()[0];
    return row ? this.sessions.get(row.sid as string) : undefined;
  }

  /** Forgets a session for good (no resumption). */
  remove(session: WsSession): void {
    this.sessions.delete(session.sid);
    this.sockets.delete(session.sid);
    this.sql.exec("DELETE FROM talk_ws_sessions WHERE sid = ?", session.sid);
  }

  /** Forgets every session (the room is gone; its storage goes with it). */
  clear(): void {
    this.sessions.clear();
    this.sockets.clear();
  }

  setJoined(session: WsSession, joined: { talkSession: string; attendeeId: number; displayName: string } | null): void {
    session.talkSession = joined?.talkSession ?? null;
    session.attendeeId = joined?.attendeeId ?? null;
    if (joined) session.displayName = joined.displayName;
    this.sql.exec("UPDATE talk_ws_sessions SET talk_session = ?, attendee_id = ?, display_name = ? WHERE sid = ?", session.talkSession, session.attendeeId, session.displayName, session.sid);
  }

  setAway(session: WsSession, away: string | null): void {
    session.away = away;
    this.sql.exec("UPDATE talk_ws_sessions SET away = ? WHERE sid = ?", away, session.sid);
  }

  /** Connected again (resumed), or dropped with the time its resumption runs out. */
  setConnected(session: WsSession, expires: number | null): void {
    session.connected = expires === null;
    session.expires = expires;
    this.sql.exec("UPDATE talk_ws_sessions SET connected = ?, expires = ? WHERE sid = ?", session.connected ? 1 : 0, expires, session.sid);
  }

  // Sockets

  socket(sid: string): WebSocket | undefined {
    return this.sockets.get(sid);
  }

  /** The socket carries the session from now on (and says so across hibernation). */
  attach(ws: WebSocket, session: WsSession): void {
    ws.serializeAttachment({ talk: 1, sid: session.sid } satisfies Attachment);
    this.sockets.set(session.sid, ws);
  }

  /** The socket carries no session (yet, or anymore). */
  static detach(ws: WebSocket): void {
    ws.serializeAttachment({ talk: 1, sid: null } satisfies Attachment);
  }

  /** The socket went away: its session stays for a resume. */
  dropSocket(sid: string): void {
    this.sockets.delete(sid);
  }

  static sidOf(ws: WebSocket): string | null {
    return (ws.deserializeAttachment() as Attachment | null)?.sid ?? null;
  }

  /** Whether a socket belongs to this protocol. */
  static owns(ws: WebSocket): boolean {
    return (ws.deserializeAttachment() as Partial<Attachment> | null)?.talk === 1;
  }

  // Lookups by Talk session

  /** The signaling session joined with a Talk session, if one did. */
  signalingOf(talk: string): WsSession | null {
    for (const s of this.sessions.values()) if (s.talkSession === talk) return s;
    return null;
  }

  /** Signaling sessions by the Talk session they joined with. */
  byTalk(): Map<string, WsSession> {
    const map = new Map<string, WsSession>();
    for (const s of this.sessions.values()) if (s.talkSession !== null) map.set(s.talkSession, s);
    return map;
  }
}

/** Sends on a socket that may have closed meanwhile (its close handler cleans up). */
export function send(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // closed meanwhile
  }
}

export function close(ws: WebSocket, reason: string): void {
  try {
    ws.close(1000, reason);
  } catch {
    // already closed
  }
}
