/**
 * Chat operations, for both dialects: sending (Talk's chat API, OpenTalk's chat module), editing
 * and deleting one's own messages (moderators any, not in one-to-one rooms), clearing the history,
 * read markers, and the system messages every other operation records through `recordSystem`.
 *
 * The rules are Talk's (ChatController's middleware): participants only, held back by the lobby
 * (412), the chat permission (403), not in read-only rooms (403); OpenTalk's chat switch holds back
 * everyone but moderators while it is off.
 */
import { ROOM_SCOPE } from "../chat-store";
import { type Caller, fail, ok, type Outcome } from "../contract";
import { isModeratorType, Permission } from "../permissions";
import { inLobby, isOneToOne, meets, oneToOneUsers, permissionsOf } from "../rules";
import { type AttendeeRow, nowSeconds } from "../store";
import { type ChatActor, type Mention, RoomType, type StoredMessage } from "../types";
import { UNREAD_FIRST_MESSAGE } from "../unread";
import { type Access, access, participantAccess, type Tx } from "./actor";

/** Talk's `config.chat.max-length`. */
export const MAX_MESSAGE_LENGTH = 32_000;
/** Messages older than this cannot be edited (Talk: one day; not in note-to-self rooms). */
export const EDIT_MAX_AGE_SECONDS = 86_400;
/** OpenTalk's chat switch, kept with the chat. */
const CHAT_DISABLED = "disabled";

/** Who the chat records for an attendee: users by id, guests and e-mail guests by their hashed id. */
export function actorOf(a: Pick<AttendeeRow, "actorType" | "actorId" | "displayName">): ChatActor {
  return { type: a.actorType, id: a.actorId, name: a.displayName };
}

/** The actor of an operation: the caller's attendee, or a signed-in caller who is no member (an administrator). */
export function callerActor(caller: Caller, attendee: AttendeeRow | null): ChatActor {
  if (attendee) return actorOf(attendee);
  return { type: "users", id: caller.userid ?? "", name: caller.displayName ?? caller.userid ?? "" };
}

/** The room itself (the lobby timer), as the reference records it. */
export const SYSTEM_ACTOR: ChatActor = { type: "guests", id: "system", name: "" };

/** Records a system message in the room chat (Talk's `systemMessage`). */
export function recordSystem(tx: Tx, actor: ChatActor, subject: string, parameters: StoredMessage["parameters"] = {}, parentId = 0, silent = false): StoredMessage {
  const message = tx.store.chat.insert({
    actor,
    kind: "system",
    message: subject,
    parameters,
    createdAt: nowSeconds(),
    parentId,
    referenceId: "",
    silent,
    scope: ROOM_SCOPE,
    source: null,
    lastEdit: null,
  });
  tx.change.messages.push(message);
  return message;
}

export function chatEnabled(tx: Pick<Tx, "store">): boolean {
  return tx.store.chat.setting(CHAT_DISABLED) !== "1";
}

// -------------------------------------------------------------------------------------------
// Mentions

/** `@name`, `@"name with spaces"`, `@"guest/…"`, `@"group/…"`, `@all` (Talk's mention syntax). */
const MENTION = /(?<![^\s(])@("(?:guest\/[a-f0-9]+|(?:group|user)\/[^"]+|[a-z0-9_\-@.' ]+)"|[a-z0-9_\-@.']+)/gi;

