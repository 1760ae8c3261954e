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
import { inLobby, isOneToOne, meets, permissionsOf } from "../rules";
import { type AttendeeRow, nowSeconds } from "../store";
import { type ChatActor, type Mention, RoomType, type StoredMessage } from "../types";
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
export function recordSystem(tx: Tx, actor: ChatActor, subject: string, parameters: StoredMessage["parameters"] = {}, parentId = 0): StoredMessage {
  const message = tx.store.chat.insert({
    actor,
    kind: "system",
    message: subject,
    parameters,
    createdAt: nowSeconds(),
    parentId,
    referenceId: "",
    silent: false,
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
}

export interface Sent {
  message: StoredMessage;
  parent: StoredMessage | null;
  /** Users to notify: mentioned by name (or through @all) and not the sender. */
  mentioned: { actorId: string; userUuid: string; direct: boolean }[];
  self: AttendeeRow;
}

/** Who may write in the chat right now: a participant, not held back, with the chat permission. */
function writer(tx: Tx, caller: Caller): Outcome<Access & { attendee: AttendeeRow }> {
  const granted = participantAccess(tx, caller, "participant");
  if (!granted.ok) return granted;
  const { attendee } = granted.value;
  if (inLobby(tx.meta, attendee)) return fail(412, "lobby");
  if ((permissionsOf(tx.meta, attendee) & Permission.Chat) === 0) return fail(403, "permission");
  if (tx.meta.readOnly === 1) return fail(403, "read-only");
  return granted;
}

export function sendMessage(tx: Tx, caller: Caller, input: SendInput): Outcome<Sent> {
  const granted = writer(tx, caller);
  if (!granted.ok) return granted;
  let self = granted.value.attendee;
  if (!chatEnabled(tx) && !meets("moderator", tx.meta, caller, self)) return fail(403, "chat-disabled");
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
  if (scope !== ROOM_SCOPE) return ok({ message, parent, mentioned: [], self });

  tx.meta.lastActivity = now;
  // Writing a message reads everything before it.
  tx.store.setReadMarker(self, message.id);
  const mentioned = mentionedMembers(tx, mentions, self, message.id);
  return ok({ message, parent, mentioned, self });
}

function replyable(m: StoredMessage): boolean {
  return ["users", "guests", "emails", "federated_users", "bots"].includes(m.actor.type);
}

/** Marks mentioned members (their `unreadMention`) and returns the users to notify. */
function mentionedMembers(tx: Tx, mentions: Mention[], self: AttendeeRow, messageId: number): Sent["mentioned"] {
  const targets = new Map<number, { a: AttendeeRow; direct: boolean }>();
  for (const m of mentions) {
    if (m.type === "call") {
      for (const a of tx.store.attendees("actor_type IN ('users', 'guests', 'emails')")) if (!targets.has(a.id)) targets.set(a.id, { a, direct: false });
    } else if (m.type === "user") {
      const a = tx.store.attendeeByActor("users", m.id);
      if (a) targets.set(a.id, { a, direct: true });
    } else if (m.type === "guest") {
      const id = m.id.slice("guest/".length);
      const a = tx.store.attendeeByActor("guests", id) ?? tx.store.attendeeByActor("emails", id);
      if (a) targets.set(a.id, { a, direct: true });
    } else if (m.type === "group") {
      // Members of the group are attendees of their own; the group attendee names no one here.
    }
  }
  const notify: Sent["mentioned"] = [];
  for (const { a, direct } of targets.values()) {
    if (a.id === self.id) continue;
    tx.store.markMentioned(a, messageId, direct);
    if (a.actorType === "users" && a.userUuid && !inLobby(tx.meta, a)) notify.push({ actorId: a.actorId, userUuid: a.userUuid, direct });
  }
  return notify;
}

// -------------------------------------------------------------------------------------------
// Editing, deleting, clearing

export interface Rewritten {
  /** The system message recording the change (its parent is the rewritten message). */
  system: StoredMessage;
  message: StoredMessage;
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

export function editMessage(tx: Tx, caller: Caller, messageId: number, text: string): Outcome<Rewritten> {
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
  const system = recordSystem(tx, actorOf(self), "message_edited", { message: message.id }, message.id);
  return ok({ system, message: edited });
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
  return ok({ system, message: deleted });
}

/** Clears the room chat (Talk: moderators, not in one-to-one rooms) or an OpenTalk history. */
export function clearHistory(tx: Tx, caller: Caller, o: { source?: string | null } = {}): Outcome<StoredMessage> {
  const granted = access(tx, caller, "moderator");
  if (!granted.ok) return granted;
  if (isOneToOne(tx.meta.type)) return fail(403, "permission");
  const actor = callerActor(caller, granted.value.attendee);
  tx.store.chat.clear(ROOM_SCOPE);
  for (const a of tx.store.attendees("read_count > 0 OR last_read_message > 0")) tx.store.setReadMarker(a, 0);
  tx.change.historyCleared = { scope: ROOM_SCOPE, by: actor, source: o.source ?? null };
  return ok(recordSystem(tx, actor, "history_cleared"));
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

/** Talk's UNREAD_FIRST_MESSAGE: "nothing read yet". */
export const UNREAD_FIRST_MESSAGE = -2;

/** Sets the caller's read marker (the newest message when `messageId` is null). */
export function setReadMarker(tx: Tx, caller: Caller, messageId: number | null): Outcome<Access & { attendee: AttendeeRow }> {
  const granted = participantAccess(tx, caller, "participant");
  if (!granted.ok) return granted;
  let target = messageId ?? tx.store.chat.lastId();
  if (target === 0) target = UNREAD_FIRST_MESSAGE;
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

function callActors(tx: Tx): CallActors {
  const raw = tx.store.chat.setting(CALL_ACTORS);
  return raw ? (JSON.parse(raw) as CallActors) : { users: [], guests: [] };
}

/** Someone joined the call: `call_started` when they started it, `call_joined` otherwise. */
export function recordCallJoin(tx: Tx, a: AttendeeRow, started: boolean): void {
  const actors = started ? { users: [], guests: [] } : callActors(tx);
  const list = a.actorType === "users" ? actors.users : actors.guests;
  if (!list.includes(a.actorId)) {
    list.push(a.actorId);
    tx.store.chat.setSetting(CALL_ACTORS, JSON.stringify(actors));
  }
  recordSystem(tx, actorOf(a), started ? "call_started" : "call_joined");
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
