/**
 * The Talk v4 conversation object, computed per caller from the room summary, the caller's
 * attendee row and the caller's current session (reference §4). Pure: no I/O.
 */
import { effectivePermissions, heldInLobby, isLoggedInModeratorType, Permission } from "../room/permissions";
import { type ChatFacts, ParticipantType, RoomType } from "../room/types";
import { talkMessage } from "./chat-format";

export interface RoomFacts {
  serial: number;
  token: string;
  type: number;
  name: string;
  description: string;
  hasPassword: boolean;
  readOnly: number;
  listable: number;
  lobbyState: number;
  lobbyTimer: number;
  sipEnabled: number;
  defaultPermissions: number;
  callFlag: number;
  callStartTime: number;
  lastActivity: number;
  objectType: string;
  objectId: string;
  activeUsers: number;
  activeGuests: number;
}

export interface MemberFacts {
  attendeeId: number;
  actorType: string;
  actorId: string;
  participantType: number;
  permissions: number;
  favorite: boolean;
  notificationLevel: number;
  notificationCalls: number;
  pin: string;
}

export interface SessionFacts {
  id: string;
  inCall: number;
  lastPing: number;
}

export interface ConversationContext {
  room: RoomFacts;
  member: MemberFacts | null;
  session: SessionFacts | null;
  /** For one-to-one rooms: the other user's id and display name. */
  partner?: { userid: string; displayName: string } | null;
  /** A logged-in user (not a guest) is asking. */
  isUser: boolean;
  sipConfigured: boolean;
  defaultGroupNotification: number;
  /** The server's recording-consent requirement (0/1). */
  recordingConsent?: number;
  /** `includeLastMessage=false` leaves `lastMessage` out. */
  includeLastMessage?: boolean;
  /** The chat as the member sees it (absent for non-members). */
  chat?: ChatFacts | null;
}

export function resolvedNotificationLevel(level: number, roomType: number, actorType: string, groupDefault: number): number {
  if (level !== 0) return level;
  if (roomType === RoomType.OneToOne || roomType === RoomType.FormerOneToOne) return 1;
  if (actorType === "guests" || actorType === "emails") return 3;
  return groupDefault;
}

/**
 * One object literal for members and non-members alike: a conversation list builds hundreds of
 * these, and a literal of fixed shape is built and serialised many times faster than one grown
 * from spreads (in Node 20, 200 of them: built in 0.07 ms instead of 33 ms, serialised in 1.1 ms
 * instead of 1.9 ms).
 */
export function conversation(ctx: ConversationContext) {
  const { room, member, session } = ctx;
  const oneToOne = room.type === RoomType.OneToOne || room.type === RoomType.FormerOneToOne;
  const name = oneToOne ? (ctx.partner?.userid ?? room.name) : room.name;
  const displayName = oneToOne ? (ctx.partner?.displayName ?? room.name) : room.name;
  const sipEnabled = ctx.sipConfigured ? room.sipEnabled : 0;
  // A non-participant of a public room sees a skeleton; listable rooms reveal a little more.
  const shown = member !== null || room.listable > 0;
  const permissions = member ? effectivePermissions(member.participantType, member.permissions, room.defaultPermissions) : Permission.Custom;
  const inLobby = member ? heldInLobby(room.lobbyState, member.participantType, permissions) : false;
  const moderator = member !== null && isLoggedInModeratorType(member.participantType) && ctx.isUser;
  // The chat, unless the lobby holds the member back (then it is hidden, as the reference does).
  const chat = member && !inLobby ? (ctx.chat ?? null) : null;
  const last = member && chat?.lastMessage && ctx.includeLastMessage !== false ? talkMessage(chat.lastMessage, room.token, member) : null;
  const inCall = session?.inCall ?? 0;
  const object = {
    id: room.serial,
    token: room.token,
    type: room.type,
    hasPassword: room.hasPassword,
    avatarVersion: "",
    isCustomAvatar: false,
    // Features EdgeTalk does not have (recording, breakout rooms, message expiry, per-user
    // archive flags) report their neutral values for everyone.
    callPermissions: 0,
    messageExpiration: 0,
    callRecording: 0,
    recordingConsent: ctx.recordingConsent ?? 0,
    unreadMessages: chat?.unreadMessages ?? 0,
    unreadMention: chat?.unreadMention ?? false,
    unreadMentionDirect: chat?.unreadMentionDirect ?? false,
    lastReadMessage: chat?.lastReadMessage ?? 0,
    lastCommonReadMessage: chat?.lastCommonReadMessage ?? 0,
    breakoutRoomMode: 0,
    breakoutRoomStatus: 0,
    mentionPermissions: 0,
    isArchived: false,
    isImportant: false,
    isSensitive: false,
    name: shown ? name : "",
    displayName: shown ? displayName : "",
    description: shown ? room.description : "",
    participantType: member ? member.participantType : ParticipantType.Guest,
    attendeeId: member ? member.attendeeId : 0,
    attendeePin: member && sipEnabled !== 0 && member.actorType !== "guests" ? member.pin : "",
    actorType: member ? member.actorType : "",
    actorId: member ? member.actorId : "",
    permissions,
    attendeePermissions: member ? member.permissions : 0,
    defaultPermissions: member ? room.defaultPermissions : 0,
    participantFlags: inCall,
    participantInCall: inCall !== 0,
    count: shown ? room.activeUsers : 0,
    numGuests: shown ? room.activeGuests : 0,
    readOnly: room.readOnly,
    listable: room.listable,
    lastPing: session?.lastPing ?? 0,
    sessionId: session?.id ?? "0",
    hasCall: shown && room.callFlag !== 0 && !inLobby,
    callFlag: shown ? room.callFlag : 0,
    callStartTime: shown ? room.callStartTime : 0,
    canStartCall: member !== null && !inLobby && (permissions & Permission.StartCall) !== 0 && room.readOnly === 0,
    canDeleteConversation: moderator && !oneToOne,
    canLeaveConversation: member !== null && room.type !== RoomType.NoteToSelf,
    lastActivity: shown ? room.lastActivity : 0,
    isFavorite: member ? member.favorite : false,
    notificationLevel: member ? resolvedNotificationLevel(member.notificationLevel, room.type, member.actorType, ctx.defaultGroupNotification) : 0,
    notificationCalls: member ? member.notificationCalls : 0,
    lobbyState: room.lobbyState,
    lobbyTimer: room.lobbyTimer,
    sipEnabled,
    canEnableSIP: ctx.sipConfigured && moderator && (room.type === RoomType.Group || room.type === RoomType.Public),
    objectType: room.objectType,
    objectId: room.objectId,
  };
  // No last message (none yet, the lobby, includeLastMessage=false): the field is left out.
  return last ? Object.assign(object, { lastMessage: last }) : (object as typeof object & { lastMessage?: ReturnType<typeof talkMessage> });
}