/** The members a text mentions (users, guests, groups; `@all` mentions the conversation). */
export function findMentions(tx: Tx, text: string): Mention[] {
  const found: Mention[] = [];
  const seen = new Set<string>();
  for (const match of text.matchAll(MENTION)) {
    const raw = match[1] as string;
    const bare = raw.startsWith('"') ? raw.slice(1, -1) : raw;
    let mention: Mention | null = null;
    if (bare === "all") {
      mention = { raw, type: "call", id: tx.meta.token, name: tx.meta.name };
    } else if (bare.startsWith("guest/")) {
      const a = tx.store.attendeeByActor("guests", bare.slice(6)) ?? tx.store.attendeeByActor("emails", bare.slice(6));
      if (a) mention = { raw, type: "guest", id: bare, name: a.displayName };
    } else if (bare.startsWith("group/")) {
      const a = tx.store.attendeeByActor("groups", bare.slice(6));
      if (a) mention = { raw, type: "group", id: a.actorId, name: a.displayName };
    } else {
      const id = bare.startsWith("user/") ? bare.slice(5) : bare;
      const a = tx.store.attendeeByActor("users", id);
      if (a) mention = { raw, type: "user", id: a.actorId, name: a.displayName };
    }
    if (mention && !seen.has(`${mention.type}/${mention.id}`)) {
      seen.add(`${mention.type}/${mention.id}`);
      found.push(mention);
    }
  }
  return found;
}

// -------------------------------------------------------------------------------------------
// Sending

export interface SendInput {
  message: string;
  /** A guest's name, set with the message (Talk's `actorDisplayName`). */
  displayName?: string;
  replyTo?: number;
  referenceId?: string;
  silent?: boolean;
  /** OpenTalk's group and private chats; the room chat when absent. */
  scope?: string;
  /** The OpenTalk participant sending it. */
  source?: string | null;
  /** The server's default notification level for group rooms (2: mentions only). */
  defaultGroupNotification?: number;
  /**
   * Admitted to the live meeting (an OpenTalk participant a moderator let in from the waiting
   * room): the lobby, which is that waiting room, does not hold them back.
   */
  admitted?: boolean;
}

/**
 * A chat notification for one user, as the reference's chat notifier decides them: `private` and
 * `message` for plain messages (one-to-one rooms, and members who asked for all messages and are
 * not looking at the room right now), `mention`, `mention_all`, `mention_group` and `reply`.
 */
export type ChatNotice = { userUuid: string; actorId: string; kind: "private" | "message" | "mention" | "mention_all" | "mention_group" | "reply"; group?: string };

export interface Sent {
  message: StoredMessage;
  parent: StoredMessage | null;
  /** Users to notify (none for silent messages). */
  notices: ChatNotice[];
  /**
   * Groups the message mentions, with the members who could hear about it (the dialect layer
   * knows who is in which group): they get `mention_group` unless already noticed.
   */
  mentionedGroups: string[];
  groupCandidates: { userUuid: string; actorId: string }[];
  self: AttendeeRow;
}

/** Who may write in the chat right now: a participant, not held back, with the chat permission. */
function writer(tx: Tx, caller: Caller, admitted: boolean): Outcome<Access & { attendee: AttendeeRow }> {
  const granted = participantAccess(tx, caller, "participant");
  if (!granted.ok) return granted;
  const { attendee } = granted.value;
  if (!admitted && inLobby(tx.meta, attendee)) return fail(412, "lobby");
  if ((permissionsOf(tx.meta, attendee) & Permission.Chat) === 0) return fail(403, "permission");
  if (tx.meta.readOnly === 1) return fail(403, "read-only");
  return granted;
}

/**
 * In a one-to-one room whose partner left: 409 `conflict` with `{refill: [logins]}`, for the
 * dialect layer to add them back (it knows the accounts) and try again; null otherwise.
 */
export function partnerRefill(tx: Tx): Outcome<never> | null {
  const missing = tx.meta.type === RoomType.OneToOne ? oneToOneUsers(tx.meta.name).filter((u) => !tx.store.attendeeByActor("users", u)) : [];
  return missing.length > 0 ? fail(409, "conflict", { refill: missing }) : null;
}

