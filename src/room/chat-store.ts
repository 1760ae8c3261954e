/**
 * The room's chat in its SQLite storage: every statement on `messages` and `chat_settings`. The
 * room's own chat (scope "") is what Talk shows as the conversation's chat and OpenTalk as the
 * meeting's global chat; OpenTalk's group and private chats live beside it under their own scope.
 *
 * The last message and the number of comments are kept in memory (loaded on first use), so
 * conversation objects and unread counts cost no query.
 */
import type { ChatActor, MessageKind, StoredMessage } from "./types";

type Row = Record<string, SqlStorageValue>;

/** The room's own chat (Talk's conversation chat, OpenTalk's global chat). */
export const ROOM_SCOPE = "";

function messageFromRow(r: Row): StoredMessage {
  return {
    id: r.id as number,
    actor: { type: r.actor_type as string, id: r.actor_id as string, name: r.actor_name as string },
    kind: r.kind as MessageKind,
    message: r.message as string,
    parameters: JSON.parse(r.parameters as string) as StoredMessage["parameters"],
    createdAt: r.created_at as number,
    parentId: r.parent_id as number,
    referenceId: r.reference_id as string,
    silent: r.silent === 1,
    scope: r.scope as string,
    source: (r.source as string | null) ?? null,
    lastEdit: r.last_edit ? (JSON.parse(r.last_edit as string) as ChatActor & { at: number }) : null,
  };
}

export type NewMessage = Omit<StoredMessage, "id">;

/**
 * System messages that only tell clients to update an earlier message: they never become the
 * conversation's last message (the reference skips them too).
 */
const NOT_LAST = new Set(["message_edited", "message_deleted"]);
const NOT_LAST_SQL = "NOT (kind = 'system' AND message IN ('message_edited', 'message_deleted'))";

/** Comments count as unread (see `commentCount`). */
const UNREAD_KINDS = "kind = 'comment'";
const countsUnread = (m: Pick<StoredMessage, "kind">) => m.kind === "comment";

export class ChatStore {
  /** The room chat's newest message (undefined: not loaded yet). */
  private last: StoredMessage | null | undefined;
  /** Comments in the room chat (undefined: not counted yet). */
  private comments: number | undefined;

  constructor(private readonly sql: SqlStorage) {}

  /** Forgets the cached summary (the room was wiped). */
  reset(): void {
    this.last = undefined;
    this.comments = undefined;
  }

