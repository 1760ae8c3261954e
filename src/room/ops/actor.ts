/**
 * Who the caller is in this room (their Talk session, found by their cookie, and their attendee
 * row) and the access check every operation starts with.
 */
import { type Caller, fail, ok, type Outcome } from "../contract";
import type { RoomChange } from "../presence";
import { check, type Need } from "../rules";
import type { AttendeeRow, RoomStore } from "../store";
import type { Attendee, RoomMeta, Session } from "../types";

/** One operation's working set: the store, the live meta row and the change being built. */
export interface Tx {
  store: RoomStore;
  meta: RoomMeta;
  change: RoomChange;
}

export interface Access {
  meta: RoomMeta;
  /** Null only for an administrator acting on an owner-governed room they are no member of. */
  attendee: AttendeeRow | null;
  session: Session | null;
}

export const cookieKey = (caller: Caller) => (caller.tabId ? `${caller.cookie}$${caller.tabId}` : caller.cookie);

/** The caller's Talk session in this room, found through their cookie (+ tab id). */
export function callerSession(store: RoomStore, caller: Caller): Session | null {
  return caller.cookie ? store.sessionByCookie(cookieKey(caller)) : null;
}

/** Users are found by actor id; guests only through a session of theirs (their cookie). */
export function callerAttendee(store: RoomStore, caller: Caller, session: Session | null): AttendeeRow | null {
  if (caller.kind === "user" && caller.userid) return store.attendeeByActor("users", caller.userid);
  if (session) {
    const a = store.attendeeById(session.attendeeId);
    if (a && (a.actorType === "guests" || a.actorType === "emails")) return a;
  }
  return null;
}

/** Resolves the caller and checks the access level. */
export function access(tx: Tx, caller: Caller, need: Need, o: { memberless?: boolean } = {}): Outcome<Access> {
  const found = callerSession(tx.store, caller);
  const attendee = callerAttendee(tx.store, caller, found);
  // `memberless`: only resolve the caller (their levels are checked by the caller of this).
  if (!o.memberless) {
    const checked = check(need, tx.meta, caller, attendee);
    if (!checked.ok) return checked;
  }
  const session = found && attendee && found.attendeeId === attendee.id ? found : null;
  return ok({ meta: tx.meta, attendee, session });
}

/** Like `access`, for operations that need the caller to be an attendee. */
export function participantAccess(tx: Tx, caller: Caller, need: Need): Outcome<Access & { attendee: AttendeeRow }> {
  const a = access(tx, caller, need);
  if (!a.ok) return a;
  if (!a.value.attendee) return fail(404, "room");
  return a as Outcome<Access & { attendee: AttendeeRow }>;
}

/** The attendee as views show it: without the stored-only fields (user uuid, open invitation). */
export function stripUser(a: AttendeeRow): Attendee {
  const { userUuid: _u, invitationOpen: _i, ...rest } = a;
  return rest;
}

/** Removes an attendee and records it for the presences and the index. */
export function removeAttendee(tx: Tx, a: AttendeeRow, o: { left?: boolean } = {}): void {
  tx.store.deleteAttendee(a);
  tx.change.removed.push({ attendeeId: a.id, userUuid: a.userUuid, actorId: a.actorId, ...(o.left ? { left: true } : {}) });
  tx.change.sessions = true;
}

/** Changes an attendee's type or permissions and records it. */
export function updateAttendee(tx: Tx, a: AttendeeRow, set: { participantType?: number; permissions?: number }): void {
  tx.store.updateAttendee(a, set);
  tx.change.updated.push({ attendeeId: a.id, userUuid: a.userUuid });
}
