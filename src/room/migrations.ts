/**
 * The room Durable Object's SQLite schema, versioned by a migrations table (DO storage has no
 * `user_version`). Each entry runs once, in order, inside the constructor's blockConcurrencyWhile.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE meta (
     id TEXT PRIMARY KEY, token TEXT NOT NULL, type INTEGER NOT NULL, name TEXT NOT NULL DEFAULT '',
     description TEXT NOT NULL DEFAULT '', created_by TEXT, created_at INTEGER NOT NULL,
     password_hash TEXT, password_sealed TEXT, read_only INTEGER NOT NULL DEFAULT 0,
     listable INTEGER NOT NULL DEFAULT 0, lobby_state INTEGER NOT NULL DEFAULT 0,
     lobby_timer INTEGER NOT NULL DEFAULT 0, sip_enabled INTEGER NOT NULL DEFAULT 0,
     default_permissions INTEGER NOT NULL DEFAULT 0, call_start_time INTEGER NOT NULL DEFAULT 0,
     call_flag INTEGER NOT NULL DEFAULT 0, last_activity INTEGER NOT NULL DEFAULT 0,
     object_type TEXT NOT NULL DEFAULT '', object_id TEXT NOT NULL DEFAULT '',
     version INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE attendees (
     id INTEGER PRIMARY KEY AUTOINCREMENT, actor_type TEXT NOT NULL, actor_id TEXT NOT NULL,
     display_name TEXT NOT NULL DEFAULT '', participant_type INTEGER NOT NULL,
     permissions INTEGER NOT NULL DEFAULT 0, favorite INTEGER NOT NULL DEFAULT 0,
     notification_level INTEGER NOT NULL DEFAULT 0, notification_calls INTEGER NOT NULL DEFAULT 1,
     pin TEXT NOT NULL DEFAULT '', user_uuid TEXT, created_at INTEGER NOT NULL,
     UNIQUE (actor_type, actor_id));
   CREATE TABLE sessions (
     id TEXT PRIMARY KEY, attendee_id INTEGER NOT NULL REFERENCES attendees(id) ON DELETE CASCADE,
     cookie TEXT NOT NULL DEFAULT '', in_call INTEGER NOT NULL DEFAULT 0,
     last_ping INTEGER NOT NULL, state INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL);
   CREATE INDEX sessions_attendee ON sessions(attendee_id);
   CREATE INDEX sessions_cookie ON sessions(cookie);`,
  // Email invitees keep their address apart from their (hashed) actor id; the meta row remembers
  // the activity counts last published to the D1 summary.
  `ALTER TABLE attendees ADD COLUMN invited_email TEXT NOT NULL DEFAULT '';
   ALTER TABLE meta ADD COLUMN active_users INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE meta ADD COLUMN active_guests INTEGER NOT NULL DEFAULT 0;`,
  // Internal signaling: messages waiting for the recipient session's next long-poll.
  `CREATE TABLE signaling_messages (
     id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, data TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE INDEX signaling_messages_session ON signaling_messages(session_id);`,
  // OpenTalk signaling (src/opentalk/signaling/): participants of the live meeting with
  // their waiting-room pass and resumption token (hashed), bans of this session, and moderation
  // switches (raise hands). The waiting room itself is meta.lobby_state.
  `CREATE TABLE ot_participants (
     id TEXT PRIMARY KEY, kind TEXT NOT NULL, user_uuid TEXT, display_name TEXT NOT NULL DEFAULT '',
     avatar_url TEXT, role TEXT NOT NULL, is_owner INTEGER NOT NULL DEFAULT 0,
     status TEXT NOT NULL DEFAULT 'new', accepted INTEGER NOT NULL DEFAULT 0,
     connected INTEGER NOT NULL DEFAULT 0, hand_up INTEGER NOT NULL DEFAULT 0,
     hand_updated_at TEXT NOT NULL DEFAULT '', joined_at TEXT NOT NULL DEFAULT '', left_at TEXT,
     resumption_hash TEXT, resumption_expires INTEGER, tariff TEXT NOT NULL DEFAULT '{}');
   CREATE UNIQUE INDEX ot_participants_resumption ON ot_participants(resumption_hash);
   CREATE TABLE ot_bans (user_uuid TEXT PRIMARY KEY);
   CREATE TABLE ot_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // OpenTalk join_success context from the ticket (the room creator, the room's event) and why a
  // participant left (`left.reason`).
  `ALTER TABLE ot_participants ADD COLUMN context TEXT NOT NULL DEFAULT '{}';
   ALTER TABLE ot_participants ADD COLUMN left_reason TEXT;`,
  // One rulebook: where the room was created (OpenTalk rooms are governed by their owner), bans
  // belong to the room (they keep a user out of the meeting and its call alike), the D1 index
  // changes still to be written, recorded with the change itself (store.ts `markPending`), and the
  // Talk sessions in the call as OpenTalk participants see them (announced ids).
  `ALTER TABLE meta ADD COLUMN origin TEXT NOT NULL DEFAULT 'talk';
   ALTER TABLE ot_bans RENAME TO bans;
   CREATE TABLE index_pending (key TEXT PRIMARY KEY, gen INTEGER NOT NULL, room_id TEXT NOT NULL);
   CREATE TABLE ot_talk_peers (session_id TEXT PRIMARY KEY, participant_id TEXT NOT NULL, control TEXT NOT NULL);`,
  // Chat (chat-store.ts): one message store for both dialects, each member's read marker (and how
  // many comments it covers, so unread counts need no query), their last mention, and the
  // meeting's chat switch.
  `CREATE TABLE messages (
     id INTEGER PRIMARY KEY AUTOINCREMENT, actor_type TEXT NOT NULL, actor_id TEXT NOT NULL,
     actor_name TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL, message TEXT NOT NULL,
     parameters TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL,
     parent_id INTEGER NOT NULL DEFAULT 0, reference_id TEXT NOT NULL DEFAULT '',
     silent INTEGER NOT NULL DEFAULT 0, scope TEXT NOT NULL DEFAULT '', source TEXT, last_edit TEXT);
   CREATE INDEX messages_scope ON messages(scope, id);
   CREATE TABLE chat_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   ALTER TABLE attendees ADD COLUMN last_read_message INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE attendees ADD COLUMN read_count INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE attendees ADD COLUMN last_mention_message INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE attendees ADD COLUMN last_mention_direct INTEGER NOT NULL DEFAULT 0;`,
  // Read privacy (Talk's read_status_privacy): private readers do not count for the common read marker.
  `ALTER TABLE attendees ADD COLUMN read_privacy INTEGER NOT NULL DEFAULT 0;`,
  // Users told they were added ("… invited you"): their first join answers it (the notification goes).
  `ALTER TABLE attendees ADD COLUMN invitation_open INTEGER NOT NULL DEFAULT 0;`,
  // Talk's standalone signaling over the room's WebSockets (src/talk/standalone/): the signaling
  // sessions (hello done; resumable for a while after their socket dropped) with the Talk session
  // each joined, and the participants as last announced to them.
  `CREATE TABLE talk_ws_sessions (
     sid TEXT PRIMARY KEY, resume_hash TEXT NOT NULL UNIQUE, user_id TEXT, display_name TEXT NOT NULL DEFAULT '',
     features TEXT NOT NULL DEFAULT '[]', talk_session TEXT, attendee_id INTEGER,
     connected INTEGER NOT NULL DEFAULT 1, expires INTEGER);
   CREATE TABLE talk_ws_peers (talk_session TEXT PRIMARY KEY, sid TEXT NOT NULL, fingerprint TEXT NOT NULL, in_call INTEGER NOT NULL);`,
  // A signaling connection joined to another conversation than the one whose socket carries it
  // (Android keeps one connection per account): `away` on the socket's side names the room it
  // joined, `home` on the visited side names the room whose socket carries the visitor.
  `ALTER TABLE talk_ws_sessions ADD COLUMN away TEXT;
   ALTER TABLE talk_ws_sessions ADD COLUMN home TEXT;`,
  // Sessions are found by id, attendee and cookie in the rows the room keeps (kept-rows.ts), so
  // their secondary indexes only made every join and leave write two more B-trees. A room holds
  // few sessions: the rare statements by attendee (ending a member's sessions) scan them.
  `DROP INDEX sessions_attendee;
   DROP INDEX sessions_cookie;`,
];

export function migrate(sql: SqlStorage): number {
  sql.exec("CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const row = sql.exec<{ v: number | null }>("SELECT max(version) AS v FROM _migrations").one();
  let version = row.v ?? 0;
  while (version < MIGRATIONS.length) {
    sql.exec(MIGRATIONS[version] as string).toArray();
    version += 1;
    sql.exec("INSERT INTO _migrations (version, applied_at) VALUES (?, ?)", version, Date.now());
  }
  return version;
}

