
import { type Caller, ok, type Outcome } from "../../room/contract";
import { enterMeeting, leaveMeeting, MEETING_COOKIE, pingMeeting } from "../../room/ops/sessions";
import type { Presence, RoomChange } from "../../room/presence";
import { banUser } from "../../room/ops/calls";
import { updateSettings } from "../../room/ops/settings";
import { ChatCommand, MeetingChat } from "./chat";
import { Coalescer } from "./coalescer";
import { LiveKitCommand, MeetingLiveKit } from "./livekit";
import { RoomEvents } from "./room-events";
import { prepareParticipant, RESUMPTION_TTL_MS } from "./tickets";

import {
  ControlCommand,
  Envelope,
  frame,
  ModerationCommand,
  normalizeDisplayName,
  type Role,
  SIGNALING_PROTOCOL,
} from "./frames";
import { controlState, ENTRANT_HEADER, iso, type LeftReason, Meeting, OPENTALK_SOCKET_TAG, type Participant, type SignalingHost, type SignalingStart, type TicketEntrant, meetingWiped, writeMeeting } from "./meeting";
import { moderate, type ModerationDeps } from "./moderation";

export { type CreatorInfo, ENTRANT_HEADER, type EventInfo, type LeftReason, type SignalingHost, type SignalingStart, type TicketEntrant } from "./meeting";

/** How often the heartbeat alarm looks at the sockets while any exist. */
export const HEARTBEAT_MS = 30_000;
/** A socket that sent nothing for this long is gone (the stock client pings every 12 s). */
export const IDLE_TIMEOUT_MS = 60_000;
/** Rooms with at least this many participants get coalesced announcements. */
export const COALESCE_THRESHOLD = 25;
export const COALESCE_WINDOW_MS = 250;


/** What each hibernatable socket carries: its participant and when it was last heard from. */
interface Attachment {
  p: string;
  seen: number;
}

export class OpenTalkSignaling implements Presence {
  private readonly coalescer = new Coalescer();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  private readonly meeting: Meeting;
  private readonly moderationDeps: ModerationDeps;
  private readonly events: RoomEvents;
  private readonly chat: MeetingChat;
  private readonly livekit: MeetingLiveKit;

  constructor(private readonly host: SignalingHost) {
    this.meeting = new Meeting(host.ctx);
    this.chat = new MeetingChat(host, this.meeting);
    this.livekit = new MeetingLiveKit(this.meeting, host.livekit);
    this.events = new RoomEvents(host, this.meeting, this.coalescer, {
      disconnect: (id, closing) => this.disconnect(id, closing),
      announce: () => this.announce(true),
      roleChanged: (id) => this.livekit.roleChanged(this.roomId, id),
    });
    this.moderationDeps = {
      meeting: this.meeting,
      coalescer: this.coalescer,
      setLobbyState: (self, state) => this.setLobbyState(self, state),
      ban: (userUuid) => this.ban(userUuid),
      leaveCall: (id) => this.leaveCall(id),
      remove: (target, message, issuedBy) => this.removeParticipant(target, message, issuedBy),
      disconnect: (id, closing) => this.disconnect(id, closing),
    };
  }

  private get sql(): SqlStorage {
    return this.host.ctx.storage.sql;
  }

  /** The OpenTalk room id: the name of the meeting's LiveKit room. */
  private get roomId(): string {
    return this.host.store.meta?.id ?? "";
  }

