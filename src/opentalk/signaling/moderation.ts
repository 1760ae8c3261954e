/**
 * OpenTalk `moderation` commands (reference moderation docs), for moderators of a live meeting:
 * waiting room and raise-hands switches, accept, kick and ban, reset raised hands, rename guests,
 * send to the waiting room. The caller has checked that the sender is a joined moderator.
 */
import type { Coalescer } from "./coalescer";
import { controlState, iso, type Meeting, type Participant, writeMeeting } from "./meeting";
import { type ModerationCommand, normalizeDisplayName } from "./frames";

export interface ModerationDeps {
  meeting: Meeting;
  coalescer: Coalescer;
  /** Switches the room's lobby (= waiting room); the room's commit tells everyone. */
  setLobbyState(self: Participant, state: number): Promise<void>;
  /** Bans a user from the meeting and the room's call (until the meeting ends). */
  ban(userUuid: string): Promise<void>;
  /** The participant leaves the room's call (sent to the waiting room). */
  leaveCall(participantId: string): Promise<void>;
  /** Puts a participant out: the message, then their socket closes. */
  remove(target: Participant, message: "kicked" | "banned" | "session_ended", issuedBy?: string): Promise<void>;
  /** Marks a participant as gone (protocol.ts). */
  disconnect(participantId: string, closing: WebSocket | null): Promise<void>;
}

export async function moderate(deps: ModerationDeps, ws: WebSocket, self: Participant, command: ModerationCommand): Promise<void> {
const m = deps.meeting;
  switch (command.action) {
    case "enable_waiting_room":
    case "disable_waiting_room": {
      const enabled = command.action === "enable_waiting_room";
      await deps.setLobbyState(self, enabled ? 1 : 0);
      return;
    }
    case "enable_raise_hands":
    case "disable_raise_hands": {
      const enabled = command.action === "enable_raise_hands";
      // Written only when it changes: a write holds the frames below until it is committed.
      if ((m.setting("raise_hands_disabled") === "1") === enabled) {
        writeMeeting(m.sql, "INSERT OR REPLACE INTO ot_settings (key, value) VALUES ('raise_hands_disabled', ?)", enabled ? "0" : "1");
      }
      if (!enabled) {
        // Raised hands are lowered when raising is disabled (reference moderation docs).
        const raised = m.all("joined").filter((p) => p.handUp);
        writeMeeting(m.sql, "UPDATE ot_participants SET hand_up = 0, hand_updated_at = ? WHERE hand_up = 1", iso());
        for (const p of raised) deps.coalescer.note(p.id, true);
      }
      m.broadcast("moderation", { message: enabled ? "raise_hands_enabled" : "raise_hands_disabled", issued_by: self.id }, ["joined"]);
      return;
    }
    case "accept": {
      // Someone who is not waiting (or was accepted already) is ignored, as by the reference.
      const target = m.participant(command.target);
      if (target?.status !== "waiting" || target.accepted) return;
      writeMeeting(m.sql, "UPDATE ot_participants SET accepted = 1 WHERE id = ?", target.id);
      m.send(target.id, "moderation", { message: "accepted" });
      return;
    }
    case "reset_raised_hands": {
      const only = command.target === undefined ? null : new Set([command.target].flat());
      const raised = m.all("joined").filter((p) => p.handUp && (only === null || only.has(p.id)));
      const now = iso();
      for (const p of raised) {
        writeMeeting(m.sql, "UPDATE ot_participants SET hand_up = 0, hand_updated_at = ? WHERE id = ?", now, p.id);
        deps.coalescer.note(p.id, true);
        m.send(p.id, "moderation", { message: "raised_hand_reset_by_moderator", issued_by: self.id });
      }
      return;
    }
    case "change_display_name": {
      const target = m.participant(command.target);
      if (!target || (target.status !== "joined" && target.status !== "waiting")) {
        m.controlError(ws, "nothing_to_do");
        return;
      }
      // Registered users keep the name of their account; guests and phone participants may be renamed.
      if (target.kind === "user") {
        m.moderationError(ws, "cannot_change_name_of_registered_users");
        return;
      }
      const name = normalizeDisplayName(command.new_name);
      if (name === null) {
        m.moderationError(ws, "invalid_display_name");
        return;
      }
      writeMeeting(m.sql, "UPDATE ot_participants SET display_name = ? WHERE id = ?", name, target.id);
      if (target.status === "joined") deps.coalescer.note(target.id, true);
      m.broadcast("moderation", { message: "display_name_changed", target: target.id, issued_by: self.id, old_name: target.displayName, new_name: name }, ["joined"]);
      return;
    }
    case "send_to_waiting_room": {
      const target = m.participant(command.target);
      if (!target || target.id === self.id || target.status !== "joined") {
        m.controlError(ws, "nothing_to_do");
        return;
      }
      if (target.isOwner) {
        m.moderationError(ws, "cannot_send_room_owner_to_waiting_room");
        return;
      }
      // The socket stays open; the participant is as if they had just joined the waiting room.
      const now = iso();
      writeMeeting(
        m.sql,
        "UPDATE ot_participants SET status = 'waiting', accepted = 0, hand_up = 0, hand_updated_at = ?, joined_at = ?, left_reason = 'sent_to_waiting_room' WHERE id = ?",
        now, now, target.id,
      );
      deps.coalescer.note(target.id, true);
      m.send(target.id, "moderation", { message: "sent_to_waiting_room" });
      await deps.leaveCall(target.id);
      const waiting = m.participant(target.id) as Participant;
      m.toJoined({ message: "joined_waiting_room", id: waiting.id, control: controlState(waiting) });
      return;
    }
    case "debrief": {
      // The chosen scope leaves (session_ended), the rest stay for the debriefing behind the
      // waiting room, which is switched on for everyone (reference moderation docs).
      const scope = command.kick_scope;
      const present = [...m.all("joined"), ...m.all("waiting")];
      const leaves = (p: Participant) => (scope === "all" ? true : scope === "guests" ? p.kind !== "user" : p.role !== "moderator");
      for (const p of present) if (!leaves(p) && p.status === "joined") m.send(p.id, "moderation", { message: "debriefing_started", issued_by: self.id });
      await deps.setLobbyState(self, 1);
      for (const p of present) if (leaves(p)) await deps.remove(p, "session_ended", self.id);
      return;
    }
    case "kick":
    case "ban": {
      const target = m.participant(command.target);
      if (!target || target.id === self.id || (target.status !== "joined" && target.status !== "waiting")) {
        m.controlError(ws, "nothing_to_do");
        return;
      }
      if (target.isOwner) {
        m.controlError(ws, "target_is_room_owner");
        return;
      }
      if (command.action === "ban") {
        if (target.kind !== "user" || !target.userUuid) {
          m.moderationError(ws, "cannot_ban_guest");
          return;
        }
        await deps.ban(target.userUuid);
      }
      await deps.remove(target, command.action === "ban" ? "banned" : "kicked");
      return;
    }
  }
}