export function sendMessage(tx: Tx, caller: Caller, input: SendInput): Outcome<Sent> {
  const granted = writer(tx, caller, input.admitted ?? false);
  if (!granted.ok) return granted;
  let self = followReadPrivacy(tx, caller, granted.value.attendee);
  if (!chatEnabled(tx) && !meets("moderator", tx.meta, caller, self)) return fail(403, "chat-disabled");
  // A one-to-one partner who left comes back when the other writes (the dialect layer adds them, then sends again).
  const refill = partnerRefill(tx);
  if (refill) return refill;
  if (input.message.trim() === "") return fail(400, "message");
  if ([...input.message].length > MAX_MESSAGE_LENGTH) return fail(413, "message");
  const scope = input.scope ?? ROOM_SCOPE;
  let parent: StoredMessage | null = null;
  if (input.replyTo) {
    parent = tx.store.chat.byId(input.replyTo);
    if (!parent || parent.scope !== scope || parent.kind !== "comment" || !replyable(parent)) return fail(400, "reply-to");
  }
  if (input.displayName && (self.actorType === "guests" || self.actorType === "emails") && input.displayName !== self.displayName) {
    tx.store.updateAttendee(self, { displayName: input.displayName });
    self = { ...self, displayName: input.displayName };
    tx.change.sessions = true;
  }
  const mentions = scope === ROOM_SCOPE ? findMentions(tx, input.message) : [];
  const now = nowSeconds();
  const message = tx.store.chat.insert({
    actor: actorOf(self),
    kind: "comment",
    message: input.message,
    parameters: mentions.length > 0 ? { mentions } : {},
    createdAt: now,
    parentId: parent?.id ?? 0,
    referenceId: input.referenceId ?? "",
    silent: input.silent ?? false,
    scope,
    source: input.source ?? null,
    lastEdit: null,
  });
  tx.change.messages.push(message);
  if (scope !== ROOM_SCOPE) return ok({ message, parent, notices: [], mentionedGroups: [], groupCandidates: [], self });

  tx.meta.lastActivity = now;
  // Writing a message reads everything before it.
  tx.store.setReadMarker(self, message.id);
  markMentioned(tx, mentions, self, message.id);
  const heard = input.silent ? null : notices(tx, { mentions, self, parent, plain: true, defaultGroup: input.defaultGroupNotification ?? 2 });
  return ok({ message, parent, notices: heard?.notices ?? [], mentionedGroups: heard?.groups ?? [], groupCandidates: heard?.candidates ?? [], self });
}

function replyable(m: StoredMessage): boolean {
  return ["users", "guests", "emails", "federated_users", "bots"].includes(m.actor.type);
}

/** Marks mentioned members: their `unreadMention` (and `unreadMentionDirect` when named). */
function markMentioned(tx: Tx, mentions: Mention[], self: AttendeeRow, messageId: number): void {
  const targets = new Map<number, { a: AttendeeRow; direct: boolean }>();
  for (const m of mentions) {
    if (m.type === "call") {
      for (const a of tx.store.attendees("actor_type IN ('users', 'guests', 'emails')")) if (!targets.has(a.id)) targets.set(a.id, { a, direct: false });
    } else {
      const a = mentionedAttendee(tx, m);
      if (a && a.actorType !== "groups") targets.set(a.id, { a, direct: true });
    }
  }
  for (const { a, direct } of targets.values()) if (a.id !== self.id) tx.store.markMentioned(a, messageId, direct);
}

function mentionedAttendee(tx: Tx, m: Mention): AttendeeRow | null {
  if (m.type === "user") return tx.store.attendeeByActor("users", m.id);
  if (m.type === "group") return tx.store.attendeeByActor("groups", m.id);
  if (m.type === "guest") {
    const id = m.id.slice("guest/".length);
    return tx.store.attendeeByActor("guests", id) ?? tx.store.attendeeByActor("emails", id);
  }
  return null;
}

/** Talk's notification levels: 1 all messages, 2 mentions, 3 nothing (0: the default for the room). */
const NOTIFY = { all: 1, mention: 2, never: 3 } as const;