  /** Checks a signaling start and reserves the participant (tickets.ts). */
  prepare(start: SignalingStart): Promise<Outcome<{ participantId: string; resumption: string }>> {
    return prepareParticipant(this.host, start);
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
    if (!participant || !this.host.store.meta) return jsonError(401, "invalid_ticket", "Invalid or expired ticket");
    if (participant.connected) return jsonError(400, "session_running", "the session of the given resumption token is still running");
    const { 0: client, 1: server } = new WebSocketPair();
    this.host.ctx.acceptWebSocket(server, [participant.id, OPENTALK_SOCKET_TAG]);
    server.serializeAttachment({ p: participant.id, seen: Date.now() } satisfies Attachment);
    writeMeeting(this.sql, "UPDATE ot_participants SET connected = 1, resumption_expires = NULL WHERE id = ?", participant.id);
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
      this.announce();
      return;
    }
    // Before the join only control and echo are processed; frames for the modules are ignored
    // (the reference's runner has not loaded them yet), without an answer.
    if (self.status !== "joined") return;
    if (MODULE_NAMESPACES.has(namespace) && !moduleEnabled(self, namespace)) {
      // A module the room's tariff switches off is not there (the reference does not load it).
      this.meeting.controlError(ws, "invalid_namespace");
      return;
    }
    if (namespace === "moderation") {
      const command = ModerationCommand.safeParse(payload);
      if (!command.success) {
        this.meeting.controlError(ws, "invalid_json");
        return;
      }
      // Moderation commands of anyone else are ignored without an answer, as the reference of the
      // seed's era does (its later versions answer permission_denied).
      if (self.role !== "moderator") return;
      await moderate(this.moderationDeps, ws, self, command.data);
    } else if (namespace === "chat") {
      const command = ChatCommand.safeParse(payload);
      if (!command.success) {
        this.meeting.controlError(ws, "invalid_json");
        return;
      }
      await this.chat.command(ws, self, meetingCaller(self), command.data);
    } else if (namespace === "livekit") {
      const command = LiveKitCommand.safeParse(payload);
      if (!command.success) {
        this.meeting.controlError(ws, "invalid_json");
        return;
      }
      await this.livekit.command(ws, self, this.roomId, command.data);
    } else {
      this.meeting.controlError(ws, "invalid_namespace");
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
    if (att) await this.disconnect(att.p, ws);
    this.announce(true);
    await this.host.armAlarm();
  }

