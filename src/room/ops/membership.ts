/**
 * Membership: adding users, groups and e-mail invitees, removing attendees, leaving for good,
 * promoting and demoting, attendee permissions, guest names, and event invitees (OpenTalk). The
 * same rules whichever dialect asks; removals and demotions reach every live presence through the
 * change they record.
 */
import { type Caller, fail, type GroupLeaver, ok, type Outcome, type Removal } from "../contract";
import { initialPermissions, isLoggedInModeratorType, isModeratorType, modifyPermissions, type PermissionMethod } from "../permissions";
import { isGroupOrPublic, isOneToOne } from "../rules";
import { type AttendeeRow, nowSeconds } from "../store";
import { type Attendee, type ChatActor, type NewMember, ParticipantType, type RoomMeta, RoomType } from "../types";
import { type Access, access, participantAccess, removeAttendee, stripUser, type Tx, updateAttendee } from "./actor";
import { actorOf, callerActor, recordSystem } from "./chat";
import { assignPins, endCall } from "./settings";

/** Records a user or group joining or leaving the members in the chat (guests and e-mail invitees are not recorded). */
function recordMembership(tx: Tx, actor: ChatActor, change: "added" | "removed", a: Pick<AttendeeRow, "actorType" | "actorId" | "displayName">): void {
  if (a.actorType === "users") recordSystem(tx, actor, `user_${change}`, { user: actorOf(a) });
  else if (a.actorType === "groups") recordSystem(tx, actor, `group_${change}`, { group: actorOf(a) });
}

/** Adds an attendee; in a room with SIP dial-in they get a PIN. With an actor, the chat records who added them. */
export function insertMember(tx: Tx, m: NewMember, actor?: ChatActor): AttendeeRow {
  const added = tx.store.insertAttendee(m, nowSeconds());
  if (tx.meta.sipEnabled !== 0) assignPins(tx.store);
  if (actor) recordMembership(tx, actor, "added", added);
  return tx.store.attendeeById(added.id) as AttendeeRow;
}

/**
 * Adds users, groups (with their members) or email invitees. Email invitees turn a group room
 * public (a Talk room; owner-governed rooms take guests by invite code instead).
 */
export function addParticipants(
  tx: Tx,
  caller: Caller,
  members: NewMember[],
): Outcome<{ meta: RoomMeta; type: number; typeChanged: boolean; invited: Attendee[]; addedUsers: { userUuid: string; actorId: string }[] }> {
  const granted = access(tx, caller, "configureLoggedIn");
  if (!granted.ok) return granted;
  const { meta } = tx;
  if (!isGroupOrPublic(meta.type) || meta.objectType === "share:password") return fail(400, "room-type");
  const invited: Attendee[] = [];
  const addedUsers: { userUuid: string; actorId: string }[] = [];
  const actor = callerActor(caller, granted.value.attendee);
  for (const m of members) {
    const existing = tx.store.attendeeByActor(m.actorType, m.actorId);
    if (existing) {
      if (existing.participantType === ParticipantType.UserSelfJoined && m.participantType === ParticipantType.User) {
        updateAttendee(tx, existing, { participantType: ParticipantType.User });
        tx.change.settings = true;
      }
      continue;
    }
    const added = insertMember(tx, m, actor);
    tx.change.settings = true;
    if (added.actorType === "emails") invited.push(stripUser(added));
    if (added.actorType === "users" && added.userUuid && added.userUuid !== caller.userUuid) {
      addedUsers.push({ userUuid: added.userUuid, actorId: added.actorId });
      if (isGroupOrPublic(tx.meta.type)) tx.store.setInvitationOpen(added.id, true);
    }
  }
  const typeChanged = invited.length > 0 && meta.type === RoomType.Group && meta.origin === "talk";
  if (typeChanged) meta.type = RoomType.Public;
  return ok({ meta: { ...meta }, type: meta.type, typeChanged, invited, addedUsers });
}

/**
 * Adds members the Worker vouches for (room creation flows, re-adding one-to-one partners, a user
 * joining a group that is an attendee). A self-joined user added as a member becomes one.
 */
export function addMembers(tx: Tx, members: NewMember[], actor?: ChatActor): number {
  let added = 0;
  for (const m of members) {
    const existing = tx.store.attendeeByActor(m.actorType, m.actorId);
    if (existing?.participantType === ParticipantType.UserSelfJoined && m.participantType === ParticipantType.User) {
      updateAttendee(tx, existing, { participantType: ParticipantType.User });
      tx.change.settings = true;
      added += 1;
    }
    if (existing) continue;
    insertMember(tx, m, actor);
    tx.change.settings = true;
    added += 1;
  }
  return added;
}

/**
 * Removes an attendee. Owners cannot be removed by others; moderators must be demoted first.
 * Removing yourself follows the leave-conversation rules.
 */
