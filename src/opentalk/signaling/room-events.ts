/**
 * What OpenTalk sockets hear of room changes made anywhere (the Talk API, /v1, the meeting itself):
 * the waiting room switched, the room read-only or deleted, members removed, demoted or promoted,
 * and Talk sessions in the room's call, which OpenTalk clients see as participants of the meeting.
 */
import type { RoomChange } from "../../room/presence";
import { MEETING_COOKIE } from "../../room/ops/sessions";
import { isModeratorType } from "../../room/permissions";
import type { Coalescer } from "./coalescer";
import { type ControlState, frame, type Role } from "./frames";
import { iso, type Meeting, OPENTALK_SOCKET_TAG, type Participant, participantFromRow, type SignalingHost, writeMeeting } from "./meeting";

export class RoomEvents {
  /** `ot_talk_peers` may hold rows (unknown at start): false once cleared, until a peer is written. */
  private peersStored = true;

  constructor(
    private readonly host: SignalingHost,
    private readonly meeting: Meeting,
    private readonly coalescer: Coalescer,
    private readonly protocol: { disconnect(id: string, closing: WebSocket | null): Promise<void>; announce(): void; roleChanged(id: string): Promise<void> },
  ) {}

  private get sql(): SqlStorage {
    return this.host.ctx.storage.sql;
  }

  /**
   * A room change, whichever dialect made it: the waiting room switched, the room went read-only
   * or away, members were removed, demoted or promoted. Everyone connected hears what concerns them.
   */
  changed(change: RoomChange): void {
    if (change.deleted) {
      this.closeAll("room_deleted");
      return;
    }
    if (this.host.ctx.getWebSockets(OPENTALK_SOCKET_TAG).length === 0) {
      // Nobody sees the Talk peers: they are forgotten (once; changes without sockets are the common case).
      if (this.peersStored) this.sql.exec("DELETE FROM ot_talk_peers");
      this.peersStored = false;
      return;
    }
    if (change.readOnly) {
      // A read-only room has no call: the meeting ends for everyone, as Talk ends its call.
      this.endAll();
      return;
    }
    if (change.lobby !== null) {
      this.meeting.broadcast("moderation", { message: change.lobby ? "waiting_room_enabled" : "waiting_room_disabled" }, ["joined", "waiting"]);
    }
    for (const removed of change.removed) {
      if (removed.left) continue;
      for (const p of this.participantsOf(removed)) this.removeParticipant(p, "kicked").catch((err) => console.warn("signaling: removal", err));
    }
    const meta = this.host.store.meta;
    for (const updated of change.updated) {
      const attendee = updated.userUuid ? this.host.store.attendeeByUser(updated.userUuid) : null;
      if (!meta || !attendee) continue;
      for (const p of this.participantsOf(updated)) {
        const role: Role = isModeratorType(attendee.participantType) ? "moderator" : "user";
        const owner = attendee.participantType === 1;
        if (p.role === role && p.isOwner === owner) continue;
        writeMeeting(this.sql, "UPDATE ot_participants SET role = ?, is_owner = ? WHERE id = ?", role, owner ? 1 : 0, p.id);
        if (p.role !== role) {
          this.meeting.send(p.id, "control", { message: "role_updated", new_role: role });
          void this.protocol.roleChanged(p.id);
        }
        if (p.status === "joined") this.coalescer.note(p.id, true);
      }
    }
    if (change.sessions || change.updated.length > 0 || change.removed.length > 0) this.syncTalkPeers(true);
    this.protocol.announce();
  }

