/**
 * OpenTalk `moderation` commands (reference moderation docs), for moderators of a live meeting:
 * waiting room and raise-hands switches, accept, kick and ban, reset raised hands, rename guests,
 * send to the waiting room. The caller has checked that the sender is a joined moderator.
 */
import type { Coalescer } from "./coalescer";
import { controlState, iso, type Meeting, type Participant } from "./signaling-meeting";
import { frame, type ModerationCommand, normalizeDisplayName } from "./signaling-frames";

export interface ModerationDeps {
  meeting: Meeting;
  coalescer: Coalescer;
  /** Sets the lobby (= waiting room) state through the room's meta row. */
  setLobbyState(state: number): Promise<void>;
  /** Tells everyone the waiting room was switched. */
  waitingRoomChanged(enabled: boolean): void;
  /** Marks a participant as gone (signaling-opentalk.ts). */
  disconnect(participantId: string, closing: WebSocket | null): void;
}

export async function moderate(deps: ModerationDeps, ws: WebSocket, self: Participant, command: ModerationCommand): Promise<void> {
const m = deps.meeting;
  switch (command.action) {
    case "enable_waiting_room":
    case "disable_waiting_room": {
      const enabled = command.action === "enable_waiting_room";
      await deps.setLobbyState(enabled ? 1 : 0);
      deps.waitingRoomChanged(enabled);
      return;
    }
    case "enable_raise_hands":
    case "disable_raise_hands": {
      const enabled = command.action === "enable_raise_hands";
      m.sql.exec("INSERT OR REPLACE INTO ot_settings (key, value) VALUES ('raise_hands_disabled', ?)", enabled ? "0" : "1");
      if (!enabled) {
        // Raised hands are lowered when raising is disabled (reference moderation docs).
        const raised = m.all("joined").filter((p) => p.handUp);
        m.sql.exec("UPDATE ot_participants SET hand_up = 0, hand_updated_at = ? WHERE hand_up = 1", iso());
        for (const p of raised) deps.coalescer.note(p.id, true);
      }
      m.broadcast("moderation", { message: enabled ? "raise_hands_enabled" : "raise_hands_disabled", issued_by: self.id }, ["joined"]);
      return;
    }
    case "accept": {
      const target = m.participant(command.target);
      if (target?.status !== "waiting" || target.accepted) {
        m.controlError(ws, "nothing_to_do");
        return;
      }
      m.sql.exec("UPDATE ot_participants SET accepted = 1 WHERE id = ?", target.id);
      m.send(target.id, "moderation", { message: "accepted" });
      return;
    }
    case "reset_raised_hands": {
      const only = command.target === undefined ? null : new Set([command.target].flat());
      const raised = m.all("joined").filter((p) => p.handUp && (only === null || only.has(p.id)));
      const now = iso();
      for (const p of raised) {
        m.sql.exec("UPDATE ot_participants SET hand_up = 0, hand_updated_at = ? WHERE id = ?", now, p.id);
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
      m.sql.exec("UPDATE ot_participants SET display_name = ? WHERE id = ?", name, target.id);
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
      m.sql.exec(
        "UPDATE ot_participants SET status = 'waiting', accepted = 0, hand_up = 0, hand_updated_at = ?, joined_at = ?, left_reason = 'sent_to_waiting_room' WHERE id = ?",
        now, now, target.id,
      );
      deps.coalescer.note(target.id, true);
      m.send(target.id, "moderation", { message: "sent_to_waiting_room" });
      const waiting = m.participant(target.id) as Participant;
      m.toModerators({ message: "joined_waiting_room", id: waiting.id, control: controlState(waiting) });
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
        m.sql.exec("INSERT OR IGNORE INTO ot_bans (user_uuid) VALUES (?)", target.userUuid);
      }
      remove(deps, target, command.action === "ban" ? "banned" : "kicked");
      return;
    }
  }
}

/** Kick or ban: the message, the socket closed, the participant gone for good (no resumption). */
function remove(deps: ModerationDeps, target: Participant, message: "kicked" | "banned"): void {
const m = deps.meeting;
  const sockets = m.sockets(target.id);
  for (const s of sockets) {
    try {
      s.send(frame("moderation", { message }));
    } catch {
      // gone already
    }
  }
  deps.disconnect(target.id, null);
  // A kicked participant may come back with a new ticket, through the waiting room again.
  m.sql.exec("DELETE FROM ot_participants WHERE id = ?", target.id);
  for (const s of sockets) {
    try {
      s.close(1000, message);
    } catch {
      // gone already
    }
  }
}
