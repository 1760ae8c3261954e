/**
 * The call: peers, join, flags, leave, ring and the dial-out check. OpenTalk participants in the
 * meeting are in the call too (sessions.ts), so one rule (rules.ts `callRefusal`) admits both.
 */
import { allowedCallFlags, CALL_PING_SECONDS } from "../calls";
import { type Caller, type CallPeer, type CallStart, fail, FORBIDDEN, ok, type Outcome } from "../contract";
import { isModeratorType, Permission } from "../permissions";
import { callRefusal, inLobby, isOneToOne, permissionsOf } from "../rules";
import { nowSeconds } from "../store";
import type { Session } from "../types";
import { type Access, participantAccess, type Tx } from "./actor";
import { callRunning, recomputeCall } from "./call-state";
import { actorOf, callUsers, partnerRefill, recordCallEnd, recordCallJoin, recordCallLeave } from "./chat";
import { endCall } from "./settings";

type CallAccess = Access & { attendee: NonNullable<Access["attendee"]> };

/**
 * Access for the call endpoints: a participant (404), with a session when the endpoint needs one
 * (404), not in a read-only room (403), not banned (403) and not held in the lobby (412).
 */
function callAccess(tx: Tx, caller: Caller, opts: { session: boolean; readOnlyAllowed?: boolean }): Outcome<CallAccess> {
  const granted = participantAccess(tx, caller, "participant");
  if (!granted.ok) return granted;
  const { meta, attendee, session } = granted.value;
  if (opts.session && !session) return fail(404, "session");
  if (!opts.readOnlyAllowed && meta.readOnly === 1) return fail(403, "read-only");
  if (tx.store.isBanned(attendee.userUuid)) return fail(403, "banned");
  if (inLobby(meta, attendee)) return fail(412, "lobby");
  return granted;
}

/** Sessions in the call that pinged recently (participants; not read-only, not in the lobby). */
export function callPeers(tx: Tx, caller: Caller): Outcome<CallPeer[]> {
  const granted = callAccess(tx, caller, { session: false });
  if (!granted.ok) return granted;
  return ok(tx.store.callPeers(nowSeconds() - CALL_PING_SECONDS));
}

/**
 * Joins the call with the given flags. Starting a call (none running) needs the start-call
 * permission; audio and video bits the caller may not publish are dropped. Where the server
 * requires recording consent, a join without it is refused.
 */
export function joinCall(tx: Tx, caller: Caller, flags: number, consent: { required: boolean; given: boolean }, silent = false): Outcome<CallStart> {
  const granted = callAccess(tx, caller, { session: true });
  if (!granted.ok) return granted;
  if (consent.required && !consent.given) return fail(400, "consent");
  const { attendee, session, meta } = granted.value;
  const running = callRunning(tx);
  const refused = callRefusal(meta, attendee, { banned: false, running });
  if (refused) return fail(refused.status, refused.reason);
  // Calling into a one-to-one room brings back a partner who left, as writing does.
  const refill = partnerRefill(tx);
  if (refill) return refill;
  const wasInCall = (session as Session).inCall !== 0;
  tx.store.setInCall((session as Session).id, allowedCallFlags(flags, permissionsOf(meta, attendee)));
  tx.change.sessions = true;
  recomputeCall(tx);
  if (!wasInCall) recordCallJoin(tx, attendee, !running, silent);
  const oneToOne = isOneToOne(meta.type);
  if (running) return ok({ started: false, roomName: meta.name, oneToOne, startTime: tx.meta.callStartTime, notify: [] });
  // Who hears about a new call: users who want call notifications and are not held in the lobby.
  const notify = tx.store
    .attendees("actor_type = 'users' AND notification_calls = 1 AND id != ? AND user_uuid IS NOT NULL", attendee.id)
    .filter((a) => !inLobby(meta, a))
    .map((a) => ({ actorId: a.actorId, userUuid: a.userUuid as string }));
  return ok({ started: true, roomName: meta.name, oneToOne, startTime: tx.meta.callStartTime, notify });
}

/** Changes the flags of the caller's session, which must be in the call. */
export function updateCallFlags(tx: Tx, caller: Caller, flags: number): Outcome<null> {
  const granted = callAccess(tx, caller, { session: true });
  if (!granted.ok) return granted;
  const { attendee, session, meta } = granted.value;
  if ((session as Session).inCall === 0) return fail(400, "in-call");
  tx.store.setInCall((session as Session).id, allowedCallFlags(flags, permissionsOf(meta, attendee)));
  tx.change.sessions = true;
  recomputeCall(tx);
  return ok(null);
}