function notices(
  tx: Tx,
  o: { mentions: Mention[]; self: AttendeeRow; parent: StoredMessage | null; plain: boolean; defaultGroup: number },
): { notices: ChatNotice[]; groups: string[]; candidates: { userUuid: string; actorId: string }[] } {
  const oneToOne = isOneToOne(tx.meta.type);
  const named = new Set(o.mentions.filter((m) => m.type === "user").map((m) => m.id));
  const all = o.mentions.some((m) => m.type === "call");
  const out: ChatNotice[] = [];
  const candidates: { userUuid: string; actorId: string }[] = [];
  for (const a of tx.store.attendees("actor_type = 'users' AND user_uuid IS NOT NULL")) {
    if (a.id === o.self.id || inLobby(tx.meta, a)) continue;
    const level = a.notificationLevel !== 0 ? a.notificationLevel : oneToOne ? NOTIFY.all : o.defaultGroup;
    if (level === NOTIFY.never) continue;
    const target = { userUuid: a.userUuid as string, actorId: a.actorId };
    const repliedTo = o.parent?.actor.type === "users" && o.parent.actor.id === a.actorId;
    if (repliedTo) out.push({ ...target, kind: "reply" });
    else if (named.has(a.actorId)) out.push({ ...target, kind: "mention" });
    else if (all) out.push({ ...target, kind: "mention_all" });
    else if (o.plain && level === NOTIFY.all && !lookingAtRoom(tx, a)) out.push({ ...target, kind: oneToOne ? "private" : "message" });
    else candidates.push(target);
  }
  return { notices: out, groups: o.mentions.filter((m) => m.type === "group").map((m) => m.id), candidates };
}

/** A member with an active Talk session in the room sees messages come in: no notification for plain ones. */
function lookingAtRoom(tx: Tx, a: AttendeeRow): boolean {
  return tx.store.sessionsOf(a.id).some((s) => s.state === 1);
}

// -------------------------------------------------------------------------------------------
// Editing, deleting, clearing

export interface Rewritten {
  /** The system message recording the change (its parent is the rewritten message). */
  system: StoredMessage;
  message: StoredMessage;
  /** An edit changed who is mentioned: notifications to add, and users whose notification goes. */
  noticesAdded: ChatNotice[];
  noticesRemoved: string[];
  /** Who made the change. */
  self: AttendeeRow;
}

/** The message a participant may edit or delete: their own, or any as a moderator (not in one-to-one rooms). */
function ownOrModerated(tx: Tx, caller: Caller, messageId: number): Outcome<{ self: AttendeeRow; message: StoredMessage }> {
  const granted = access(tx, caller, "participant");
  if (!granted.ok) return granted;
  const self = granted.value.attendee;
  if (!self) return fail(404, "room");
  // Guests without a name cannot be told apart: editing and deleting need an authenticated participant.
  if (caller.kind === "guest" && self.actorType !== "guests" && self.actorType !== "emails") return fail(404, "room");
  if (inLobby(tx.meta, self)) return fail(412, "lobby");
  if ((permissionsOf(tx.meta, self) & Permission.Chat) === 0) return fail(403, "permission");
  if (tx.meta.readOnly === 1) return fail(403, "read-only");
  const message = tx.store.chat.byId(messageId);
  if (!message || message.scope !== ROOM_SCOPE) return fail(404, "message");
  const own = message.actor.type === self.actorType && message.actor.id === self.actorId;
  if (!own && (!isModeratorType(self.participantType) || isOneToOne(tx.meta.type))) return fail(403, "permission");
  if (message.kind !== "comment") return fail(405, "message");
  return ok({ self, message });
}

