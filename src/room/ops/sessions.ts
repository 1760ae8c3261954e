/**
 * Sessions: the one live presence of the room. A Talk client holds a session from "join
 * conversation" on; an OpenTalk participant holds one while they are in the meeting (it is in the
 * call). Both are rows of `sessions`, so the participant list, the call, the counts and the lobby
 * see everyone, whichever protocol they came by.
 */
import { DEFAULT_CALL_FLAGS } from "../calls";
import { type Caller, fail, ok, type Outcome } from "../contract";
import { isOwner, selfJoinAllowed } from "../rules";
import { type AttendeeRow, nowSeconds } from "../store";
import { type NewMember, ParticipantType, type Session } from "../types";
import { callerAttendee, callerSession, cookieKey, removeAttendee, type Tx } from "./actor";
import { actorOf } from "./chat";
import { insertMember } from "./membership";

/** Cookie prefix of sessions held by OpenTalk participants (no Talk cookie can look like it). */
export const MEETING_COOKIE = "meeting:";

export interface JoinPlan {
  found: Session | null;
  before: AttendeeRow | null;
  needsPassword: boolean;
}

/** The checks before a Talk join that need no await: may the caller join, is a password due. */
export function planJoin(tx: Tx, caller: Caller): Outcome<JoinPlan> {
  const found = callerSession(tx.store, caller);
  const before = callerAttendee(tx.store, caller, found);
  // Administrators reach rooms made by OpenTalk through Talk too, as they do through /v1.
  if (!before && !selfJoinAllowed(tx.meta, caller) && !isOwner(tx.meta, caller, null)) return fail(404, "room");
  const selfJoinedAgain = before?.participantType === ParticipantType.UserSelfJoined && found === null;
  // Members need no password; self-joiners do (an administrator of an OpenTalk room counts as its owner).
  const needsPassword = tx.meta.passwordHash !== null && (!before || selfJoinedAgain) && !isOwner(tx.meta, caller, null);
  return ok({ found, before, needsPassword });
}

/**
 * Starts the caller's session (after the password and the guest's actor id were worked out). A
 * session of the same cookie that is in the call answers 409 unless `force`.
 */
export function join(
  tx: Tx,
  caller: Caller,
  plan: JoinPlan,
  o: { force: boolean; sessionId: string; guestActorId: string; awaited: boolean },
): Outcome<{ attendee: AttendeeRow; session: Session; invitationAnswered: boolean }> {
  // After an await the caller's session is read again: a concurrent request may have changed it.
  const previous = o.awaited ? callerSession(tx.store, caller) : plan.found;
  if (previous && !o.force && previous.inCall !== 0) {
    return fail(409, "conflict", { sessionId: previous.id, inCall: previous.inCall, lastPing: previous.lastPing });
  }
  if (previous) tx.store.deleteSession(previous.id);
  const attendee = (o.awaited ? callerAttendee(tx.store, caller, previous) : plan.before) ?? createCallerAttendee(tx, caller, o.guestActorId);
  const now = nowSeconds();
  const session: Session = { id: o.sessionId, attendeeId: attendee.id, cookie: cookieKey(caller), inCall: 0, lastPing: now, state: 1, createdAt: now };
  tx.store.insertSession(session);
  tx.change.sessions = true;
  // Only a row read with its invitation still open needs the write (new attendees have none).
  return ok({ attendee, session, invitationAnswered: attendee.invitationOpen && tx.store.answerInvitation(attendee.id) });
}

function createCallerAttendee(tx: Tx, caller: Caller, guestActorId: string): AttendeeRow {
  if (caller.kind === "user" && caller.userid) {
    const type = tx.meta.listable > 0 ? ParticipantType.User : ParticipantType.UserSelfJoined;
    const member = { actorType: "users" as const, actorId: caller.userid, displayName: caller.displayName ?? caller.userid, participantType: type, userUuid: caller.userUuid };
    // Joining a listed room makes a member, which the chat records; self-joining a public room does not.
    return insertMember(tx, member, type === ParticipantType.User ? actorOf(member) : undefined);
  }
  // Guests: actor id = sha1 of their first session id, stable while they keep their cookie.
  return insertMember(tx, { actorType: "guests", actorId: guestActorId, displayName: "", participantType: ParticipantType.Guest });
}

/** Ends the caller's Talk session; self-joined users and unnamed guests leave with their last one. */
export function leave(tx: Tx, caller: Caller): void {
  const session = callerSession(tx.store, caller);
  if (!session) return;
  endSession(tx, session);
}

export function endSession(tx: Tx, session: Session): void {
  tx.store.deleteSession(session.id);
  tx.change.sessions = true;
  dropTransientAttendee(tx, session.attendeeId);
}

/** Self-joined users and unnamed guests without custom permissions leave with their last session. */
function dropTransientAttendee(tx: Tx, attendeeId: number): void {
  const a = tx.store.attendeeById(attendeeId);
  if (!a) return;
  const transientGuest = a.actorType === "guests" && a.displayName === "" && a.permissions === 0 && a.participantType === ParticipantType.Guest;
  const meetingGuest = a.actorType === "guests" && a.actorId.startsWith(MEETING_COOKIE);
  const transient = a.participantType === ParticipantType.UserSelfJoined || transientGuest || meetingGuest;
  // Members stay whatever their sessions: their sessions are counted only for transient attendees.
  if (transient && tx.store.countSessions(attendeeId) === 0) removeAttendee(tx, a, { left: true });
}

/** Sessions that stopped pinging end (the alarm's duty). Returns how many. */
export function expireSessions(tx: Tx, cutoff: number): number {
  const stale = tx.store.staleSessions(cutoff);
  for (const s of stale) endSession(tx, s);
  return stale.length;
}

/**
 * An OpenTalk participant entered the meeting: they hold a session in the call, as a user (their
 * attendee row; an administrator who is no member self-joins) or a guest (an attendee for this
 * participant). `id` is the participant's id, the session's id too.
 */
export function enterMeeting(tx: Tx, p: { id: string; userUuid: string | null; userid: string | null; displayName: string }): Session {
  const existing = tx.store.sessionById(p.id);
  if (existing) return existing;
  let attendee = p.userUuid ? tx.store.attendeeByUser(p.userUuid) : null;
  if (!attendee) {
    const member: NewMember = p.userUuid && p.userid
      ? { actorType: "users", actorId: p.userid, displayName: p.displayName, participantType: ParticipantType.UserSelfJoined, userUuid: p.userUuid }
      : { actorType: "guests", actorId: `${MEETING_COOKIE}${p.id}`, displayName: p.displayName, participantType: ParticipantType.Guest };
    attendee = insertMember(tx, member);
  }
  const now = nowSeconds();
  const session: Session = { id: p.id, attendeeId: attendee.id, cookie: `${MEETING_COOKIE}${p.id}`, inCall: DEFAULT_CALL_FLAGS, lastPing: now, state: 1, createdAt: now };
  tx.store.insertSession(session);
  tx.change.sessions = true;
  return session;
}

/** The participant left the meeting: their session ends. */
export function leaveMeeting(tx: Tx, participantId: string): void {
  const session = tx.store.sessionById(participantId);
  if (session) endSession(tx, session);
}

/** Keeps meeting sessions alive while their sockets are (the heartbeat's duty). */
export function pingMeeting(tx: Tx, participantIds: string[]): void {
  const now = nowSeconds();
  for (const id of participantIds) tx.store.ping(id, now);
}
