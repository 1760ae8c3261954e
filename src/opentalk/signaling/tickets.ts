/**
 * Signaling tickets (reference §3.1): the room object checks a start request against the room's
 * rulebook and reserves the participant before the Worker hands out a ticket.
 */
import { ALNUM, randomString, sha256Hex, verifyPassword } from "../../lib/crypto";
import { type Caller, fail, ok, type Outcome } from "../../room/contract";
import { isModeratorType } from "../../room/permissions";
import { callRefusal, guestsByInviteCode, isOwner, selfJoinAllowed } from "../../room/rules";
import type { Role } from "./frames";
import { participantFromRow, type SignalingHost, type SignalingStart, writeMeeting } from "./meeting";

/** A dropped participant may resume (same id, waiting-room pass kept) for this long. */
export const RESUMPTION_TTL_MS = 120_000;

/**
 * Checks a start request against the live room (password for guests, bans, breakout, a running
 * session of the resumption token) and reserves the participant: a resumed one keeps its id.
 */
export async function prepareParticipant(host: SignalingHost, start: SignalingStart): Promise<Outcome<{ participantId: string; resumption: string }>> {
  const sql = host.ctx.storage.sql;
  const meta = host.store.meta;
  if (!meta) return fail(404, "room");
  const caller = startCaller(start);
  const attendee = start.userUuid ? host.store.attendeeByUser(start.userUuid) : null;
  // Users come in as members (or administrators of an OpenTalk room); guests by invite code where the room takes them.
  if (start.kind === "user" && !attendee && !isOwner(meta, caller, null) && !selfJoinAllowed(meta, caller)) return fail(404, "room");
  if (start.kind === "guest" && !guestsByInviteCode(meta)) return fail(403, "guests-not-allowed");
  if (start.checkPassword && meta.passwordHash !== null && !(await verifyPassword(start.password ?? "", meta.passwordHash))) {
    return fail(401, "wrong_room_password");
  }
  if (host.store.isBanned(start.userUuid)) return fail(403, "banned_from_room");
  // EdgeTalk runs no breakout rooms, so any breakout id is refused as the reference does then.
  if (start.breakoutRoom !== undefined) return fail(400, "no_breakout_rooms");
  // The meeting is the room's call: the same rule admits both (read-only, start-call right).
  const rights = attendee ?? { participantType: start.kind === "user" ? 5 : 4, permissions: 0 };
  const refused = callRefusal(meta, rights, { banned: false, running: host.store.countInCall(0) > 0 });
  if (refused) return fail(refused.status, refused.reason);
  const now = Date.now();
  writeMeeting(sql, "DELETE FROM ot_participants WHERE connected = 0 AND resumption_expires < ?", now);
  const role: Role = start.kind !== "user" ? "guest" : (attendee && isModeratorType(attendee.participantType)) || isOwner(meta, caller, null) ? "moderator" : "user";
  const isRoomOwner = attendee?.participantType === 1;

  if (start.resumption) {
    const hash = await sha256Hex(start.resumption);
    const row = sql.exec("SELECT * FROM ot_participants WHERE resumption_hash = ?", hash).toArray()[0];
    const found = row ? participantFromRow(row) : null;
    // A token of another user (or of a guest when a user asks) is ignored, as in the reference.
    if (found && found.kind === start.kind && found.userUuid === start.userUuid) {
      if (found.connected) return fail(400, "session_running");
      writeMeeting(sql,
        "UPDATE ot_participants SET resumption_expires = ?, avatar_url = ?, tariff = ?, role = ?, is_owner = ? WHERE id = ?",
        now + RESUMPTION_TTL_MS, start.avatarUrl, JSON.stringify(start.tariff), role, isRoomOwner ? 1 : 0, found.id,
      );
      return ok({ participantId: found.id, resumption: start.resumption });
    }
  }
  const id = crypto.randomUUID();
  const resumption = randomString(64, ALNUM);
  writeMeeting(sql,
    `INSERT INTO ot_participants (id, kind, user_uuid, display_name, avatar_url, role, is_owner, resumption_hash,
       resumption_expires, tariff, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    id, start.kind, start.userUuid, start.displayName, start.avatarUrl, role, isRoomOwner ? 1 : 0,
    await sha256Hex(resumption), now + RESUMPTION_TTL_MS, JSON.stringify(start.tariff),
    JSON.stringify({ creator: start.creator, eventInfo: start.eventInfo, userid: start.userid ?? null }),
  );
  return ok({ participantId: id, resumption });
}

function startCaller(start: SignalingStart): Caller {
  if (start.kind === "user" && start.userUuid) return { kind: "user", userUuid: start.userUuid, userid: start.userid, admin: start.admin, cookie: "" };
  return { kind: "guest", cookie: "" };
}