/** Leaves the call; with `all`, a moderator ends it for everyone. */
export function leaveCall(tx: Tx, caller: Caller, all: boolean): Outcome<null> {
  const granted = callAccess(tx, caller, { session: true });
  if (!granted.ok) return granted;
  const { attendee, session } = granted.value;
  const startedAt = tx.meta.callStartTime;
  const running = tx.meta.callFlag !== 0;
  if (all && isModeratorType(attendee.participantType)) {
    endCall(tx);
    if (running) recordCallEnd(tx, actorOf(attendee), startedAt, true);
  } else {
    const wasInCall = (session as Session).inCall !== 0;
    tx.store.setInCall((session as Session).id, 0);
    tx.change.sessions = true;
    // Sessions that stopped pinging do not keep a call alive: without a live one it ends.
    if (!callRunning(tx)) {
      endCall(tx);
      if (running) recordCallEnd(tx, actorOf(attendee), startedAt, false);
    } else if (wasInCall) {
      recordCallLeave(tx, attendee);
    }
  }
  recomputeCall(tx);
  tx.change.settings = true;
  return ok(null);
}

/**
 * Checks that a moderator in a running call may ring an attendee who is a user and not in the
 * call yet. Returns the attendee to notify (the dialect layer delivers the notification).
 */
export interface RingTarget {
  actorId: string;
  userUuid: string | null;
  roomName: string;
  oneToOne: boolean;
  /** The running call's start: the notification belongs to this call. */
  startTime: number;
}

export function ringTarget(tx: Tx, caller: Caller, attendeeId: number): Outcome<RingTarget> {
  const granted = callAccess(tx, caller, { session: false, readOnlyAllowed: true });
  if (!granted.ok) return granted;
  const { attendee, session, meta } = granted.value;
  if (!isModeratorType(attendee.participantType)) return fail(403, FORBIDDEN);
  const target = tx.store.attendeeById(attendeeId);
  if (!target) return fail(404, "participant");
  if (target.actorType !== "users") return fail(400, "actor-type");
  if (!callRunning(tx)) return fail(400, "call");
  if (!session || session.inCall === 0) return fail(400, "in-call");
  if (tx.store.countInCall(0, target.id) > 0) return fail(400, "target-in-call");
  return ok({ actorId: target.actorId, userUuid: target.userUuid, roomName: meta.name, oneToOne: isOneToOne(meta.type), startTime: meta.callStartTime });
}

/** The checks a SIP dial-out request passes first: a participant with the start-call permission. */
export function dialoutCheck(tx: Tx, caller: Caller): Outcome<null> {
  const granted = callAccess(tx, caller, { session: false, readOnlyAllowed: true });
  if (!granted.ok) return granted;
  const { attendee, meta } = granted.value;
  if ((permissionsOf(meta, attendee) & Permission.StartCall) === 0) return fail(403, "permission");
  return ok(null);
}

/** Bans a user from the live meeting and the call: their sessions leave the call now. */
export function banUser(tx: Tx, userUuid: string): Outcome<null> {
  tx.store.ban(userUuid);
  tx.change.banned.push(userUuid);
  const attendee = tx.store.attendeeByUser(userUuid);
  if (attendee) {
    for (const s of tx.store.talkSessionsInCall(attendee.id)) tx.store.setInCall(s.id, 0);
    tx.change.sessions = true;
    recomputeCall(tx);
  }
  return ok(null);
}

/**
 * What a user's call notification should do (spreed's `checkIfUserIsMissingCall`): `not_found`
 * (not a member: dismiss), `missed` (no call: show "missed call"), `joined` (in the call, or just
 * left it: dismiss), `current` (keep ringing). Someone who joined and left is rung again once the
 * call is older than its first minute (45 s of ringing and 15 s for a late push, as the reference).
 */
export type CallNotificationState = "not_found" | "missed" | "joined" | "current";

export function callNotificationState(tx: Pick<Tx, "store">, userUuid: string, now: number): CallNotificationState {
  const attendee = tx.store.attendeeByUser(userUuid);
  const meta = tx.store.meta;
  if (!attendee || !meta) return "not_found";
  if (meta.callFlag === 0) return "missed";
  if (tx.store.countInCall(0, attendee.id) > 0) return "joined";
  if (!callUsers(tx).includes(attendee.actorId)) return "current";
  return meta.callStartTime + 60 < now ? "current" : "joined";
}
