/**
 * OpenTalk's chat module in the meeting, on the room's one message store: the meeting's global
 * chat is the Talk conversation's chat (a message sent in either appears in both), private chats
 * between two participants are the meeting's own. Commands: send_message, enable_chat,
 * disable_chat, clear_history, set_last_seen_timestamp, get_history_chunk, search_history; events:
 * message_sent, chat_enabled, chat_disabled, history_cleared, the history chunks, search_results
 * and error (shapes of the upstream `opentalk-types-signaling-chat`).
 */
import { z } from "zod";
import { ROOM_SCOPE } from "../../room/chat-store";
import type { Caller, Outcome } from "../../room/contract";
import * as chat from "../../room/ops/chat";
import type { RoomChange } from "../../room/presence";
import type { StoredMessage } from "../../room/types";
import { frame } from "./frames";
import { type Meeting, type Participant, type SignalingHost, writeMeeting } from "./meeting";

/** Messages per history chunk (upstream CHAT_CHUNK_SIZE). */
export const CHAT_CHUNK_SIZE = 100;

const Scoped = z.discriminatedUnion("scope", [
  z.object({ scope: z.literal("global") }),
  z.object({ scope: z.literal("group"), target: z.string().min(1).max(255) }),
  z.object({ scope: z.literal("private"), target: z.uuid() }),
]);
type Scoped = z.infer<typeof Scoped>;

const Index = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const ChatCommand = z.union([
  z.object({ action: z.literal("enable_chat") }),
  z.object({ action: z.literal("disable_chat") }),
  z.object({ action: z.literal("clear_history") }),
  z.intersection(z.object({ action: z.literal("send_message"), content: z.string().max(chat.MAX_MESSAGE_LENGTH) }), Scoped),
  z.intersection(z.object({ action: z.literal("set_last_seen_timestamp"), timestamp: z.iso.datetime({ offset: true }) }), Scoped),
  z.intersection(z.object({ action: z.literal("get_history_chunk"), message_index: Index }), Scoped),
  z.intersection(z.object({ action: z.literal("search_history"), term: z.string().min(1).max(1024), message_index: Index.nullable().optional() }), Scoped),
]);
export type ChatCommand = z.infer<typeof ChatCommand>;

/** OpenTalk message ids are UUIDs: the room's message id in the last twelve digits. */
export function messageUuid(id: number): string {
  return `00000000-0000-4000-8000-${id.toString(16).padStart(12, "0")}`;
}

/**
 * A stable participant id for someone who wrote from Talk (no meeting participant): derived from
 * their actor, so their messages keep one author across histories.
 */
export function talkAuthorId(actorType: string, actorId: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  const hex: string[] = [];
  const text = `${actorType}/${actorId}`;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < text.length; i++) {
      a = Math.imul(a ^ text.charCodeAt(i), 0x01000193) >>> 0;
      b = Math.imul(b ^ (text.charCodeAt(i) + round), 0x5bd1e995) >>> 0;
    }
    hex.push(((a ^ b) >>> 0).toString(16).padStart(8, "0"));
  }
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The scope of a private chat between two participants (the same whoever writes). */
const privateScope = (a: string, b: string) => `private:${[a, b].sort().join(":")}`;

function wireScope(m: StoredMessage, reader: string): { scope: string; target?: string } {
  if (m.scope === ROOM_SCOPE) return { scope: "global" };
  const [, a, b] = m.scope.split(":");
  return { scope: "private", target: a === reader ? (b as string) : (a as string) };
}

export class MeetingChat {
  constructor(
    private readonly host: SignalingHost,
    private readonly meeting: Meeting,
  ) {}

  private get sql(): SqlStorage {
    return this.host.ctx.storage.sql;
  }

  /** Who wrote a message, as OpenTalk names participants. */
  private sourceOf(m: StoredMessage): string {
    return m.source ?? talkAuthorId(m.actor.type, m.actor.id);
  }

  private stored(m: StoredMessage, reader: string) {
    return { id: messageUuid(m.id), source: this.sourceOf(m), timestamp: new Date(m.createdAt * 1000).toISOString(), content: m.message, ...wireScope(m, reader) };
  }

  /** A chunk of a scope's history: oldest first, `message_index` counts back from the newest. */
  private chunk(scope: string, index: number, reader: string) {
    const total = this.host.store.chat.countInScope(scope);
    const rows = this.sql
      .exec("SELECT id FROM messages WHERE scope = ? AND kind = 'comment' ORDER BY id DESC LIMIT ? OFFSET ?", scope, CHAT_CHUNK_SIZE, index)
      .toArray()
      .map((r) => r.id as number);
    const byId = this.host.store.chat.byIds(rows);
    const messages = rows
      .map((id) => byId.get(id))
      .filter((m): m is StoredMessage => m !== undefined)
      .reverse()
      .map((m) => this.stored(m, reader));
    const next = index + CHAT_CHUNK_SIZE;
    return { messages, next_index: next < total ? next : null };
  }

  /** The `chat` object of join_success. */
  state(me: Participant) {
    const privates = this.host.store.chat.scopes("private:").filter((s) => s.split(":").includes(me.id));
    const seen = this.lastSeen(me);
    return {
      enabled: chat.chatEnabled(this.host),
      room_history: this.chunk(ROOM_SCOPE, 0, me.id),
      groups_history: [],
      private_history: privates.map((s) => {
        const [, a, b] = s.split(":");
        return { correspondent: a === me.id ? b : a, history: this.chunk(s, 0, me.id) };
      }),
      last_seen_timestamp_global: seen.global,
      last_seen_timestamps_private: seen.private,
      last_seen_timestamps_group: {},
    };
  }