export function editMessage(tx: Tx, caller: Caller, messageId: number, text: string, defaultGroup = 2): Outcome<Rewritten> {
  const found = ownOrModerated(tx, caller, messageId);
  if (!found.ok) return found;
  const { self, message } = found.value;
  const now = nowSeconds();
  if (tx.meta.type !== RoomType.NoteToSelf && message.createdAt < now - EDIT_MAX_AGE_SECONDS) return fail(400, "age");
  if (text.trim() === "") return fail(400, "message");
  if ([...text].length > MAX_MESSAGE_LENGTH) return fail(413, "message");
  const mentions = findMentions(tx, text);
  const edited: StoredMessage = {
    ...message,
    message: text,
    parameters: mentions.length > 0 ? { mentions } : {},
    lastEdit: { ...actorOf(self), at: now },
  };
  tx.store.chat.update(edited);
  markMentioned(tx, mentions, self, message.id);
  // Mentions added by the edit are notified, mentions taken out are withdrawn (plain messages are not notified again).
  const author = tx.store.attendeeByActor(message.actor.type, message.actor.id) ?? self;
  const parent = message.parentId > 0 ? tx.store.chat.byId(message.parentId) : null;
  const before = notices(tx, { mentions: (message.parameters.mentions as Mention[] | undefined) ?? [], self: author, parent, plain: false, defaultGroup }).notices;
  const after = message.silent ? [] : notices(tx, { mentions, self: author, parent, plain: false, defaultGroup }).notices;
  // Someone already told keeps the notification they got; only who is told changes.
  const key = (n: ChatNotice) => n.userUuid;
  const had = new Set(before.map(key));
  const has = new Set(after.map(key));
  const system = recordSystem(tx, actorOf(self), "message_edited", { message: message.id }, message.id);
  return ok({
    system,
    message: edited,
    noticesAdded: after.filter((n) => !had.has(key(n))),
    noticesRemoved: before.filter((n) => !has.has(key(n))).map((n) => n.userUuid),
    self,
  });
}

export function deleteMessage(tx: Tx, caller: Caller, messageId: number): Outcome<Rewritten> {
  const found = ownOrModerated(tx, caller, messageId);
  if (!found.ok) return found;
  const { self, message } = found.value;
  const deleted: StoredMessage = { ...message, kind: "comment_deleted", message: "", parameters: { deletedBy: actorOf(self) } };
  tx.store.chat.update(deleted);
  // Unread counts count comments: markers past the deleted one cover one comment less.
  for (const a of tx.store.attendees("last_read_message >= ? AND read_count > 0", message.id)) tx.store.setReadMarker(a, a.lastReadMessage);
  const system = recordSystem(tx, actorOf(self), "message_deleted", { message: message.id }, message.id);
  // Whoever was told about the message is told no more (the dialect layer withdraws by message).
  return ok({ system, message: deleted, noticesAdded: [], noticesRemoved: [], self });
}

/** Clears the room chat (Talk: moderators, not in one-to-one rooms) or an OpenTalk history. */
export function clearHistory(tx: Tx, caller: Caller, o: { source?: string | null } = {}): Outcome<StoredMessage> {
  const granted = access(tx, caller, "moderator");
  if (!granted.ok) return granted;
  if (isOneToOne(tx.meta.type)) return fail(403, "permission");
  const actor = callerActor(caller, granted.value.attendee);
  tx.store.chat.clear(ROOM_SCOPE);
  // Nothing is read any more: every marker goes back to "nothing read yet".
  for (const a of tx.store.attendees(`last_read_message != ${UNREAD_FIRST_MESSAGE}`)) tx.store.setReadMarker(a, UNREAD_FIRST_MESSAGE);
  tx.change.historyCleared = { scope: ROOM_SCOPE, by: actor, source: o.source ?? null };
  return ok(recordSystem(tx, actor, "history_cleared"));
}

/** A member's row takes the read privacy their account has now (it may have changed since they joined). */
function followReadPrivacy(tx: Tx, caller: Caller, a: AttendeeRow): AttendeeRow {
  if (caller.readPrivacy === undefined || caller.readPrivacy === a.readPrivacy || a.actorType !== "users") return a;
  tx.store.setReadPrivacy(a, caller.readPrivacy);
  tx.change.chat = true;
  return { ...a, readPrivacy: caller.readPrivacy };
}

/** A user's read privacy changed (their account setting): every room they are in follows. */
export function setReadPrivacy(tx: Tx, userid: string, privacy: number): Outcome<null> {
  const a = tx.store.attendeeByActor("users", userid);
  if (a && a.readPrivacy !== privacy) {
    tx.store.setReadPrivacy(a, privacy);
    tx.change.chat = true;
  }
  return ok(null);
}

