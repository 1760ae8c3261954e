/**
 * Reading the room chat (Talk's receive and mention suggestions): who may read, one page of
 * messages with the parents of replies, and the members a writer could mention. No writes; the
 * long-poll's waiting is the room object's (it holds the chat feed).
 */
import { ROOM_SCOPE } from "../chat-store";
import { type Caller, type ChatPage, type ChatQuery, fail, type MentionCandidates, ok, type Outcome } from "../contract";
import { inLobby, isOneToOne } from "../rules";
import type { AttendeeRow, RoomStore } from "../store";
import type { RoomMeta } from "../types";
import { participantAccess, stripUser, type Tx } from "./actor";

/** A participant allowed to read the chat: not held back by the lobby. */
export function reader(tx: Tx, caller: Caller): Outcome<AttendeeRow> {
  if (!tx.meta) return fail(404, "room");
  const granted = participantAccess(tx, caller, "participant");
  if (!granted.ok) return granted;
  if (inLobby(tx.meta, granted.value.attendee)) return fail(412, "lobby");
  return ok(granted.value.attendee);
}

/**
 * One read of the room chat: the history before `lastKnown` (newest first) or what came after it
 * (oldest first), with the parents of replies. `settled` is false while a poll has nothing to give
 * yet (neither messages nor a changed common read marker).
 */
export function readPage(store: RoomStore, q: ChatQuery, attendee: AttendeeRow): { settled: boolean; page: ChatPage } {
  const messages = q.lookIntoFuture ? store.chat.future(ROOM_SCOPE, q.lastKnown, q.limit, q.includeLastKnown) : store.chat.history(ROOM_SCOPE, q.lastKnown, q.limit, q.includeLastKnown);
  const lastCommonRead = store.lastCommonRead();
  const settled = messages.length > 0 || !q.lookIntoFuture || (q.lastCommonReadId > 0 && q.lastCommonReadId !== lastCommonRead) || !store.meta;
  const wanted = [...new Set(messages.map((m) => m.parentId).filter((id) => id > 0))];
  const self = store.attendeeById(attendee.id) ?? attendee;
  return {
    settled,
    page: { messages, parents: [...store.chat.byIds(wanted).values()], reader: stripUser(self), lastCommonRead, meta: { ...(store.meta ?? ({} as RoomMeta)) } },
  };
}

/** Members a writer could mention, matching `search` in their id or name (unnamed guests are "Guest", as the reference finds them). */
export function mentionCandidates(tx: Tx, caller: Caller, search: string, limit: number): Outcome<MentionCandidates> {
  const writer = reader(tx, caller);
  if (!writer.ok) return writer;
  if (tx.meta.readOnly === 1) return fail(403, "read-only");
  const needle = search.toLowerCase();
  const label = (a: AttendeeRow) => (a.displayName === "" && a.actorType !== "users" ? "Guest" : a.displayName);
  const everyone = tx.store.attendees("actor_type IN ('users', 'guests', 'emails', 'groups')");
  const found = everyone.filter((a) => a.actorId.toLowerCase().includes(needle) || label(a).toLowerCase().includes(needle)).slice(0, limit + 1);
  return ok({
    candidates: found.map(stripUser),
    self: stripUser(writer.value),
    roomName: tx.meta.name,
    oneToOne: isOneToOne(tx.meta.type),
    participants: everyone.filter((a) => a.actorType !== "groups").length,
  });
}
