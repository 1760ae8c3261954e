/**
 * OpenTalk signaling inside the room Durable Object (reference §5): tickets are prepared here
 * (`prepare`), sockets are accepted with the hibernation API (`accept`), and frames of the
 * `control`, `moderation` and `echo` namespaces are handled in `message`.
 *
 * State lives in the object's SQLite storage (`ot_participants`, `ot_bans`, `ot_settings`) and in a
 * small attachment per socket (`{p: participant id, seen: ms}`), so nothing is lost when the object
 * is evicted while its sockets hibernate: the socket map is rebuilt from `ctx.getWebSockets()`.
 * The waiting room is the room's lobby state (`meta.lobbyState`), shared with the Talk dialect.
 * The participant store and frame sending are in signaling-meeting.ts, the `moderation` commands in
 * signaling-moderation.ts; this module holds the protocol's flow (tickets, sockets, join, leave,
 * announcements).
 */
import { ALNUM, randomString, sha256Hex, verifyPassword } from "../lib/crypto";
import { Coalescer } from "./coalescer";
import { fail, ok, type Outcome } from "./outcome";
import { isModeratorType } from "./permissions";
import {
  ControlCommand,
  Envelope,
  frame,
  ModerationCommand,
  normalizeDisplayName,
  type Role,
  SIGNALING_PROTOCOL,
} from "./signaling-frames";
import { controlState, ENTRANT_HEADER, iso, type LeftReason, Meeting, type Participant, participantFromRow, type SignalingStart, type TicketEntrant } from "./signaling-meeting";
import { moderate, type ModerationDeps } from "./signaling-moderation";
import type { RoomMeta } from "./types";

export { type CreatorInfo, ENTRANT_HEADER, type EventInfo, type LeftReason, type SignalingStart, type TicketEntrant } from "./signaling-meeting";

/** A dropped participant may resume (same id, waiting-room pass kept) for this long. */
export const RESUMPTION_TTL_MS = 120_000;
/** How often the heartbeat alarm looks at the sockets while any exist. */
export const HEARTBEAT_MS = 30_000;
/** A socket that sent nothing for this long is gone (the stock client pings every 12 s). */
export const IDLE_TIMEOUT_MS = 60_000;
/** Rooms with at least this many participants get coalesced announcements. */
export const COALESCE_THRESHOLD = 25;
export const COALESCE_WINDOW_MS = 250;

/** What the Worker asks for when it issues a ticket (POST /start, /start_invited, call-in). */
export interface SignalingHost {
  readonly ctx: DurableObjectState;
  meta(): RoomMeta | null;
  /** The Talk participant type of a user in this room, or null when they are no attendee. */
  attendeeType(userUuid: string): number | null;
  /** Sets the lobby (= waiting room) state and persists it through the room's meta row. */
  setLobbyState(state: number): Promise<void>;
  armAlarm(): Promise<void>;
  /** The room password in clear (join_success `room_info.password`), or null when none is set. */
  roomPassword(): Promise<string | null>;
}

/** What each hibernatable socket carries: its participant and when it was last heard from. */
interface Attachment {
  p: string;
  seen: number;
}

export class OpenTalkSignaling {
  private readonly coalescer = new Coalescer();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  private readonly meeting: Meeting;
  private readonly moderationDeps: ModerationDeps;

  constructor(private readonly host: SignalingHost) {
    this.meeting = new Meeting(host.ctx);
    this.moderationDeps = {
      meeting: this.meeting,
      coalescer: this.coalescer,
      setLobbyState: (state) => host.setLobbyState(state),
      waitingRoomChanged: (enabled) => this.waitingRoomChanged(enabled),
      disconnect: (id, closing) => this.disconnect(id, closing),
    };
  }

  private get sql(): SqlStorage {
    return this.host.ctx.storage.sql;
  }

  // -------------------------------------------------------------------------------------------
  // Tickets