  /**
   * The heartbeat duty of the room's alarm: sockets silent for too long are closed, participants
   * marked connected without a socket (lost in a crash) are cleaned up, and the sessions of those
   * present stay alive.
   */
  async alarm(now: number): Promise<void> {
    if (await this.timeLimitElapsed(now)) {
      this.announce(true);
      return;
    }
    const open = new Set<string>();
    for (const ws of this.host.ctx.getWebSockets(OPENTALK_SOCKET_TAG)) {
      const att = ws.deserializeAttachment() as Attachment | null;
      if (!att || now - att.seen > IDLE_TIMEOUT_MS) {
        if (att) await this.disconnect(att.p, ws, "timeout");
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
      if (!open.has(row.id as string)) await this.disconnect(row.id as string, null, "timeout");
    }
    const present = this.meeting.all("joined").map((p) => p.id);
    if (present.length > 0) {
      await this.host.apply((tx) => {
        pingMeeting(tx, present);
        return ok(null);
      });
    }
    this.announce(true);
  }

  /** When the heartbeat wants the alarm: only while sockets exist. */
  nextAlarm(): number | null {
    if (this.host.ctx.getWebSockets(OPENTALK_SOCKET_TAG).length === 0) return null;
    const closesAt = this.meeting.setting("closes_at");
    const heartbeat = Date.now() + HEARTBEAT_MS;
    return closesAt ? Math.min(heartbeat, Date.parse(closesAt)) : heartbeat;
  }

  /**
   * The tariff's `room_time_limit_secs` starts counting when the first participant enters the
   * meeting; join_success carries `closes_at` (reference §5.2). Returns it, or null without a limit.
   */
  private startClock(me: Participant): string | null {
    const existing = this.meeting.setting("closes_at");
    if (existing) return existing;
    const limit = (JSON.parse(me.tariff) as { quotas?: Record<string, number> }).quotas?.room_time_limit_secs;
    if (limit === undefined) return null;
    const closesAt = iso(Date.now() + limit * 1000);
    writeMeeting(this.sql, "INSERT OR REPLACE INTO ot_settings (key, value) VALUES ('closes_at', ?)", closesAt);
    return closesAt;
  }

  /** The time limit passed: `time_limit_quota_elapsed` to everyone, then the meeting closes. */
  private async timeLimitElapsed(now: number): Promise<boolean> {
    const closesAt = this.meeting.setting("closes_at");
    if (!closesAt || Date.parse(closesAt) > now) return false;
    for (const ws of this.host.ctx.getWebSockets(OPENTALK_SOCKET_TAG)) {
      const att = ws.deserializeAttachment() as Attachment | null;
      try {
        ws.send(frame("control", { message: "time_limit_quota_elapsed" }));
      } catch {
        // already gone
      }
      if (att) await this.disconnect(att.p, ws);
      try {
        ws.close(1000, "time limit");
      } catch {
        // already gone
      }
    }
    return true;
  }

  /** A room change, whichever dialect made it (room-events.ts decides what each socket hears). */
  changed(change: RoomChange): void {
    // The room's deletion emptied the meeting's tables without `writeMeeting`.
    if (change.deletedId) meetingWiped();
    this.events.changed(change);
    this.chat.changed(change);
    if (change.deletedId && this.host.ctx.getWebSockets(OPENTALK_SOCKET_TAG).length > 0) void this.livekit.ended(change.deletedId);
  }

  removeParticipant(target: Participant, message: "kicked" | "banned" | "session_ended", issuedBy?: string): Promise<void> {
    return this.events.removeParticipant(target, message, issuedBy);
  }

  /** Waiting room on or off from the meeting's moderation: a room setting like any other. */
  private async setLobbyState(self: Participant, state: number): Promise<void> {
    const caller: Caller = { ...participantCaller(self), meetingModerator: true };
    await this.host.apply((tx) => updateSettings(tx, caller, { lobby: { state } }));
  }

  /** A ban keeps the user out of the meeting and of the room's call until the meeting ends. */
  private async ban(userUuid: string): Promise<void> {
    await this.host.apply((tx) => banUser(tx, userUuid));
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
        writeMeeting(this.sql, "UPDATE ot_participants SET hand_up = ?, hand_updated_at = ? WHERE id = ?", up ? 1 : 0, iso(), self.id);
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
        writeMeeting(this.sql, "UPDATE ot_participants SET role = ? WHERE id = ?", next, target.id);
        this.meeting.send(target.id, "control", { message: "role_updated", new_role: next });
        // The moderator who did it is told too (reference control docs).
        ws.send(frame("control", { message: grant ? "moderator_role_granted" : "moderator_role_revoked", target: target.id }));
        this.coalescer.note(target.id, true);
        await this.livekit.roleChanged(this.roomId, target.id);
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
    writeMeeting(this.sql, "UPDATE ot_participants SET display_name = ? WHERE id = ?", name, self.id);
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
    const meta = this.host.store.meta;
    if (meta?.lobbyState === 1 && me.role !== "moderator" && !me.accepted) {
      const now = iso();
      writeMeeting(this.sql, "UPDATE ot_participants SET status = 'waiting', joined_at = ?, hand_updated_at = ? WHERE id = ?", now, now, me.id);
      ws.send(frame("moderation", { message: "in_waiting_room" }));
      const waiting = this.meeting.participant(me.id) as Participant;
      this.meeting.toJoined({ message: "joined_waiting_room", id: me.id, control: controlState(waiting) });
      return;
    }
    await this.enter(ws, me, false);
  }

  /** Into the meeting: join_success to the participant, `joined` (coalesced) to the others. */
  private async enter(ws: WebSocket, self: Participant, fromWaitingRoom: boolean): Promise<void> {
    const password = await this.host.roomPassword();
    const livekit = moduleEnabled(self, "livekit") ? await this.livekit.state(this.roomId, self) : null;
    const now = iso();
    writeMeeting(this.sql,
      "UPDATE ot_participants SET status = 'joined', accepted = 1, joined_at = ?, left_at = NULL, hand_up = 0, hand_updated_at = ? WHERE id = ?",
      now, now, self.id,
    );
    const me = this.meeting.participant(self.id) as Participant;
    const closesAt = this.startClock(me);
    // In the meeting is in the room's call: the participant holds a session as Talk sees it.
    await this.host.apply((tx) => ok(enterMeeting(tx, { id: me.id, userUuid: me.userUuid, userid: me.context.userid, displayName: me.displayName })));
    const others = this.meeting.all("joined").filter((p) => p.id !== me.id);
    const meta = this.host.store.meta;
    const moderator = me.role === "moderator";
    ws.send(
      frame("control", {
        message: "join_success",
        id: me.id,
        display_name: me.displayName,
        ...(me.avatarUrl ? { avatar_url: me.avatarUrl } : {}),
        role: me.role,
        tariff: JSON.parse(me.tariff),
        participants: [...others.map((p) => ({ id: p.id, control: controlState(p) })), ...this.events.talkPeers()],
        is_room_owner: me.isOwner,
        chat: this.chat.state(me),
        ...(livekit ? { livekit } : {}),
        ...(closesAt ? { closes_at: closesAt } : {}),
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
    if (!livekit && moduleEnabled(me, "livekit")) this.livekit.unavailable(me.id);
    this.coalescer.snapshot(me.id);
    if (fromWaitingRoom) this.meeting.toJoined({ message: "left_waiting_room", id: me.id }, me.id);
    this.coalescer.note(me.id, false);
  }

  // -------------------------------------------------------------------------------------------
  // Leaving

  /** Marks a participant as gone (idempotent). `closing` is the socket going away, if known. */
  private async disconnect(participantId: string, closing: WebSocket | null, reason: LeftReason = "quit"): Promise<void> {
    const p = this.meeting.participant(participantId);
    if (!p?.connected) return;
    // Another socket of the same participant cannot exist (accept refuses it), but be exact.
    const still = this.host.ctx.getWebSockets(participantId).filter((s) => s !== closing && s.readyState === WebSocket.OPEN);
    if (still.length > 0 && closing !== null) return;
    writeMeeting(this.sql,
      "UPDATE ot_participants SET connected = 0, status = 'left', left_at = ?, left_reason = ?, hand_up = 0, resumption_expires = ? WHERE id = ?",
      iso(), reason, Date.now() + RESUMPTION_TTL_MS, p.id,
    );
    if (p.status === "joined") this.coalescer.note(p.id, true);
    if (p.status === "waiting") this.meeting.toJoined({ message: "left_waiting_room", id: p.id });
    // The last one out ends the session: bans and moderation switches are discarded (§5.8).
    // Waiting participants are never stranded by a moderator leaving: the waiting list stays
    // in storage and the next moderator to join receives it in join_success.
    const remaining = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM ot_participants WHERE connected = 1").one().n;
    if (remaining === 0) writeMeeting(this.sql, "DELETE FROM ot_settings");
    await this.host.apply((tx) => {
      leaveMeeting(tx, p.id);
      if (remaining === 0) tx.store.clearBans();
      return ok(null);
    });
    // Media ends with the membership. Only after the room's state is written: the LiveKit calls
    // let other events in (a resumption must not find a half-left participant).
    if (p.status === "joined") await this.livekit.left(this.roomId, p.id);
    if (remaining === 0) await this.livekit.ended(this.roomId);
  }

  /** The participant is out of the meeting but still connected (sent to the waiting room). */
  private async leaveCall(participantId: string): Promise<void> {
    await this.host.apply((tx) => {
      leaveMeeting(tx, participantId);
      return ok(null);
    });
    await this.livekit.left(this.roomId, participantId);
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


/** The namespaces of signaling modules a tariff can switch off. */
const MODULE_NAMESPACES = new Set(["moderation", "chat", "livekit"]);

/** Whether the room's tariff (the creator's, carried by the participant) leaves a module on. */
function moduleEnabled(p: Participant, module: string): boolean {
  let modules = tariffModules.get(p.tariff);
  if (!modules) {
    modules = new Set(Object.keys((JSON.parse(p.tariff) as { modules?: Record<string, unknown> }).modules ?? {}));
    // A room sees one tariff or a few (its creator's); the bound only guards against growth.
    if (tariffModules.size >= 64) tariffModules.clear();
    tariffModules.set(p.tariff, modules);
  }
  return modules.has(module);
}

/** The modules of each tariff seen (by its JSON): every module frame asks, and parsing it each time showed. */
const tariffModules = new Map<string, Set<string>>();

/** The participant as the room's rulebook sees them. */
function participantCaller(p: Participant): Caller {
  if (p.kind === "user" && p.userUuid) return { kind: "user", userUuid: p.userUuid, userid: p.context.userid ?? undefined, cookie: "" };
  return { kind: "guest", cookie: "" };
}


/** The participant acting in the meeting: found by their meeting session, with their meeting role. */
function meetingCaller(p: Participant): Caller {
  return { ...participantCaller(p), cookie: `${MEETING_COOKIE}${p.id}`, meetingModerator: p.role === "moderator" };
}

function jsonError(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ code, message }), { status, headers: { "Content-Type": "text/json; charset=utf-8" } });
}