  /**
   * Talk sessions in the room's call are participants of the meeting as OpenTalk clients see them
   * (`joined`, `left`): one live presence. Each gets a participant id of its own on first sight.
   */
  syncTalkPeers(announce: boolean): void {
    const meta = this.host.store.meta;
    if (!meta) return;
    const known = new Map(
      this.sql.exec("SELECT session_id, participant_id, control FROM ot_talk_peers").toArray().map((r) => [r.session_id as string, { id: r.participant_id as string, control: r.control as string }]),
    );
    const current = new Set<string>();
    if (known.size === 0 && this.host.store.countInCall(0) === this.meeting.count("joined")) return;
    for (const s of this.host.store.sessionsWithAttendees(0, { inCallOnly: true })) {
      current.add(s.id);
      const control: ControlState = {
        display_name: s.displayName || s.actorId,
        role: isModeratorType(s.participantType) ? "moderator" : s.actorType === "users" ? "user" : "guest",
        participation_kind: s.actorType === "users" ? "user" : "guest",
        hand_is_up: false,
        joined_at: iso(s.createdAt * 1000),
        left_at: null,
        hand_updated_at: iso(s.createdAt * 1000),
        is_room_owner: s.participantType === 1,
      };
      const text = JSON.stringify(control);
      const before = known.get(s.id);
      if (before?.control === text) continue;
      const id = before?.id ?? crypto.randomUUID();
      this.sql.exec("INSERT OR REPLACE INTO ot_talk_peers (session_id, participant_id, control) VALUES (?, ?, ?)", s.id, id, text);
      this.peersStored = true;
      if (announce) this.meeting.broadcast("control", { message: before ? "update" : "joined", id, control }, ["joined"]);
    }
    for (const [sessionId, peer] of known) {
      if (current.has(sessionId)) continue;
      this.sql.exec("DELETE FROM ot_talk_peers WHERE session_id = ?", sessionId);
      if (announce) this.meeting.broadcast("control", { message: "left", id: peer.id, reason: "quit" }, ["joined"]);
    }
  }

  /** The Talk peers as join_success lists them. */
  talkPeers(): { id: string; control: ControlState }[] {
    this.syncTalkPeers(false);
    return this.sql
      .exec("SELECT participant_id, control FROM ot_talk_peers ORDER BY rowid")
      .toArray()
      .map((r) => ({ id: r.participant_id as string, control: JSON.parse(r.control as string) as ControlState }));
  }

  /** Connected participants of a member (a user, or the guest attendee of one participant). */
  participantsOf(m: { userUuid: string | null; actorId?: string }): Participant[] {
    const rows = m.userUuid
      ? this.sql.exec("SELECT * FROM ot_participants WHERE user_uuid = ? AND connected = 1", m.userUuid).toArray()
      : m.actorId?.startsWith(MEETING_COOKIE)
        ? this.sql.exec("SELECT * FROM ot_participants WHERE id = ? AND connected = 1", m.actorId.slice(MEETING_COOKIE.length)).toArray()
        : [];
    return rows.map(participantFromRow);
  }

  /** `room_deleted` (or another last word) to every socket, then they close. */
  closeAll(message: string): void {
    for (const ws of this.host.ctx.getWebSockets(OPENTALK_SOCKET_TAG)) {
      try {
        ws.send(frame("control", { message }));
        ws.close(1000, message);
      } catch {
        // already gone
      }
    }
  }

  /** The meeting ends for everyone present or waiting (`session_ended`, then the socket closes). */
  endAll(): void {
    for (const p of [...this.meeting.all("joined"), ...this.meeting.all("waiting")]) this.removeParticipant(p, "session_ended").catch((err) => console.warn("signaling: session end", err));
  }

  /** A participant put out: the message, the participant gone for good (no resumption), the socket closed. */
  async removeParticipant(target: Participant, message: "kicked" | "banned" | "session_ended", issuedBy?: string): Promise<void> {
    const sockets = this.meeting.sockets(target.id);
    for (const s of sockets) {
      try {
        s.send(frame("moderation", { message, ...(issuedBy ? { issued_by: issuedBy } : {}) }));
      } catch {
        // gone already
      }
    }
    await this.protocol.disconnect(target.id, null);
    // A kicked participant may come back with a new ticket, through the waiting room again.
    writeMeeting(this.sql, "DELETE FROM ot_participants WHERE id = ?", target.id);
    for (const s of sockets) {
      try {
        s.close(1000, message);
      } catch {
        // gone already
      }
    }
  }

}
