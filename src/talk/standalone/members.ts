/**
 * Who is in the signaling room as Talk clients of the standalone protocol see it: the Talk
 * sessions that joined it over a WebSocket (under their signaling session id), and the sessions in
 * the call that signal another way — the internal long-poll, an OpenTalk participant's meeting —
 * under their Talk session id, so that both kinds see each other. (The reference's signaling
 * server lists only its own sessions; a session that merely joined the conversation over REST is
 * not announced, as it is about to connect.) What was last announced is kept in the room's
 * storage (`talk_ws_peers`), so a change after hibernation still yields the right join, leave and
 * participant events.
 */
import { permissionsOf } from "../../room/rules";
import type { RoomStore } from "../../room/store";
import type { RoomMeta } from "../../room/types";

/** One participant entry of a `participants` update (Talk's backend notifier shape). */
export interface ParticipantEntry {
  inCall: number;
  lastPing: number;
  sessionId: string;
  nextcloudSessionId: string;
  participantType: number;
  participantPermissions: number;
  actorType: string;
  actorId: string;
  userId?: string;
  displayName: string;
}

/** One session of a room `join` event. */
export interface JoinEntry {
  sessionid: string;
  userid: string;
  user: { displayname: string };
  roomsessionid: string;
  features?: string[];
}

export interface Member {
  talk: string;
  entry: ParticipantEntry;
  join: JoinEntry;
}

/** What changed since the last announcement. */
export interface MemberDiff {
  members: Member[];
  joined: JoinEntry[];
  left: string[];
  changed: ParticipantEntry[];
}

/** What is compared: everything but the ping time. */
function fingerprint(e: ParticipantEntry): string {
  return `${e.sessionId}|${e.inCall}|${e.participantType}|${e.participantPermissions}|${e.displayName}`;
}

export class Members {
  constructor(
    private readonly store: RoomStore,
    private readonly sql: SqlStorage,
  ) {}

  /** The members; `sockets` maps the Talk sessions that joined over a WebSocket to their signaling session. */
  current(meta: RoomMeta, sockets: ReadonlyMap<string, { sid: string; features: string[] }>): Member[] {
    return this.store.sessionsWithAttendees(0).flatMap((s) => {
      const ws = sockets.get(s.id);
      if (!ws && s.inCall === 0) return [];
      const sessionId = ws?.sid ?? s.id;
      const entry: ParticipantEntry = {
        inCall: s.inCall,
        lastPing: s.lastPing,
        sessionId,
        nextcloudSessionId: s.id,
        participantType: s.participantType,
        participantPermissions: permissionsOf(meta, s),
        actorType: s.actorType,
        actorId: s.actorId,
        ...(s.actorType === "users" ? { userId: s.actorId } : {}),
        displayName: s.displayName,
      };
      const join: JoinEntry = {
        sessionid: sessionId,
        userid: s.actorType === "users" ? s.actorId : "",
        user: { displayname: s.displayName },
        roomsessionid: s.id,
        ...(ws ? { features: ws.features } : {}),
      };
      return [{ talk: s.id, entry, join }];
    });
  }

  /** Compares with what was announced last and records the new state. */
  diff(members: Member[]): MemberDiff {
    const known = new Map(
      this.sql.exec("SELECT talk_session, sid, fingerprint, in_call FROM talk_ws_peers").toArray().map((r) => [r.talk_session as string, { sid: r.sid as string, fingerprint: r.fingerprint as string, inCall: r.in_call as number }]),
    );
    const diff: MemberDiff = { members, joined: [], left: [], changed: [] };
    for (const m of members) {
      const now = fingerprint(m.entry);
      const before = known.get(m.talk);
      known.delete(m.talk);
      if (before?.fingerprint === now) continue;
      this.sql.exec("INSERT OR REPLACE INTO talk_ws_peers (talk_session, sid, fingerprint, in_call) VALUES (?, ?, ?, ?)", m.talk, m.entry.sessionId, now, m.entry.inCall);
      if (!before || before.sid !== m.entry.sessionId) {
        if (before) diff.left.push(before.sid);
        diff.joined.push(m.join);
        if (m.entry.inCall !== 0 || (before?.inCall ?? 0) !== 0) diff.changed.push(m.entry);
      } else {
        diff.changed.push(m.entry);
      }
    }
    for (const [talk, gone] of known) {
      this.sql.exec("DELETE FROM talk_ws_peers WHERE talk_session = ?", talk);
      diff.left.push(gone.sid);
    }
    return diff;
  }

  /** Nobody listens any more: the next listener starts from scratch. */
  forget(): void {
    this.sql.exec("DELETE FROM talk_ws_peers");
  }
}