export function removeOther(tx: Tx, caller: Caller, attendeeId: number): Outcome<Removal | "self"> {
  const granted = access(tx, caller, "configure");
  if (!granted.ok) return granted;
  if (isOneToOne(tx.meta.type)) return fail(400, "room-type");
  const target = tx.store.attendeeById(attendeeId);
  if (!target) return fail(404, "participant");
  if (target.id === granted.value.attendee?.id) return ok("self");
  if (target.participantType === ParticipantType.Owner) return fail(403, "owner");
  // Seed 002: 400 for a moderator; the value is one the reference's document lists for this operation.
  if (isModeratorType(target.participantType)) return fail(400, "participant");
  removeAttendee(tx, target);
  recordMembership(tx, callerActor(caller, granted.value.attendee), "removed", target);
  tx.change.settings = true;
  return ok({ roomDeleted: false, ...(target.userUuid ? { removedUser: target.userUuid } : {}), ...(target.actorType === "groups" ? { removedGroup: target.actorId } : {}) });
}

/**
 * The leave-for-good rules: the last moderator stays while others remain; the last member leaving
 * deletes the room ("wipe": the caller deletes it).
 */
export function leaveForGood(tx: Tx, caller: Caller): Outcome<Removal | "wipe"> {
  const granted = participantAccess(tx, caller, "participant");
  if (!granted.ok) return granted;
  const { attendee } = granted.value;
  const { meta, store } = tx;
  const members = store.countMembers();
  if (isLoggedInModeratorType(attendee.participantType) && !isOneToOne(meta.type) && members > 1 && store.countLoggedInModerators() === 1) {
    return fail(400, "last-moderator");
  }
  const isMember = attendee.participantType >= ParticipantType.Owner && attendee.participantType <= ParticipantType.User;
  if (isMember && members === 1 && meta.type !== RoomType.Changelog && meta.objectType !== "file") return ok("wipe");
  removeAttendee(tx, attendee);
  if (!isOneToOne(meta.type)) recordMembership(tx, actorOf(attendee), "removed", attendee);
  tx.change.settings = true;
  return ok({ roomDeleted: false });
}

/** Self-joined users may be promoted too (the reference allows it; they become moderators, i.e. members). */
const PROMOTIONS: Record<number, number> = {
  [ParticipantType.User]: ParticipantType.Moderator,
  [ParticipantType.UserSelfJoined]: ParticipantType.Moderator,
  [ParticipantType.Guest]: ParticipantType.GuestModerator,
};
const DEMOTIONS: Record<number, number> = { [ParticipantType.Moderator]: ParticipantType.User, [ParticipantType.GuestModerator]: ParticipantType.Guest };

/** Promotes a user (3 → 2) or guest (4 → 6), or demotes back; never the owner or oneself. */
export function changeRole(tx: Tx, caller: Caller, attendeeId: number, direction: "promote" | "demote"): Outcome<null> {
  const granted = access(tx, caller, "configure");
  if (!granted.ok) return granted;
  const target = tx.store.attendeeById(attendeeId);
  if (!target) return fail(404, "participant");
  // One-to-one rooms have two owners and no roles to change.
  if (isOneToOne(tx.meta.type)) return fail(400, "room-type");
  if (target.id === granted.value.attendee?.id) return fail(403, "self");
  if (target.participantType === ParticipantType.Owner) return fail(403, "owner");
  const transitions = direction === "promote" ? PROMOTIONS : DEMOTIONS;
  const next = target.actorType === "groups" || target.actorType === "circles" ? undefined : transitions[target.participantType];
  if (next === undefined) return fail(400, "participant-type");
  // A promotion starts from a clean slate: moderators have every permission anyway.
  updateAttendee(tx, target, { participantType: next, permissions: isModeratorType(next) ? 0 : target.permissions });
  const guest = target.actorType === "guests" || target.actorType === "emails";
  const subject = `${guest ? "guest_" : ""}moderator_${direction === "promote" ? "promoted" : "demoted"}`;
  recordSystem(tx, callerActor(caller, granted.value.attendee), subject, guest ? { session: target.actorId, user: actorOf(target) } : { user: actorOf(target) });
  tx.change.settings = true;
  return ok(null);
}

/** Stores a set/add/remove on one attendee; self-joined users become permanent members. */
function applyPermissions(tx: Tx, target: AttendeeRow, method: PermissionMethod, value: number, meta: RoomMeta): void {
  const start = target.permissions !== 0 || method === "set" ? target.permissions : initialPermissions(target.participantType, meta.defaultPermissions);
  const type = target.participantType === ParticipantType.UserSelfJoined ? ParticipantType.User : target.participantType;
  updateAttendee(tx, target, { permissions: modifyPermissions(method, start, value), participantType: type });
}

/** Sets, adds or removes permissions of one attendee (moderators). */
export function setAttendeePermissions(tx: Tx, caller: Caller, attendeeId: number, method: PermissionMethod, value: number): Outcome<Access> {
  const granted = access(tx, caller, "moderator");
  if (!granted.ok) return granted;
  if (!isGroupOrPublic(tx.meta.type)) return fail(400, "room-type");
  const target = tx.store.attendeeById(attendeeId);
  if (!target) return fail(404, "participant");
  if (target.actorType === "groups" || target.actorType === "circles") return fail(400, "type");
  if (isModeratorType(target.participantType)) return fail(403, "moderator");
  applyPermissions(tx, target, method, value, tx.meta);
  tx.change.settings = true;
  return granted;
}

