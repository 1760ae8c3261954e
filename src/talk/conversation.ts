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

export function conversation(ctx: ConversationContext) {
  const { room, member, session } = ctx;
  const oneToOne = room.type === RoomType.OneToOne || room.type === RoomType.FormerOneToOne;
  const name = oneToOne ? (ctx.partner?.userid ?? room.name) : room.name;
  const displayName = oneToOne ? (ctx.partner?.displayName ?? room.name) : room.name;
  const sipEnabled = ctx.sipConfigured ? room.sipEnabled : 0;
  const base = {
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
    unreadMessages: 0,
    unreadMention: false,
    unreadMentionDirect: false,
    lastReadMessage: 0,
    lastCommonReadMessage: 0,
    breakoutRoomMode: 0,
    breakoutRoomStatus: 0,
    mentionPermissions: 0,
    isArchived: false,
    isImportant: false,
    isSensitive: false,
  };

  if (!member) {
    // Skeleton for a non-participant of a public room (listable rooms reveal a little more).
    const listable = room.listable > 0;
    return {
      ...base,
      name: listable ? name : "",
      displayName: listable ? displayName : "",
      description: listable ? room.description : "",
      participantType: ParticipantType.Guest,
      attendeeId: 0,
      attendeePin: "",
      actorType: "",
      actorId: "",
      permissions: Permission.Custom,
      attendeePermissions: 0,
      defaultPermissions: 0,
      participantFlags: session?.inCall ?? 0,
      participantInCall: (session?.inCall ?? 0) !== 0,
      count: listable ? room.activeUsers : 0,
      numGuests: listable ? room.activeGuests : 0,
      readOnly: room.readOnly,
      listable: room.listable,
      lastPing: session?.lastPing ?? 0,
      sessionId: session?.id ?? "0",
      hasCall: listable ? room.callFlag !== 0 : false,
      callFlag: listable ? room.callFlag : 0,
      callStartTime: listable ? room.callStartTime : 0,
      canStartCall: false,
      canDeleteConversation: false,
      canLeaveConversation: false,
      lastActivity: listable ? room.lastActivity : 0,
      isFavorite: false,
      notificationLevel: 0,
      notificationCalls: 0,
      lobbyState: room.lobbyState,
      lobbyTimer: room.lobbyTimer,
      sipEnabled,
      canEnableSIP: false,
      objectType: room.objectType,
      objectId: room.objectId,
    };
  }

  const permissions = effectivePermissions(member.participantType, member.permissions, room.defaultPermissions);
  const inLobby = heldInLobby(room.lobbyState, member.participantType, permissions);
  const hasCall = room.callFlag !== 0 && !inLobby;
  const canStartCall = !inLobby && (permissions & Permission.StartCall) !== 0 && room.readOnly === 0;
  const moderator = isLoggedInModeratorType(member.participantType) && ctx.isUser;
  // The chat, unless the lobby holds the member back (then it is hidden, as the reference does).
  const chat = inLobby ? null : (ctx.chat ?? null);
  const last = chat?.lastMessage && ctx.includeLastMessage !== false ? talkMessage(chat.lastMessage, room.token, member) : null;
  return {
    ...base,
    ...(chat
      ? {
          unreadMessages: chat.unreadMessages,
          unreadMention: chat.unreadMention,
          unreadMentionDirect: chat.unreadMentionDirect,
          lastReadMessage: chat.lastReadMessage,
          lastCommonReadMessage: chat.lastCommonReadMessage,
        }
      : {}),
    // No last message (none yet, the lobby, includeLastMessage=false): the field is left out.
    ...(last ? { lastMessage: last } : {}),
    name,
    displayName,
    description: room.description,
    participantType: member.participantType,
    attendeeId: member.attendeeId,
    attendeePin: sipEnabled !== 0 && member.actorType !== "guests" ? member.pin : "",
    actorType: member.actorType,
    actorId: member.actorId,
    permissions,
    attendeePermissions: member.permissions,
    defaultPermissions: room.defaultPermissions,
    participantFlags: session?.inCall ?? 0,
    participantInCall: (session?.inCall ?? 0) !== 0,
    count: room.activeUsers,
    numGuests: room.activeGuests,
    readOnly: room.readOnly,
    listable: room.listable,
    lastPing: session?.lastPing ?? 0,
    sessionId: session?.id ?? "0",
    hasCall,
    callFlag: room.callFlag,
    callStartTime: room.callStartTime,
    canStartCall,
    canDeleteConversation: moderator && !oneToOne,
    canLeaveConversation: room.type !== RoomType.NoteToSelf,
    lastActivity: room.lastActivity,
    isFavorite: member.favorite,
    notificationLevel: resolvedNotificationLevel(member.notificationLevel, room.type, member.actorType, ctx.defaultGroupNotification),
    notificationCalls: member.notificationCalls,
    lobbyState: room.lobbyState,
    lobbyTimer: room.lobbyTimer,
    sipEnabled,
    canEnableSIP: ctx.sipConfigured && moderator && (room.type === RoomType.Group || room.type === RoomType.Public),
    objectType: room.objectType,
    objectId: room.objectId,
  };
}
