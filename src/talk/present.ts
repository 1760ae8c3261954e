/** Builds Talk conversation objects from room DO views and from the D1 room index. */
import { inArray } from "drizzle-orm";
import { inChunks } from "../db/chunks";
import { database } from "../db/client";
import type { ListedMember, ListedRoom } from "../db/rooms";
import { users } from "../db/schema";
import { config } from "../lib/config";
import type { CallerView } from "../room/contract";
import { oneToOneUsers } from "../room/rules";

export { oneToOneUsers };
import { unreadCount } from "../room/unread";
import { type ChatFacts, RoomType, type RoomMeta, type StoredMessage } from "../room/types";
import { conversation, type MemberFacts, type RoomFacts } from "./conversation";

function isOneToOne(type: number) {
  return type === RoomType.OneToOne || type === RoomType.FormerOneToOne;
}

function factsFromMeta(meta: RoomMeta, serial: number): RoomFacts {
  return { ...meta, serial, hasPassword: meta.passwordHash !== null };
}

async function partners(env: Env, viewer: string | undefined, rooms: { type: number; name: string }[]) {
  const ids = new Set<string>();
  for (const r of rooms) if (isOneToOne(r.type)) for (const u of oneToOneUsers(r.name)) if (u !== viewer) ids.add(u);
  if (ids.size === 0) return new Map<string, string>();
  const db = database(env);
  const rows = await inChunks([...ids], (chunk) => db.select({ userid: users.userid, displayName: users.displayName }).from(users).where(inArray(users.userid, chunk)));
  return new Map(rows.map((r) => [r.userid, r.displayName]));
}

function partnerOf(type: number, name: string, viewer: string | undefined, names: Map<string, string>) {
  if (!isOneToOne(type)) return null;
  const other = oneToOneUsers(name).find((u) => u !== viewer);
  return other ? { userid: other, displayName: names.get(other) ?? other } : null;
}

export interface PresentOptions {
  /** `includeLastMessage=false` leaves `lastMessage` out. */
  includeLastMessage?: boolean;
}

/** The conversation object for one caller from a live DO view. */
export async function presentView(env: Env, view: CallerView, serial: number, viewerUserid?: string, options: PresentOptions = {}) {
  const cfg = config(env);
  const names = await partners(env, viewerUserid, [view.meta]);
  const a = view.attendee;
  const member: MemberFacts | null = a
    ? {
        attendeeId: a.id,
        actorType: a.actorType,
        actorId: a.actorId,
        participantType: a.participantType,
        permissions: a.permissions,
        favorite: a.favorite,
        notificationLevel: a.notificationLevel,
        notificationCalls: a.notificationCalls,
        pin: a.pin,
      }
    : null;
  return conversation({
    room: factsFromMeta(view.meta, serial),
    member,
    session: view.session ? { id: view.session.id, inCall: view.session.inCall, lastPing: view.session.lastPing } : null,
    partner: partnerOf(view.meta.type, view.meta.name, viewerUserid, names),
    isUser: viewerUserid !== undefined,
    sipConfigured: Boolean(cfg.sipBridgeSecret && cfg.sipDialinInfo),
    defaultGroupNotification: cfg.defaultGroupNotification,
    recordingConsent: cfg.recordingConsent,
    includeLastMessage: options.includeLastMessage,
    chat: view.chat ?? null,
  });
}

/** The chat facts of one member from the D1 index (the room DO keeps them there). */
function chatFromIndex(room: ListedRoom, member: ListedMember): ChatFacts {
  return {
    lastMessage: room.lastMessage ? (JSON.parse(room.lastMessage) as StoredMessage) : null,
    unreadMessages: unreadCount(member, room.commentCount, () => room.messageCount),
    unreadMention: member.lastMentionMessage > member.lastReadMessage,
    unreadMentionDirect: member.lastMentionDirect > member.lastReadMessage,
    lastReadMessage: member.lastReadMessage,
    lastCommonReadMessage: room.lastCommonRead,
  };
}

/** Conversation objects for a user's room list, straight from the D1 index (no DO fan-out). */
export async function presentIndex(env: Env, viewer: { userid: string }, rows: { room: ListedRoom; member: ListedMember }[], options: PresentOptions = {}) {
  const cfg = config(env);
  const names = await partners(env, viewer.userid, rows.map((r) => r.room));
  const sipConfigured = Boolean(cfg.sipBridgeSecret && cfg.sipDialinInfo);
  return rows.map(({ room, member }) =>
    conversation({
      room,
      member: {
        attendeeId: member.attendeeId,
        actorType: "users",
        actorId: viewer.userid,
        participantType: member.participantType,
        permissions: member.permissions,
        favorite: member.favorite,
        notificationLevel: member.notificationLevel,
        notificationCalls: member.notificationCalls,
        pin: member.pin,
      },
      session: null,
      partner: partnerOf(room.type, room.name, viewer.userid, names),
      isUser: true,
      sipConfigured,
      defaultGroupNotification: cfg.defaultGroupNotification,
      recordingConsent: cfg.recordingConsent,
      includeLastMessage: options.includeLastMessage,
      chat: chatFromIndex(room, member),
    }),
  );
}
