/** Dialect-neutral room model. Talk and OpenTalk translate to and from these shapes. */

/** Conversation types (Talk numbering; OpenTalk rooms are public: guests join by invite code). */
export const RoomType = { OneToOne: 1, Group: 2, Public: 3, Changelog: 4, FormerOneToOne: 5, NoteToSelf: 6 } as const;

/** Participant types (Talk numbering). OpenTalk role = moderator for 1/2/6, user for 3/5, guest for 4. */
export const ParticipantType = { Owner: 1, Moderator: 2, User: 3, Guest: 4, UserSelfJoined: 5, GuestModerator: 6 } as const;

export type RoomOrigin = "talk" | "opentalk";

export type ActorType = "users" | "groups" | "guests" | "emails" | "circles" | "phones";

export interface RoomMeta {
  id: string;
  token: string;
  type: number;
  name: string;
  description: string;
  createdBy: string | null;
  createdAt: number;
  passwordHash: string | null;
  /** Sealed copy of the password, shown to OpenTalk room owners (the reference returns it). */
  passwordSealed: string | null;
  readOnly: number;
  listable: number;
  /** Talk lobby state = OpenTalk waiting room (one flag, two names). */
  lobbyState: number;
  lobbyTimer: number;
  sipEnabled: number;
  defaultPermissions: number;
  callStartTime: number;
  callFlag: number;
  lastActivity: number;
  objectType: string;
  objectId: string;
  /**
   * Where the room was made. OpenTalk rooms (and event rooms) are governed by their owner: only
   * the owner and administrators configure them, in both dialects (README, "One rulebook").
   */
  origin: RoomOrigin;
  version: number;
  /** Users and guests with a live session (published to the D1 summary at most every few seconds). */
  activeUsers: number;
  activeGuests: number;
}

export interface Attendee {
  id: number;
  actorType: ActorType;
  actorId: string;
  displayName: string;
  participantType: number;
  permissions: number;
  favorite: boolean;
  notificationLevel: number;
  notificationCalls: number;
  pin: string;
  /** Email invitees: the address they were invited with (their actor id is a hash of it). */
  invitedEmail: string;
  createdAt: number;
  /** Chat: the last message this member has read (-1: none), how many comments that covers, mentions. */
  lastReadMessage: number;
  readCount: number;
  lastMentionMessage: number;
  lastMentionDirect: number;
  /** 1: this member keeps how far they have read to themselves (Talk's read privacy). */
  readPrivacy: number;
}

/** What the participant list shows of an attendee (the chat and preference columns stay home). */
export type ListedAttendee = Pick<Attendee, "id" | "actorType" | "actorId" | "displayName" | "participantType" | "permissions" | "pin" | "invitedEmail">;

export interface Session {
  id: string;
  attendeeId: number;
  /** Hash of the caller's cookie session: the "PHP session" this Talk session belongs to. */
  cookie: string;
  inCall: number;
  lastPing: number;
  state: number;
  createdAt: number;
}

export interface RoomInit {
  id: string;
  token: string;
  type: number;
  name: string;
  description?: string;
  createdBy: string | null;
  owner?: { actorType: ActorType; actorId: string; displayName: string; userUuid?: string };
  passwordHash?: string | null;
  passwordSealed?: string | null;
  lobbyState?: number;
  origin?: RoomOrigin;
  /** The room belongs to an OpenTalk event: it removes itself when no event claims it (a crash between the two writes). */
  eventRoom?: boolean;
  /** Further members added at creation (invited users, groups and their members). */
  members?: NewMember[];
}

/** An attendee to add: a user (with their D1 uuid), a group, a guest… */
export interface NewMember {
  actorType: ActorType;
  actorId: string;
  displayName: string;
  participantType: number;
  userUuid?: string;
  invitedEmail?: string;
}

export interface RoomSnapshot {
  meta: RoomMeta;
  attendees: Attendee[];
  sessions: Session[];
}

/** How a chat message came to be: written by someone, recorded by the room, or deleted since. */
export type MessageKind = "comment" | "system" | "comment_deleted";

/** An actor as the chat records them (their name as it was when they acted). */
export type ChatActor = {
  type: string;
  id: string;
  name: string;
};

/** One mention in a comment: `raw` is what follows the "@" in the text. */
export type Mention = {
  raw: string;
  type: "user" | "guest" | "group" | "call";
  id: string;
  name: string;
};

/** What a message's parameters may hold (stored as JSON; plain data so they cross RPC). */
export type ParameterValue = string | number | boolean | ChatActor | Mention[] | string[];

/**
 * One message of the room's chat, dialect-neutral. Talk's chat API and OpenTalk's chat module
 * present it; Talk ids are `id`, OpenTalk ids are derived from it.
 *
 * - comment: `message` is the text as written, `parameters.mentions` who it mentions;
 * - system: `message` is the subject (Talk's `systemMessage`, e.g. `user_added`), `parameters`
 *   what the subject needs (`user`, `group`, `oldName`…, each actor as a ChatActor);
 * - comment_deleted: `parameters.deletedBy` is who deleted it.
 */
export interface StoredMessage {
  id: number;
  actor: ChatActor;
  kind: MessageKind;
  message: string;
  parameters: { [key: string]: ParameterValue };
  createdAt: number;
  parentId: number;
  referenceId: string;
  silent: boolean;
  /** "" for the room's chat; OpenTalk's group and private chats: `group:<name>`, `private:<a>:<b>`. */
  scope: string;
  /** The OpenTalk participant who sent it, when sent from the meeting. */
  source: string | null;
  lastEdit: (ChatActor & { at: number }) | null;
}

/** What a conversation object says about the chat, for one member. */
export interface ChatFacts {
  lastMessage: StoredMessage | null;
  unreadMessages: number;
  unreadMention: boolean;
  unreadMentionDirect: boolean;
  lastReadMessage: number;
  lastCommonReadMessage: number;
}