  insert(m: NewMessage): StoredMessage {
    const row = this.sql
      .exec(
        `INSERT INTO messages (actor_type, actor_id, actor_name, kind, message, parameters, created_at, parent_id, reference_id, silent, scope, source)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        m.actor.type, m.actor.id, m.actor.name, m.kind, m.message, JSON.stringify(m.parameters), m.createdAt,
        m.parentId, m.referenceId, m.silent ? 1 : 0, m.scope, m.source,
      )
      .one();
    const stored = { ...m, id: row.id as number };
    if (m.scope === ROOM_SCOPE) {
      if (!(m.kind === "system" && NOT_LAST.has(m.message))) this.last = stored;
      if (countsUnread(m) && this.comments !== undefined) this.comments += 1;
    }
    return stored;
  }

  byId(id: number): StoredMessage | null {
    const row = this.sql.exec("SELECT * FROM messages WHERE id = ?", id).toArray()[0];
    return row ? messageFromRow(row) : null;
  }

  byIds(ids: number[]): Map<number, StoredMessage> {
    if (ids.length === 0) return new Map();
    const rows = this.sql.exec(`SELECT * FROM messages WHERE id IN (${ids.map(() => "?").join(", ")})`, ...ids).toArray();
    return new Map(rows.map((r) => [r.id as number, messageFromRow(r)]));
  }

  /** Messages older than `before` (and `before` itself with `inclusive`), newest first. */
  history(scope: string, before: number, limit: number, inclusive = false): StoredMessage[] {
    const bound = before > 0 ? `AND id ${inclusive ? "<=" : "<"} ?` : "";
    return this.sql
      .exec(`SELECT * FROM messages WHERE scope = ? ${bound} ORDER BY id DESC LIMIT ?`, scope, ...(before > 0 ? [before] : []), limit)
      .toArray()
      .map(messageFromRow);
  }

  /** Messages newer than `after` (and `after` itself with `inclusive`), oldest first. */
  future(scope: string, after: number, limit: number, inclusive = false): StoredMessage[] {
    return this.sql
      .exec(`SELECT * FROM messages WHERE scope = ? AND id ${inclusive ? ">=" : ">"} ? ORDER BY id LIMIT ?`, scope, after, limit)
      .toArray()
      .map(messageFromRow);
  }

  /** Messages whose text contains `term` (comments only), newest first, skipping `offset`. */
  search(scope: string, term: string, offset: number, limit: number): StoredMessage[] {
    const pattern = `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.sql
      .exec("SELECT * FROM messages WHERE scope = ? AND kind = 'comment' AND message LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT ? OFFSET ?", scope, pattern, limit, offset)
      .toArray()
      .map(messageFromRow);
  }

  /** The scopes (other than the room chat) that have messages, with a given prefix. */
  scopes(prefix: string): string[] {
    return this.sql
      .exec<{ scope: string }>("SELECT DISTINCT scope FROM messages WHERE scope LIKE ? ESCAPE '\\'", `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)
      .toArray()
      .map((r) => r.scope);
  }

  countInScope(scope: string): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM messages WHERE scope = ?", scope).one().n;
  }

  lastMessage(): StoredMessage | null {
    if (this.last === undefined) {
      const row = this.sql.exec(`SELECT * FROM messages WHERE scope = ? AND ${NOT_LAST_SQL} ORDER BY id DESC LIMIT 1`, ROOM_SCOPE).toArray()[0];
      this.last = row ? messageFromRow(row) : null;
    }
    return this.last;
  }

  /** The conversation's last message id (Talk's lastMessageId: read markers point at it). */
  lastId(): number {
    return this.lastMessage()?.id ?? 0;
  }

  /** Comments in the room chat: the unread count of a member is this minus their `readCount`. */
  commentCount(): number {
    if (this.comments === undefined) this.comments = this.commentsUpTo(Number.MAX_SAFE_INTEGER);
    return this.comments;
  }

  /** Every message of the room chat: what a member who has read nothing yet (marker -2) has unread. */
  messageCount(): number {
    return this.countInScope(ROOM_SCOPE);
  }

  commentsUpTo(id: number): number {
    if (id <= 0) return 0;
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM messages WHERE scope = ? AND ${UNREAD_KINDS} AND id <= ?`, ROOM_SCOPE, id).one().n;
  }

  /** Rewrites a message (an edit, a deletion). */
  update(m: StoredMessage): void {
    this.sql.exec(
      "UPDATE messages SET kind = ?, message = ?, parameters = ?, last_edit = ? WHERE id = ?",
      m.kind, m.message, JSON.stringify(m.parameters), m.lastEdit ? JSON.stringify(m.lastEdit) : null, m.id,
    );
    if (m.scope === ROOM_SCOPE) {
      if (this.last?.id === m.id) this.last = m;
      this.comments = undefined;
    }
  }

  /** Deletes a scope's messages (clearing a history). */
  clear(scope: string): void {
    this.sql.exec("DELETE FROM messages WHERE scope = ?", scope);
    if (scope === ROOM_SCOPE) this.reset();
  }

  /** A deleted account: its messages and edits are shown as a deleted user's (`deleted_users`). */
  forgetActor(type: string, id: string): void {
    this.sql.exec("UPDATE messages SET actor_type = 'deleted_users', actor_id = 'deleted_users', actor_name = '' WHERE actor_type = ? AND actor_id = ?", type, id);
    this.sql.exec(
      `UPDATE messages SET last_edit = json_object('type', 'deleted_users', 'id', 'deleted_users', 'name', '', 'at', json_extract(last_edit, '$.at'))
       WHERE last_edit IS NOT NULL AND json_extract(last_edit, '$.type') = ? AND json_extract(last_edit, '$.id') = ?`,
      type, id,
    );
    this.reset();
  }

  setting(key: string): string | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM chat_settings WHERE key = ?", key).toArray()[0];
    return row ? row.value : null;
  }

  setSetting(key: string, value: string): void {
    this.sql.exec("INSERT INTO chat_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value);
  }
}