  /** The global one is the member's Talk read marker; private ones are kept for the meeting. */
  private lastSeen(me: Participant): { global: string | null; private: Record<string, string> } {
    const attendee = me.userUuid ? this.host.store.attendeeByUser(me.userUuid) : null;
    const read = attendee && attendee.lastReadMessage > 0 ? this.host.store.chat.byId(attendee.lastReadMessage) : null;
    const priv: Record<string, string> = {};
    for (const row of this.sql.exec("SELECT key, value FROM ot_settings WHERE key LIKE ?", `seen:${me.id}:%`).toArray()) {
      priv[(row.key as string).slice(`seen:${me.id}:`.length)] = row.value as string;
    }
    return { global: read ? new Date(read.createdAt * 1000).toISOString() : null, private: priv };
  }

  async command(ws: WebSocket, self: Participant, caller: Caller, command: ChatCommand): Promise<void> {
    const moderator = self.role === "moderator";
    switch (command.action) {
      case "enable_chat":
      case "disable_chat": {
        if (!moderator) return this.error(ws, "insufficient_permissions");
        await this.host.apply((tx) => chat.switchChat(tx, caller, command.action === "enable_chat", self.id));
        return;
      }
      case "clear_history": {
        if (!moderator) return this.error(ws, "insufficient_permissions");
        const done = await this.host.apply((tx) => chat.clearHistory(tx, caller, { source: self.id }));
        if (!done.ok) this.error(ws, "insufficient_permissions");
        return;
      }
      case "send_message": {
        const scope = this.scopeOf(self, command);
        if (scope === null) return this.error(ws, "insufficient_permissions");
        const sent: Outcome<unknown> = await this.host.apply((tx) => chat.sendMessage(tx, caller, { message: command.content, scope, source: self.id, admitted: true }));
        if (!sent.ok) this.error(ws, sent.reason === "chat-disabled" ? "chat_disabled" : "insufficient_permissions");
        return;
      }
      case "set_last_seen_timestamp": {
        const scope = this.scopeOf(self, command);
        if (scope === null) return;
        if (scope === ROOM_SCOPE) {
          // The newest message written by then is what the member has read, in Talk too.
          const at = Math.floor(Date.parse(command.timestamp) / 1000);
          const row = this.sql.exec("SELECT max(id) AS id FROM messages WHERE scope = '' AND created_at <= ?", at).one();
          if (typeof row.id === "number") await this.host.apply((tx) => chat.setReadMarker(tx, caller, row.id as number));
        } else {
          writeMeeting(this.sql, "INSERT OR REPLACE INTO ot_settings (key, value) VALUES (?, ?)", `seen:${self.id}:${(command as { target: string }).target}`, command.timestamp);
        }
        return;
      }
      case "get_history_chunk": {
        const scope = this.scopeOf(self, command);
        if (scope === null) return this.error(ws, "insufficient_permissions");
        const history = this.chunk(scope, command.message_index, self.id);
        if (scope === ROOM_SCOPE) ws.send(frame("chat", { message: "room_chat_history_chunk", history }));
        else ws.send(frame("chat", { message: "private_chat_history_chunk", correspondent: (command as { target: string }).target, history }));
        return;
      }
      case "search_history": {
        const scope = this.scopeOf(self, command);
        if (scope === null) return this.error(ws, "insufficient_permissions");
        const index = command.message_index ?? 0;
        const found = this.host.store.chat.search(scope, command.term, index, CHAT_CHUNK_SIZE + 1);
        const page = found.slice(0, CHAT_CHUNK_SIZE).reverse().map((m) => this.stored(m, self.id));
        const { action: _a, term: _t, message_index: _i, ...wire } = command;
        ws.send(frame("chat", { message: "search_results", matches: { messages: page, next_index: found.length > CHAT_CHUNK_SIZE ? index + CHAT_CHUNK_SIZE : null }, ...wire }));
        return;
      }
    }
  }

  /** The room scope of a command: the global chat, or a private chat with a participant present. */
  private scopeOf(self: Participant, scoped: Scoped): string | null {
    if (scoped.scope === "global") return ROOM_SCOPE;
    if (scoped.scope === "group") return null;
    const other = this.meeting.participant(scoped.target);
    if (!other || other.id === self.id) return null;
    return privateScope(self.id, other.id);
  }

  private error(ws: WebSocket, error: "chat_disabled" | "insufficient_permissions"): void {
    ws.send(frame("chat", { message: "error", error }));
  }

  /** What the meeting hears of chat changes, whichever dialect made them. */
  changed(change: RoomChange): void {
    for (const m of change.messages) {
      if (m.kind !== "comment") continue;
      if (m.scope === ROOM_SCOPE) {
        // The same frame for everyone in the room chat: built once.
        this.meeting.broadcast("chat", { message: "message_sent", ...this.sent(m, "") }, ["joined"]);
      } else if (m.scope.startsWith("private:")) {
        for (const id of m.scope.split(":").slice(1)) this.meeting.send(id, "chat", { message: "message_sent", ...this.sent(m, id) });
      }
    }
    if (change.chatSwitch) {
      const issuedBy = change.chatSwitch.source ?? talkAuthorId(change.chatSwitch.by.type, change.chatSwitch.by.id);
      this.meeting.broadcast("chat", { message: change.chatSwitch.enabled ? "chat_enabled" : "chat_disabled", issued_by: issuedBy }, ["joined"]);
    }
    if (change.historyCleared) {
      const issuedBy = change.historyCleared.source ?? talkAuthorId(change.historyCleared.by.type, change.historyCleared.by.id);
      this.meeting.broadcast("chat", { message: "history_cleared", issued_by: issuedBy }, ["joined"]);
    }
  }

  private sent(m: StoredMessage, reader: string) {
    return { id: messageUuid(m.id), source: this.sourceOf(m), content: m.message, ...wireScope(m, reader) };
  }
}