  /**
   * Checks a start request against the live room (password for guests, bans, breakout, a running
   * session of the resumption token) and reserves the participant: a resumed one keeps its id.
   */
  async prepare(start: SignalingStart): Promise<Outcome<{ participantId: string; resumption: string }>> {
    const meta = this.host.meta();
    if (!meta) return fail(404, "room");
    if (start.checkPassword && meta.passwordHash !== null && !(await verifyPassword(start.password ?? "", meta.passwordHash))) {
      return fail(401, "wrong_room_password");
    }
    if (start.userUuid && this.meeting.isBanned(start.userUuid)) return fail(403, "banned_from_room");
    // EdgeTalk runs no breakout rooms, so any breakout id is refused as the reference does then.
    if (start.breakoutRoom !== undefined) return fail(400, "no_breakout_rooms");
    const now = Date.now();
    this.sql.exec("DELETE FROM ot_participants WHERE connected = 0 AND resumption_expires < ?", now);
    const role = this.roleOf(start, meta);
    const isOwner = start.kind === "user" && start.userUuid !== null && meta.createdBy === start.userUuid;

    if (start.resumption) {
      const hash = await sha256Hex(start.resumption);
      const row = this.sql.exec("SELECT * FROM ot_participants WHERE resumption_hash = ?", hash).toArray()[0];
      const found = row ? participantFromRow(row) : null;
      // A token of another user (or of a guest when a user asks) is ignored, as in the reference.
      if (found && found.kind === start.kind && found.userUuid === start.userUuid) {
        if (found.connected) return fail(400, "session_running");
        this.sql.exec(
          "UPDATE ot_participants SET resumption_expires = ?, avatar_url = ?, tariff = ?, role = ?, is_owner = ? WHERE id = ?",
          now + RESUMPTION_TTL_MS, start.avatarUrl, JSON.stringify(start.tariff), role, isOwner ? 1 : 0, found.id,
        );
        return ok({ participantId: found.id, resumption: start.resumption });
      }
    }
    const id = crypto.randomUUID();
    const resumption = randomString(64, ALNUM);
    this.sql.exec(
      `INSERT INTO ot_participants (id, kind, user_uuid, display_name, avatar_url, role, is_owner, resumption_hash,
         resumption_expires, tariff, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      id, start.kind, start.userUuid, start.displayName, start.avatarUrl, role, isOwner ? 1 : 0,
      await sha256Hex(resumption), now + RESUMPTION_TTL_MS, JSON.stringify(start.tariff),
      JSON.stringify({ creator: start.creator, eventInfo: start.eventInfo }),
    );
    return ok({ participantId: id, resumption });
  }

  /** Room creator and Talk moderators moderate; other users are users; guests and SIP are guests. */
  private roleOf(start: SignalingStart, meta: RoomMeta): Role {
    if (start.kind !== "user" || !start.userUuid) return "guest";
    if (meta.createdBy === start.userUuid) return "moderator";
    const type = this.host.attendeeType(start.userUuid);
    return type !== null && isModeratorType(type) ? "moderator" : "user";
  }

  // -------------------------------------------------------------------------------------------
  // Sockets

  /** The Worker redeemed a ticket and forwards the upgrade with the entrant it names. */
  async accept(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return jsonError(400, "bad_request", "Expected a WebSocket upgrade");
    let entrant: TicketEntrant;
    try {
      entrant = JSON.parse(request.headers.get(ENTRANT_HEADER) ?? "") as TicketEntrant;
    } catch {
      return jsonError(400, "bad_request", "Missing entrant");
    }
    const participant = this.meeting.participant(entrant.participantId);
    if (!participant || !this.host.meta()) return jsonError(401, "invalid_ticket", "Invalid or expired ticket");
    if (participant.connected) return jsonError(400, "session_running", "the session of the given resumption token is still running");
    const { 0: client, 1: server } = new WebSocketPair();
    this.host.ctx.acceptWebSocket(server, [participant.id]);
    server.serializeAttachment({ p: participant.id, seen: Date.now() } satisfies Attachment);
    this.sql.exec("UPDATE ot_participants SET connected = 1, resumption_expires = NULL WHERE id = ?", participant.id);
    await this.host.armAlarm();
    return new Response(null, { status: 101, webSocket: client, headers: { "Sec-WebSocket-Protocol": SIGNALING_PROTOCOL } });
  }

  async message(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const att = ws.deserializeAttachment() as Attachment | null;
    const self = att ? this.meeting.participant(att.p) : null;
    if (!att || !self?.connected) {
      ws.close(1000, "unknown participant");
      return;
    }
    const now = Date.now();
    if (now - att.seen > 5_000) ws.serializeAttachment({ ...att, seen: now } satisfies Attachment);

    let json: unknown;
    try {
      json = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    } catch {
      this.meeting.controlError(ws, "invalid_json");
      return;
    }
    const envelope = Envelope.safeParse(json);
    if (!envelope.success) {
      this.meeting.controlError(ws, "invalid_json");
      return;
    }
    const { namespace, payload } = envelope.data;
    if (namespace === "echo") {
      ws.send(JSON.stringify({ namespace: "echo", timestamp: iso(), payload }));
      return;
    }
    if (namespace === "control") {
      const command = ControlCommand.safeParse(payload);
      if (!command.success) {
        this.meeting.controlError(ws, "invalid_json");
        return;
      }
      await this.control(ws, self, command.data);
    } else if (namespace === "moderation") {
      if (self.status !== "joined") {
        this.meeting.controlError(ws, "not_yet_joined");
        return;
      }
      const command = ModerationCommand.safeParse(payload);
      if (!command.success) {
        this.meeting.controlError(ws, "invalid_json");
        return;
      }
      if (self.role !== "moderator") {
        this.meeting.moderationError(ws, "permission_denied");
        return;
      }
      await moderate(this.moderationDeps, ws, self, command.data);
    } else {
      // Before the join only control and echo exist; afterwards an unknown module is named.
      this.meeting.controlError(ws, self.status === "joined" ? "invalid_namespace" : "not_yet_joined");
      return;
    }
    this.announce();
  }

  /** A socket closed (or errored): the participant leaves; the last one out ends the session. */
  async closed(ws: WebSocket): Promise<void> {
    const att = ws.deserializeAttachment() as Attachment | null;
    try {
      ws.close(1000, "closed");
    } catch {
      // already closed
    }
    if (att) this.disconnect(att.p, ws);
    this.announce(true);
    await this.host.armAlarm();
  }

  /**
   * The heartbeat duty of the room's alarm: sockets silent for too long are closed, and
   * participants marked connected without a socket (lost in a crash) are cleaned up.
   */
  async heartbeat(): Promise<void> {
    const now = Date.now();
    const open = new Set<string>();
    for (const ws of this.host.ctx.getWebSockets()) {
      const att = ws.deserializeAttachment() as Attachment | null;
      if (!att || now - att.seen > IDLE_TIMEOUT_MS) {
        if (att) this.disconnect(att.p, ws, "timeout");
        try {
          ws.close(1001, "timeout");
        } catch {
          // already gone
        }
      } else {
        open.add(att.p);
      }
    }
    for (const row of this.sql.exec("SELECT id FROM ot_participants WHERE connected = 1").toArray()) {
      if (!open.has(row.id as string)) this.disconnect(row.id as string, null, "timeout");
    }
    this.announce(true);
  }

  /** When the heartbeat wants the alarm: only while sockets exist. */
  nextHeartbeat(): number | null {
    return this.host.ctx.getWebSockets().length > 0 ? Date.now() + HEARTBEAT_MS : null;
  }

  /** The waiting room changed through REST (PATCH room) or the Talk lobby: tell everyone. */
  waitingRoomChanged(enabled: boolean): void {
    this.meeting.broadcast("moderation", { message: enabled ? "waiting_room_enabled" : "waiting_room_disabled" }, ["joined", "waiting"]);
  }

  /** The room is being deleted: `room_deleted` to everyone, then the sockets close. */
  closeAll(): void {
    for (const ws of this.host.ctx.getWebSockets()) {
      try {
        ws.send(frame("control", { message: "room_deleted" }));
        ws.close(1000, "room deleted");
      } catch {
        // already gone
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // control

  private async control(ws: WebSocket, self: Participant, command: ControlCommand): Promise<void> {
    switch (command.action) {
      case "join":
        return this.join(ws, self, command.display_name);
      case "enter_room":
        if (self.status !== "waiting" || !self.accepted) {
          this.meeting.controlError(ws, "not_accepted_or_not_in_waiting_room");
          return;
        }
        return this.enter(ws, self, true);
      case "raise_hand":
      case "lower_hand": {
        if (self.status !== "joined") {
          this.meeting.controlError(ws, "not_yet_joined");
          return;
        }
        const up = command.action === "raise_hand";
        if (up && this.meeting.setting("raise_hands_disabled") === "1") {
          this.meeting.controlError(ws, "raise_hands_disabled");
          return;
        }
        this.sql.exec("UPDATE ot_participants SET hand_up = ?, hand_updated_at = ? WHERE id = ?", up ? 1 : 0, iso(), self.id);
        ws.send(frame("control", { message: up ? "hand_raised" : "hand_lowered" }));
        this.coalescer.note(self.id, true);
        return;
      }
      case "grant_moderator_role":
      case "revoke_moderator_role": {
        if (self.status !== "joined") {
          this.meeting.controlError(ws, "not_yet_joined");
          return;
        }
        if (self.role !== "moderator") {
          this.meeting.controlError(ws, "insufficient_permissions");
          return;
        }
        const target = this.meeting.participant(command.target);
        if (target?.status !== "joined") {
          this.meeting.controlError(ws, "nothing_to_do");
          return;
        }
        if (target.isOwner) {
          this.meeting.controlError(ws, "target_is_room_owner");
          return;
        }
        const grant = command.action === "grant_moderator_role";
        const next: Role = grant ? "moderator" : target.kind === "user" ? "user" : "guest";
        if (target.role === next) {
          this.meeting.controlError(ws, "nothing_to_do");
          return;
        }
        this.sql.exec("UPDATE ot_participants SET role = ? WHERE id = ?", next, target.id);
        this.meeting.send(target.id, "control", { message: "role_updated", new_role: next });
        // The moderator who did it is told too (reference control docs).
        ws.send(frame("control", { message: grant ? "moderator_role_granted" : "moderator_role_revoked", target: target.id }));
        this.coalescer.note(target.id, true);
        return;
      }
    }
  }

  private async join(ws: WebSocket, self: Participant, requested: string | undefined): Promise<void> {
    if (self.status === "waiting" || self.status === "joined") {
      this.meeting.controlError(ws, "already_joined");
      return;
    }
    const name = normalizeDisplayName(requested ?? self.displayName);
    if (name === null) {
      this.meeting.controlError(ws, "invalid_username");
      return;
    }
    this.sql.exec("UPDATE ot_participants SET display_name = ? WHERE id = ?", name, self.id);
    const me = { ...self, displayName: name };

    const limit = (JSON.parse(self.tariff) as { quotas?: Record<string, number> }).quotas?.room_participant_limit;
    if (limit !== undefined && this.meeting.count("joined") >= limit) {
      // A moderator who would be the only one present may always enter.
      const aloneAsModerator = me.role === "moderator" && this.meeting.countModerators() === 0;
      if (!aloneAsModerator) {
        ws.send(frame("control", { message: "join_blocked", reason: "participant_limit_reached" }));
        return;
      }
    }
    const meta = this.host.meta();
    if (meta?.lobbyState === 1 && me.role !== "moderator" && !me.accepted) {
      const now = iso();
      this.sql.exec("UPDATE ot_participants SET status = 'waiting', joined_at = ?, hand_updated_at = ? WHERE id = ?", now, now, me.id);
      ws.send(frame("moderation", { message: "in_waiting_room" }));
      const waiting = this.meeting.participant(me.id) as Participant;
      this.meeting.toModerators({ message: "joined_waiting_room", id: me.id, control: controlState(waiting) });
      return;
    }
    await this.enter(ws, me, false);
  }

  /** Into the meeting: join_success to the participant, `joined` (coalesced) to the others. */
  private async enter(ws: WebSocket, self: Participant, fromWaitingRoom: boolean): Promise<void> {
    const password = await this.host.roomPassword();
    const now = iso();
    this.sql.exec(
      "UPDATE ot_participants SET status = 'joined', accepted = 1, joined_at = ?, left_at = NULL, hand_up = 0, hand_updated_at = ? WHERE id = ?",
      now, now, self.id,
    );
    const me = this.meeting.participant(self.id) as Participant;
    const others = this.meeting.all("joined").filter((p) => p.id !== me.id);
    const meta = this.host.meta();
    const moderator = me.role === "moderator";
    ws.send(
      frame("control", {
        message: "join_success",
        id: me.id,
        display_name: me.displayName,
        ...(me.avatarUrl ? { avatar_url: me.avatarUrl } : {}),
        role: me.role,
        tariff: JSON.parse(me.tariff),
        participants: others.map((p) => ({ id: p.id, control: controlState(p) })),
        is_room_owner: me.isOwner,
        event_info: me.context.eventInfo,
        room_info: { id: meta?.id ?? "", ...(password !== null ? { password } : {}), created_by: me.context.creator },
        moderation: {
          raise_hands_enabled: this.meeting.setting("raise_hands_disabled") !== "1",
          ...(moderator
            ? {
                waiting_room_enabled: meta?.lobbyState === 1,
                waiting_room_participants: this.meeting.all("waiting").map((p) => ({
                  id: p.id,
                  control: controlState(p),
                  waiting_room_state: p.accepted ? "accepted" : "waiting",
                })),
              }
            : {}),
        },
      }),
    );
    this.coalescer.snapshot(me.id);
    if (fromWaitingRoom) this.meeting.toModerators({ message: "left_waiting_room", id: me.id }, me.id);
    this.coalescer.note(me.id, false);
  }

  // -------------------------------------------------------------------------------------------
  // Leaving

  /** Marks a participant as gone (idempotent). `closing` is the socket going away, if known. */
  private disconnect(participantId: string, closing: WebSocket | null, reason: LeftReason = "quit"): void {
    const p = this.meeting.participant(participantId);
    if (!p?.connected) return;
    // Another socket of the same participant cannot exist (accept refuses it), but be exact.
    const still = this.host.ctx.getWebSockets(participantId).filter((s) => s !== closing && s.readyState === WebSocket.OPEN);
    if (still.length > 0 && closing !== null) return;
    this.sql.exec(
      "UPDATE ot_participants SET connected = 0, status = 'left', left_at = ?, left_reason = ?, hand_up = 0, resumption_expires = ? WHERE id = ?",
      iso(), reason, Date.now() + RESUMPTION_TTL_MS, p.id,
    );
    if (p.status === "joined") this.coalescer.note(p.id, true);
    if (p.status === "waiting") this.meeting.toModerators({ message: "left_waiting_room", id: p.id });
    // The last one out ends the session: bans and moderation switches are discarded (§5.8).
    // Waiting participants are never stranded by a moderator leaving: the waiting list stays
    // in storage and the next moderator to join receives it in join_success.
    const remaining = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM ot_participants WHERE connected = 1").one().n;
    if (remaining === 0) {
      this.sql.exec("DELETE FROM ot_bans");
      this.sql.exec("DELETE FROM ot_settings");
    }
  }

  // -------------------------------------------------------------------------------------------
  // Announcements

  /**
   * Sends the coalesced `joined`/`update`/`left` announcements: at once in small rooms, after a
   * short window in large ones, so a join storm does not fan out on every single join.
   */
  private announce(immediately = false): void {
    if (this.coalescer.size === 0) return;
    if (!immediately && this.meeting.count("joined") >= COALESCE_THRESHOLD) {
      this.flushTimer ??= setTimeout(() => {
        this.flushTimer = null;
        this.flush();
      }, COALESCE_WINDOW_MS);
      return;
    }
    this.flush();
  }

  private flush(): void {
    const drained = this.coalescer.drain((id) => this.meeting.participant(id)?.status === "joined");
    const recipients = this.meeting.all("joined");
    for (const item of drained) {
      const subject = this.meeting.participant(item.id);
      for (const r of recipients) {
        if (r.id === item.id) continue;
        const kind = item.kindFor(r.id);
        if (kind === null) continue;
        const payload =
          kind === "left" || !subject
            ? { message: "left", id: item.id, reason: subject?.leftReason ?? "quit" }
            : { message: kind, id: item.id, control: controlState(subject) };
        this.meeting.send(r.id, "control", payload);
      }
    }
  }

}


function jsonError(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ code, message }), { status, headers: { "Content-Type": "text/json; charset=utf-8" } });
}