/** OpenTalk's chat switch (moderators): while off, only moderators write. */
export function switchChat(tx: Tx, caller: Caller, enabled: boolean, source: string | null): Outcome<null> {
  const granted = access(tx, caller, "moderator");
  if (!granted.ok) return granted;
  if (chatEnabled(tx) === enabled) return ok(null);
  tx.store.chat.setSetting(CHAT_DISABLED, enabled ? "0" : "1");
  tx.change.chatSwitch = { enabled, by: callerActor(caller, granted.value.attendee), source };
  return ok(null);
}

// -------------------------------------------------------------------------------------------
// Read markers

export { UNREAD_FIRST_MESSAGE };

/** Sets the caller's read marker (the newest message when `messageId` is null). */
export function setReadMarker(tx: Tx, caller: Caller, messageId: number | null): Outcome<Access & { attendee: AttendeeRow }> {
  const granted = participantAccess(tx, caller, "participant");
  if (!granted.ok) return granted;
  let target = messageId ?? tx.store.chat.lastId();
  if (target === 0) target = UNREAD_FIRST_MESSAGE;
  followReadPrivacy(tx, caller, granted.value.attendee);
  tx.store.setReadMarker(granted.value.attendee, target);
  tx.change.chat = true;
  return granted;
}

/** Marks the newest comment unread: the marker moves to the comment before it (or the message before, or none). */
export function markUnread(tx: Tx, caller: Caller): Outcome<Access & { attendee: AttendeeRow }> {
  const recent = tx.store.chat.history(ROOM_SCOPE, 0, 200);
  const comments = recent.filter((m) => m.kind === "comment");
  const newest = comments[0];
  const previous = newest ? (comments[1] ?? recent.find((m) => m.id < newest.id)) : recent[1];
  return setReadMarker(tx, caller, previous ? previous.id : UNREAD_FIRST_MESSAGE);
}

// -------------------------------------------------------------------------------------------
// Calls in the chat

/** Who has been in the running call (users by id, guests by actor id), for `call_ended`. */
const CALL_ACTORS = "call_actors";

interface CallActors {
  users: string[];
  guests: string[];
}

function callActors(tx: Pick<Tx, "store">): CallActors {
  const raw = tx.store.chat.setting(CALL_ACTORS);
  return raw ? (JSON.parse(raw) as CallActors) : { users: [], guests: [] };
}

/** The users who have been in the running call (or the last one). */
export function callUsers(tx: Pick<Tx, "store">): string[] {
  return callActors(tx).users;
}

/** Someone joined the call: `call_started` when they started it, `call_joined` otherwise. */
export function recordCallJoin(tx: Tx, a: AttendeeRow, started: boolean, silent = false): void {
  const actors = started ? { users: [], guests: [] } : callActors(tx);
  const list = a.actorType === "users" ? actors.users : actors.guests;
  if (!list.includes(a.actorId)) {
    list.push(a.actorId);
    tx.store.chat.setSetting(CALL_ACTORS, JSON.stringify(actors));
  }
  // A silent start is a silent message ("… started a silent call").
  recordSystem(tx, actorOf(a), started ? "call_started" : "call_joined", {}, 0, started && silent);
}

/** Someone left a call that goes on. */
export function recordCallLeave(tx: Tx, a: AttendeeRow): void {
  recordSystem(tx, actorOf(a), "call_left");
}

/**
 * The call ended (`startedAt`: when it began): `call_ended_everyone` when a moderator ended it for
 * all, `call_missed` for a one-to-one call nobody answered, `call_ended` otherwise.
 */
export function recordCallEnd(tx: Tx, actor: ChatActor, startedAt: number, everyone: boolean): void {
  const { users, guests } = callActors(tx);
  const parameters = { users, guests: guests.length, duration: startedAt > 0 ? Math.max(0, nowSeconds() - startedAt) : 0 };
  const missed = !everyone && isOneToOne(tx.meta.type) && users.length <= 1 && guests.length === 0;
  recordSystem(tx, actor, everyone ? "call_ended_everyone" : missed ? "call_missed" : "call_ended", parameters);
}
