/**
 * What crosses the room object's RPC boundary: who acts (`Caller`), results (`Outcome`: errors are
 * values, RPC does not keep exception classes) and the views the dialect layers translate.
 */
import type { Attendee, ChatFacts, ListedAttendee, RoomMeta, Session, StoredMessage } from "./types";

export type { ListedAttendee } from "./types";

/**
 * Why a room operation was refused. The dialect layers map each reason to their own error shape;
 * the words are the Talk reference's `{error}` values where it has one.
 */
export type FailureReason =
  | "room" | "session" | "forbidden" | "participant" | "password" | "conflict" | "type" | "room-type"
  | "object" | "owner" | "moderator" | "self" | "last-moderator" | "participant-type" | "guest" | "lobby"
  | "read-only" | "permission" | "consent" | "in-call" | "actor-type" | "call" | "target-in-call"
  | "sip" | "config" | "token" | "state" | "pin" | "banned" | "guests-not-allowed" | "value"
  // chat
  | "message" | "reply-to" | "age" | "chat-disabled" | "scope"
  // OpenTalk signaling starts
  | "wrong_room_password" | "banned_from_room" | "no_breakout_rooms" | "session_running";

export type Outcome<T> = { ok: true; value: T } | { ok: false; status: number; reason: FailureReason; data?: unknown };

/** Reason of a failure because the caller lacks the role an operation needs (not a rule about its target). */
export const FORBIDDEN = "forbidden" satisfies FailureReason;

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = (status: number, reason: FailureReason, data?: unknown): Outcome<never> => ({ ok: false, status, reason, data });

/** Who is acting on a room. `cookie` is a hash of the caller's session cookie ("" for none). */
export interface Caller {
  kind: "user" | "guest";
  userUuid?: string;
  userid?: string;
  displayName?: string;
  /** An administrator: counts as owner of rooms governed by their owner (OpenTalk rooms). */
  admin?: boolean;
  /**
   * A moderator of the live OpenTalk meeting (the role can be granted there for the meeting's
   * duration, as OpenTalk does): moderates, does not configure.
   */
  meetingModerator?: boolean;
  cookie: string;
  /** The user's read privacy as their account says (members' rows follow it when they act). */
  readPrivacy?: number;
  /** Talk's X-Nextcloud-Talk-Session-Tab-Id (64 alphanumerics), one session per tab. */
  tabId?: string;
}

/** What a caller sees of a room: the room, their attendee row and their current session. */
export interface CallerView {
  meta: RoomMeta;
  attendee: Attendee | null;
  session: Session | null;
  /** The chat as the attendee sees it (null for non-members). */
  chat?: ChatFacts | null;
  /** A join answered the invitation the user was notified of (its notification goes). */
  invitationAnswered?: boolean;
}

/** Messages of the room chat for one reader, with the parents of replies among them. */
export interface ChatPage {
  messages: StoredMessage[];
  parents: StoredMessage[];
  reader: Attendee;
  lastCommonRead: number;
  meta: RoomMeta;
}

/** What a signed-in caller may do with a room, decided by the rulebook (OpenTalk routes ask this). */
export interface RoomGrant {
  meta: RoomMeta;
  attendee: Attendee | null;
  /** May configure the room (settings, invites, deletion). */
  configure: boolean;
  /** Moderates the live meeting. */
  moderator: boolean;
  owner: boolean;
}

/** The participant list: every attendee with their live sessions. */
export interface ParticipantList {
  meta: RoomMeta;
  self: Attendee;
  attendees: readonly ListedAttendee[];
  sessions: Session[];
}

/** One session in the call (Talk `GET /call/{token}`). */
export interface CallPeer {
  actorType: string;
  actorId: string;
  displayName: string;
  lastPing: number;
  sessionId: string;
}

/** A call join; when it started the call, the users to tell about it. */
export interface CallStart {
  started: boolean;
  roomName: string;
  /** A one-to-one call ("… wants to talk with you") rather than a group call. */
  oneToOne: boolean;
  /** When the running call started (Unix seconds): a call notification belongs to this call. */
  startTime: number;
  notify: { actorId: string; userUuid: string }[];
}

/** Whether removing an attendee took the whole room with it (its last member left). */
export interface Removal {
  roomDeleted: boolean;
  /** The user removed (their D1 id), when a user was. */
  removedUser?: string;
  /** The group removed, when a group attendee was: its members follow (the dialect layer knows them). */
  removedGroup?: string;
}

/** A user who left a group (or whose group attendee went): their remaining groups decide whether they stay. */
export interface GroupLeaver {
  userUuid: string;
  groups: string[];
}

/** Members a chat writer could mention, and who is asking. */
export interface MentionCandidates {
  candidates: Attendee[];
  self: Attendee;
  roomName: string;
  /** One-to-one rooms have no "@all". */
  oneToOne: boolean;
  /** Everyone "@all" reaches (for its `details`). */
  participants: number;
}

/** A read of the room chat (Talk's receive parameters, checked by the dialect layer). */
export interface ChatQuery {
  lookIntoFuture: boolean;
  limit: number;
  lastKnown: number;
  includeLastKnown: boolean;
  /** Seconds to wait for new messages (look into the future only). */
  timeout: number;
  setReadMarker: boolean;
  lastCommonReadId: number;
}

/** Room facts a chat answer carries (for the response header and notifications). */
export interface ChatRoomFacts {
  lastCommonRead: number;
  roomName: string;
  oneToOne: boolean;
}
