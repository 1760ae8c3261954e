/**
 * The rulebook: who may do what in a room, whichever dialect asks. Pure functions of the room,
 * the caller and their attendee row; the operations (ops/) apply them before writing anything.
 *
 * Roles, once for both dialects (README "One rulebook" has the table):
 * - owner (participant type 1): the room's creator while they are a member; configures the room;
 * - moderator (2) and guest moderator (6): moderate (lobby, permissions, calls); in rooms made by
 *   Talk they also configure, as Talk allows; rooms made by OpenTalk (origin "opentalk") are
 *   configured by their owner only, as OpenTalk allows;
 * - administrators count as owners of OpenTalk rooms (OpenTalk's path ACL gives them every room);
 * - user (3), self-joined user (5), guest (4), e-mail and phone attendees: take part.
 */
import type { Caller, FailureReason, Outcome } from "./contract";
import { fail, FORBIDDEN, ok } from "./contract";
import { effectivePermissions, heldInLobby, isLoggedInModeratorType, isModeratorType, Permission } from "./permissions";
import { type Attendee, ParticipantType, type RoomMeta, RoomType } from "./types";

/**
 * Access levels: any attendee; any moderator (incl. guest moderators); logged-in moderators;
 * `configure` and `configureLoggedIn` are those two in Talk's rooms and the owner (or an
 * administrator) in rooms governed by their owner.
 */
export type Need = "participant" | "moderator" | "loggedInModerator" | "configure" | "configureLoggedIn";

/** The two user ids a one-to-one room is named after (its name is their JSON list). */
export function oneToOneUsers(name: string): string[] {
  try {
    const parsed = JSON.parse(name) as unknown;
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

export const isOneToOne = (type: number) => type === RoomType.OneToOne || type === RoomType.FormerOneToOne;
export const isGroupOrPublic = (type: number) => type === RoomType.Group || type === RoomType.Public;

/** Rooms made by OpenTalk are configured by their owner alone. */
export const ownerGoverned = (meta: RoomMeta) => meta.origin === "opentalk";

/** The caller is the room's owner, or an administrator of a room governed by its owner. */
export function isOwner(meta: RoomMeta, caller: Caller, attendee: Attendee | null): boolean {
  if (attendee?.participantType === ParticipantType.Owner) return true;
  return ownerGoverned(meta) && caller.kind === "user" && caller.admin === true;
}

/** Whether the caller (with their attendee row, if any) meets the access level. */
export function meets(need: Need, meta: RoomMeta, caller: Caller, attendee: Attendee | null): boolean {
  const loggedIn = caller.kind === "user";
  const type = attendee?.participantType ?? 0;
  switch (need) {
    case "participant":
      return attendee !== null;
    case "moderator":
      return isModeratorType(type) || isOwner(meta, caller, attendee) || caller.meetingModerator === true;
    case "loggedInModerator":
      return (loggedIn && isLoggedInModeratorType(type)) || isOwner(meta, caller, attendee);
    case "configure":
      return ownerGoverned(meta) ? isOwner(meta, caller, attendee) : isModeratorType(type);
    case "configureLoggedIn":
      return ownerGoverned(meta) ? isOwner(meta, caller, attendee) : loggedIn && isLoggedInModeratorType(type);
  }
}

/**
 * Not a participant: 404 (the room does not exist for them), unless an administrator configures
 * an owner-governed room. A participant without the level: 403.
 */
export function check(need: Need, meta: RoomMeta, caller: Caller, attendee: Attendee | null): Outcome<null> {
  const memberless = isOwner(meta, caller, null) || (need === "moderator" && caller.meetingModerator === true);
  if (attendee === null && !(need !== "participant" && memberless)) return fail(404, "room");
  return meets(need, meta, caller, attendee) ? ok(null) : fail(403, FORBIDDEN);
}

type Rights = Pick<Attendee, "participantType" | "permissions">;

export function permissionsOf(meta: RoomMeta, attendee: Rights): number {
  return effectivePermissions(attendee.participantType, attendee.permissions, meta.defaultPermissions);
}

export function inLobby(meta: RoomMeta, attendee: Rights): boolean {
  return heldInLobby(meta.lobbyState, attendee.participantType, permissionsOf(meta, attendee));
}

/**
 * Whether a participant may take part in the call (Talk) or meeting (OpenTalk) right now; one rule
 * for both: not in a read-only room, not banned, allowed to start it when none is running. The
 * lobby is each dialect's own way of waiting (Talk: 412, OpenTalk: the waiting room).
 */
export function callRefusal(meta: RoomMeta, attendee: Rights, o: { banned: boolean; running: boolean }): { status: number; reason: FailureReason } | null {
  if (meta.readOnly === 1) return { status: 403, reason: "read-only" };
  if (o.banned) return { status: 403, reason: "banned" };
  if (!o.running && (permissionsOf(meta, attendee) & Permission.StartCall) === 0) return { status: 403, reason: "permission" };
  return null;
}

/**
 * Guests without an account come in by a Talk public link (public rooms) or an OpenTalk invite
 * code; invite codes work in public rooms and in rooms made by OpenTalk, never in one-to-one,
 * private (group) Talk rooms or the others.
 */
export function guestsByInviteCode(meta: RoomMeta): boolean {
  if (meta.type === RoomType.Public) return true;
  return meta.type === RoomType.Group && ownerGoverned(meta);
}

/** Public rooms take anyone; group rooms users when listed; others only their members. */
export function selfJoinAllowed(meta: RoomMeta, caller: Caller): boolean {
  return meta.type === RoomType.Public || (caller.kind === "user" && meta.listable > 0 && meta.type === RoomType.Group);
}