/** The same change for every attendee without moderator rights (moderators). */
export function setAllPermissions(tx: Tx, caller: Caller, method: PermissionMethod, value: number): Outcome<Access> {
  const granted = access(tx, caller, "moderator");
  if (!granted.ok) return granted;
  if (!isGroupOrPublic(tx.meta.type)) return fail(400, "room-type");
  for (const a of tx.store.attendees("actor_type NOT IN ('groups', 'circles')")) {
    if (!isModeratorType(a.participantType)) applyPermissions(tx, a, method, value, tx.meta);
  }
  tx.change.settings = true;
  return granted;
}

/** Email invitees to send their invitation again: one attendee, or all of them (moderators). */
export function invitationTargets(tx: Tx, caller: Caller, attendeeId: number | null): Outcome<{ meta: RoomMeta; invitees: Attendee[] }> {
  const granted = access(tx, caller, "configure");
  if (!granted.ok) return granted;
  let rows: AttendeeRow[];
  if (attendeeId !== null) {
    const target = tx.store.attendeeById(attendeeId);
    if (!target) return fail(404, "participant");
    rows = [target];
  } else {
    rows = tx.store.attendees("actor_type = 'emails'");
  }
  return ok({ meta: { ...tx.meta }, invitees: rows.filter((a) => a.actorType === "emails").map(stripUser) });
}

/** A guest (or guest moderator) names themselves. */
export function setGuestName(tx: Tx, caller: Caller, displayName: string): Outcome<null> {
  const granted = participantAccess(tx, caller, "participant");
  if (!granted.ok) return granted;
  const { attendee } = granted.value;
  if (attendee.participantType !== ParticipantType.Guest && attendee.participantType !== ParticipantType.GuestModerator) return fail(403, "guest");
  tx.store.updateAttendee(attendee, { displayName });
  return ok(null);
}

/**
 * Membership from an OpenTalk event invite (the event's owner acts): adds the user with
 * `participantType` (3 user, 2 moderator), changes the type of an invited member, or removes them
 * (null). The owner is never touched. Returns whether anything changed.
 */
export function setInvitedUser(tx: Tx, caller: Caller, member: NewMember, participantType: number | null): Outcome<boolean> {
  const granted = access(tx, caller, "configure");
  if (!granted.ok) return granted;
  const existing = tx.store.attendeeByActor(member.actorType, member.actorId);
  if (existing?.participantType === ParticipantType.Owner) return ok(false);
  const actor = callerActor(caller, granted.value.attendee);
  if (participantType === null) {
    if (!existing) return ok(false);
    removeAttendee(tx, existing);
    recordMembership(tx, actor, "removed", existing);
  } else if (!existing) {
    insertMember(tx, { ...member, participantType }, actor);
  } else if (existing.participantType !== participantType) {
    updateAttendee(tx, existing, { participantType, permissions: isModeratorType(participantType) ? 0 : existing.permissions });
  } else {
    return ok(false);
  }
  tx.change.settings = true;
  return ok(true);
}

/**
 * A user account was deleted: they leave every room. Their one-to-one rooms stay for the partner
 * as a read-only former one-to-one named after them; their chat messages read as a deleted user's.
 * Returns "wipe" when they were the last member of a group or public room (it goes with them).
 */
export function userDeleted(tx: Tx, userid: string, displayName: string): Outcome<"wipe" | "kept"> {
  const a = tx.store.attendeeByActor("users", userid);
  if (!a) return ok("kept");
  const { meta } = tx;
  removeAttendee(tx, a);
  tx.store.chat.forgetActor("users", userid);
  tx.change.settings = true;
  if (meta.type === RoomType.OneToOne) {
    meta.type = RoomType.FormerOneToOne;
    meta.name = displayName;
    if (meta.readOnly !== 1) tx.change.readOnly = true;
    meta.readOnly = 1;
    endCall(tx);
    return ok("kept");
  }
  if (isGroupOrPublic(meta.type) && tx.store.countMembers() === 0) return ok("wipe");
  return ok("kept");
}

/**
 * Users who left a group, or whose group attendee was removed (or deleted, `removedGroup`): a plain
 * member (type 3) goes unless another of their groups is an attendee; moderators and owners stay.
 */
export function pruneGroupLeavers(tx: Tx, leavers: GroupLeaver[], removedGroup?: string): number {
  // A deleted group leaves every room first (its members follow below).
  const group = removedGroup ? tx.store.attendeeByActor("groups", removedGroup) : null;
  if (group) {
    removeAttendee(tx, group);
    tx.change.settings = true;
  }
  const groups = new Set(tx.store.attendees("actor_type = 'groups'").map((a) => a.actorId));
  let removed = 0;
  for (const l of leavers) {
    const a = tx.store.attendeeByUser(l.userUuid);
    if (a?.participantType !== ParticipantType.User || l.groups.some((g) => groups.has(g))) continue;
    removeAttendee(tx, a);
    tx.change.settings = true;
    removed += 1;
  }
  return removed;
}
