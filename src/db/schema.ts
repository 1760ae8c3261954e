/**
 * D1 schema (drizzle). D1 holds identities, the OpenTalk planning data, and a per-user index of
 * rooms with a summary of each room; the room Durable Object stays authoritative for live state
 * and writes the summary through (see src/room/index-sync.ts).
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const now = sql`(unixepoch())`;

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(), // UUID (OpenTalk user id)
    userid: text("userid").notNull(), // Nextcloud login name
    displayName: text("display_name").notNull(),
    email: text("email").notNull().default(""),
    firstname: text("firstname").notNull().default(""),
    lastname: text("lastname").notNull().default(""),
    title: text("title").notNull().default(""),
    language: text("language").notNull().default("en-US"),
    dashboardTheme: text("dashboard_theme").notNull().default("system"),
    conferenceTheme: text("conference_theme").notNull().default("system"),
    passwordHash: text("password_hash"),
    isAdmin: integer("is_admin", { mode: "boolean" }).notNull().default(false),
    tariffId: text("tariff_id"),
    tariffStatus: text("tariff_status").notNull().default("default"),
    oidcIssuer: text("oidc_issuer"),
    oidcSub: text("oidc_sub"),
    /** End of the OpenTalk login session (id_token `exp` given to POST /v1/auth/login). */
    sessionExpiresAt: integer("session_expires_at"),
    /** Talk's `read_status_privacy`: 0 others see how far this user has read, 1 they do not. */
    readPrivacy: integer("read_privacy").notNull().default(0),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [
    uniqueIndex("users_userid").on(t.userid),
    // Login names are unique regardless of case ("Alice" and "alice" are one account), as in Nextcloud.
    uniqueIndex("users_userid_nocase").on(sql`lower(${t.userid})`),
    index("users_email").on(t.email),
    uniqueIndex("users_oidc").on(t.oidcIssuer, t.oidcSub),
  ],
);

export const groups = sqliteTable("groups", {
  id: text("id").primaryKey(),
  displayName: text("display_name").notNull(),
  createdAt: integer("created_at").notNull().default(now),
});

export const groupMembers = sqliteTable(
  "group_members",
  {
    groupId: text("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.userId] }), index("group_members_user").on(t.userId)],
);

export const appPasswords = sqliteTable(
  "app_passwords",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** HMAC-SHA256(EDGETALK_SECRET, token): app passwords are 72 random characters, so a keyed hash suffices. */
    tokenHash: text("token_hash").notNull(),
    name: text("name").notNull().default(""),
    createdAt: integer("created_at").notNull().default(now),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [uniqueIndex("app_passwords_hash").on(t.tokenHash), index("app_passwords_user").on(t.userId)],
);

export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    clientId: text("client_id").notNull(),
    expiresAt: integer("expires_at").notNull(),
    revoked: integer("revoked", { mode: "boolean" }).notNull().default(false),
    /** The browser sign-in session the token descends from; signing out there revokes it. */
    sessionId: text("session_id"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [uniqueIndex("refresh_tokens_hash").on(t.tokenHash), index("refresh_tokens_user").on(t.userId), index("refresh_tokens_session").on(t.sessionId)],
);

/**
 * Attempt counters of the sign-in throttle and the room-token lookup throttle, one row per key
 * (per address, per account and address). `span` is the current window: it doubles after a
 * window that ended throttled (back-off) and returns to the configured window after a calm one.
 */
export const loginFailures = sqliteTable("login_failures", {
  key: text("key").primaryKey(),
  count: integer("count").notNull(),
  windowStart: integer("window_start").notNull(),
  span: integer("span").notNull().default(300),
});

/**
 * Nextcloud Login Flow v2 (Talk Android) in progress: the client polls with `poll_token`, the
 * browser opens the page named by `login_token`. Once the user grants access, the new app password
 * waits here, sealed with the server secret, for exactly one poll.
 */
export const loginFlows = sqliteTable("login_flows", {
  /** HMAC(secret, poll token). */
  pollHash: text("poll_hash").primaryKey(),
  /** HMAC(secret, login token). */
  loginHash: text("login_hash").notNull(),
  clientName: text("client_name").notNull(),
  /** Set when access was granted: the account and the sealed app password for the one poll. */
  userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
  sealedAppPassword: text("sealed_app_password"),
  createdAt: integer("created_at").notNull().default(now),
  expiresAt: integer("expires_at").notNull(),
}, (t) => [uniqueIndex("login_flows_login").on(t.loginHash)]);

/** Push devices (`POST /ocs/v2.php/apps/notifications/api/v2/push`), one per app password. */
export const pushDevices = sqliteTable(
  "push_devices",
  {
    appPasswordId: text("app_password_id")
      .primaryKey()
      .references(() => appPasswords.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    pushTokenHash: text("push_token_hash").notNull(),
    devicePublicKey: text("device_public_key").notNull(),
    proxyServer: text("proxy_server").notNull(),
    deviceIdentifier: text("device_identifier").notNull(),
    appType: text("app_type").notNull().default("unknown"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [index("push_devices_user").on(t.userId)],
);

/** A user's own signing key pair for push (Nextcloud's notifications key manager keeps one per user). */
export const userKeys = sqliteTable("user_keys", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  publicKeyPem: text("public_key_pem").notNull(),
  /** PKCS#8, sealed with the server secret. */
  sealedPrivateKey: text("sealed_private_key").notNull(),
});

/** User status (Nextcloud user_status app): online/away/dnd/invisible/offline and a custom message. */
export const userStatuses = sqliteTable("user_statuses", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  status: text("status").notNull(),
  statusTimestamp: integer("status_timestamp").notNull(),
  isUserDefined: integer("is_user_defined", { mode: "boolean" }).notNull().default(false),
  message: text("message"),
  messageId: text("message_id"),
  icon: text("icon"),
  clearAt: integer("clear_at"),
});

/** Browser sign-in sessions (cookie `edgetalk_login`): one sign-in serves every OIDC client. */
export const loginSessions = sqliteTable(
  "login_sessions",
  {
    /** HMAC(secret, cookie token): the cookie itself is never stored. */
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    userAgent: text("user_agent").notNull().default(""),
    createdAt: integer("created_at").notNull().default(now),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("login_sessions_user").on(t.userId)],
);

/** Authorization codes (OIDC code flow): single use, short-lived, bound to client, redirect URI and PKCE challenge. */
export const authorizationCodes = sqliteTable("authorization_codes", {
  /** HMAC(secret, code). */
  codeHash: text("code_hash").primaryKey(),
  clientId: text("client_id").notNull(),
  redirectUri: text("redirect_uri").notNull(),
  userId: text("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  sessionId: text("session_id").notNull(),
  codeChallenge: text("code_challenge").notNull().default(""),
  nonce: text("nonce").notNull().default(""),
  scope: text("scope").notNull().default(""),
  authTime: integer("auth_time").notNull(),
  expiresAt: integer("expires_at").notNull(),
});

/** Room directory and summary: token → id, and what the conversation list shows without waking the DO. */
export const rooms = sqliteTable(
  "rooms",
  {
    serial: integer("serial").primaryKey({ autoIncrement: true }), // Talk numeric `id`
    id: text("id").notNull(), // UUID, addresses the Durable Object
    token: text("token").notNull(),
    type: integer("type").notNull(),
    name: text("name").notNull().default(""),
    description: text("description").notNull().default(""),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull().default(now),
    hasPassword: integer("has_password", { mode: "boolean" }).notNull().default(false),
    readOnly: integer("read_only").notNull().default(0),
    listable: integer("listable").notNull().default(0),
    lobbyState: integer("lobby_state").notNull().default(0),
    lobbyTimer: integer("lobby_timer").notNull().default(0),
    sipEnabled: integer("sip_enabled").notNull().default(0),
    defaultPermissions: integer("default_permissions").notNull().default(0),
    callFlag: integer("call_flag").notNull().default(0),
    callStartTime: integer("call_start_time").notNull().default(0),
    lastActivity: integer("last_activity").notNull().default(0),
    objectType: text("object_type").notNull().default(""),
    objectId: text("object_id").notNull().default(""),
    /** Users and guests with a live session, published by the room DO at most every few seconds. */
    activeUsers: integer("active_users").notNull().default(0),
    activeGuests: integer("active_guests").notNull().default(0),
    /** The chat's newest message (the room DO's StoredMessage as JSON), null when there is none. */
    lastMessage: text("last_message"),
    /** Comments in the chat: a member's unread count is this minus their `readCount`. */
    commentCount: integer("comment_count").notNull().default(0),
    /** Every message of the chat (unread for a member who has read nothing yet). */
    messageCount: integer("message_count").notNull().default(0),
    /** The newest message every user has read. */
    lastCommonRead: integer("last_common_read").notNull().default(0),
    /** JSON array of the groups that are attendees (a user joining or leaving one follows). */
    groups: text("groups").notNull().default("[]"),
    /** Bumped by the room DO on every summary write; older writes never overwrite newer ones. */
    version: integer("version").notNull().default(0),
  },
  (t) => [uniqueIndex("rooms_id").on(t.id), uniqueIndex("rooms_token").on(t.token)],
);

/** Per-user room index: which rooms each user belongs to, with that user's per-room attributes. */
export const roomMembers = sqliteTable(
  "room_members",
  {
    roomId: text("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    attendeeId: integer("attendee_id").notNull(),
    participantType: integer("participant_type").notNull(),
    permissions: integer("permissions").notNull().default(0),
    favorite: integer("favorite", { mode: "boolean" }).notNull().default(false),
    notificationLevel: integer("notification_level").notNull().default(0),
    notificationCalls: integer("notification_calls").notNull().default(1),
    pin: text("pin").notNull().default(""),
    /** Chat: the member's read marker, the comments it covers, their last (direct) mention. */
    lastReadMessage: integer("last_read_message").notNull().default(0),
    readCount: integer("read_count").notNull().default(0),
    lastMentionMessage: integer("last_mention_message").notNull().default(0),
    lastMentionDirect: integer("last_mention_direct").notNull().default(0),
    version: integer("version").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.roomId, t.userId] }), index("room_members_user").on(t.userId)],
);

/**
 * Outgoing email, queued rather than sent inline: invitations to email guests and their resends.
 * A delivery worker (or an operator) drains rows whose `sentAt` is null.
 */
export const emailOutbox = sqliteTable(
  "email_outbox",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    recipient: text("recipient").notNull(),
    template: text("template").notNull(),
    /** JSON object with what the template needs (room token and name, inviter, link…). */
    payload: text("payload").notNull(),
    createdAt: integer("created_at").notNull().default(now),
    sentAt: integer("sent_at"),
  },
  (t) => [index("email_outbox_pending").on(t.sentAt)],
);

/**
 * Notifications for the Nextcloud notifications API (what Talk clients poll for call rings and
 * "call started" alerts). One row per recipient.
 */
export const notifications = sqliteTable(
  "notifications",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    app: text("app").notNull(),
    objectType: text("object_type").notNull(),
    objectId: text("object_id").notNull(),
    subject: text("subject").notNull(),
    /** JSON: what the message needs (room name, who called…). */
    parameters: text("parameters").notNull().default("{}"),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [index("notifications_user").on(t.userId, t.id)],
);

/**
 * OpenTalk tariffs: quotas plus the modules and features a tariff switches off. Users point at one
 * through `users.tariff_id`; users without one (or with a dangling id) get the default tariff.
 */
export const tariffs = sqliteTable(
  "tariffs",
  {
    id: text("id").primaryKey(), // UUID
    name: text("name").notNull(),
    /** Quota name → limit, e.g. `room_participant_limit`, `room_time_limit_secs`, `max_storage`. */
    quotas: text("quotas", { mode: "json" }).$type<Record<string, number>>().notNull().default({}),
    /** Module ids switched off for this tariff. */
    disabledModules: text("disabled_modules", { mode: "json" }).$type<string[]>().notNull().default([]),
    /** `module::feature` ids switched off for this tariff. */
    disabledFeatures: text("disabled_features", { mode: "json" }).$type<string[]>().notNull().default([]),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [uniqueIndex("tariffs_name").on(t.name)],
);

export type UserRow = typeof users.$inferSelect;
export type TariffRow = typeof tariffs.$inferSelect;
export type RoomRow = typeof rooms.$inferSelect;
export type RoomMemberRow = typeof roomMembers.$inferSelect;

// ---------------------------------------------------------------------------------------------
// OpenTalk events (reference §6: events, event_exceptions, event_invites, event_email_invites,
// event_favorites, event_shared_folders, assets + room_assets, room_streaming_targets).
// Instants are stored as milliseconds since the epoch (UTC), so ordering and cursors are exact.

export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(), // UUID
    /** The room this event owns (one event per room). Deleting the room deletes the event. */
    roomId: text("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    createdBy: text("created_by")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: integer("created_at").notNull(),
    updatedBy: text("updated_by").notNull(),
    updatedAt: integer("updated_at").notNull(),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    isTimeIndependent: integer("is_time_independent", { mode: "boolean" }).notNull(),
    isAllDay: integer("is_all_day", { mode: "boolean" }),
    startsAt: integer("starts_at"),
    startsAtTz: text("starts_at_tz"),
    /** End of the first occurrence (the API's `ends_at`). */
    endsAt: integer("ends_at"),
    endsAtTz: text("ends_at_tz"),
    /** End of the last occurrence (start + 100 years when unbounded): the time-window filter. */
    lastEndsAt: integer("last_ends_at"),
    /** RFC 5545 lines (RRULE/RDATE/EXRULE/EXDATE) as a JSON array; empty = not recurring. */
    recurrencePattern: text("recurrence_pattern", { mode: "json" }).$type<string[]>().notNull().default([]),
    isAdhoc: integer("is_adhoc", { mode: "boolean" }).notNull().default(false),
    /** Bumped on every change (the iCalendar SEQUENCE of notification mails). */
    revision: integer("revision").notNull().default(0),
  },
  (t) => [uniqueIndex("events_room").on(t.roomId), index("events_created_by").on(t.createdBy), index("events_order").on(t.startsAt, t.createdAt, t.id)],
);

/** Changed or cancelled occurrences of a recurring event, keyed by the occurrence's original start. */
export const eventExceptions = sqliteTable(
  "event_exceptions",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    exceptionDate: integer("exception_date").notNull(),
    exceptionDateTz: text("exception_date_tz").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
    kind: text("kind", { enum: ["modified", "cancelled"] }).notNull(),
    title: text("title"),
    description: text("description"),
    isAllDay: integer("is_all_day", { mode: "boolean" }),
    startsAt: integer("starts_at"),
    startsAtTz: text("starts_at_tz"),
    endsAt: integer("ends_at"),
    endsAtTz: text("ends_at_tz"),
  },
  (t) => [uniqueIndex("event_exceptions_occurrence").on(t.eventId, t.exceptionDate)],
);

export const eventInvites = sqliteTable(
  "event_invites",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    invitee: text("invitee")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
    status: text("status", { enum: ["pending", "accepted", "tentative", "declined"] }).notNull().default("pending"),
    role: text("role", { enum: ["user", "moderator"] }).notNull().default("user"),
  },
  (t) => [uniqueIndex("event_invites_pair").on(t.eventId, t.invitee), index("event_invites_invitee").on(t.invitee)],
);

/** Invites of e-mail addresses that belong to no registered user (stored lowercased). */
export const eventEmailInvites = sqliteTable(
  "event_email_invites",
  {
    eventId: text("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.email] })],
);

export const eventFavorites = sqliteTable(
  "event_favorites",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    eventId: text("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.eventId] }), index("event_favorites_event").on(t.eventId)],
);

/** The event's folder on the configured WebDAV/Nextcloud server and its two public shares. */
export const eventSharedFolders = sqliteTable("event_shared_folders", {
  eventId: text("event_id")
    .primaryKey()
    .references(() => events.id, { onDelete: "cascade" }),
  path: text("path").notNull(),
  writeShareId: text("write_share_id").notNull(),
  writeUrl: text("write_url").notNull(),
  writePassword: text("write_password").notNull(),
  readShareId: text("read_share_id").notNull(),
  readUrl: text("read_url").notNull(),
  readPassword: text("read_password").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Files of a room (recordings, exported PDFs…): bytes in R2 under `assets/<room>/<id>`, metadata here. */
export const assets = sqliteTable(
  "assets",
  {
    id: text("id").primaryKey(),
    roomId: text("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    createdAt: integer("created_at").notNull(),
    namespace: text("namespace"),
    kind: text("kind").notNull(),
    filename: text("filename").notNull(),
    contentType: text("content_type").notNull().default("application/octet-stream"),
    size: integer("size").notNull(),
  },
  (t) => [index("assets_room").on(t.roomId, t.createdAt)],
);

export const roomStreamingTargets = sqliteTable(
  "room_streaming_targets",
  {
    id: text("id").primaryKey(),
    roomId: text("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    kind: text("kind").notNull().default("custom"),
    streamingEndpoint: text("streaming_endpoint").notNull(),
    streamingKey: text("streaming_key").notNull(),
    publicUrl: text("public_url").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("room_streaming_targets_room").on(t.roomId, t.createdAt)],
);

export type EventRow = typeof events.$inferSelect;
export type EventExceptionRow = typeof eventExceptions.$inferSelect;
export type EventInviteRow = typeof eventInvites.$inferSelect;
export type EventEmailInviteRow = typeof eventEmailInvites.$inferSelect;
export type AssetRow = typeof assets.$inferSelect;
export type StreamingTargetRow = typeof roomStreamingTargets.$inferSelect;
export type SharedFolderRow = typeof eventSharedFolders.$inferSelect;
/**
 * OpenTalk invite codes (guest links) of a room. Never physically deleted by the API: DELETE sets
 * `active` to false, as the reference does. Times are Unix milliseconds (RFC 3339 on the wire).
 */
export const otInvites = sqliteTable(
  "ot_invites",
  {
    code: text("code").primaryKey(), // UUID, the invite code itself
    roomId: text("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedBy: text("updated_by").notNull(),
    updatedAt: integer("updated_at").notNull(),
    active: integer("active", { mode: "boolean" }).notNull().default(true),
    expiration: integer("expiration"),
  },
  (t) => [index("ot_invites_room").on(t.roomId, t.createdAt)],
);

/** OpenTalk SIP dial-in configuration of a room: a unique 10-digit id and a 10-digit PIN. */
export const otSipConfigs = sqliteTable(
  "ot_sip_configs",
  {
    roomId: text("room_id")
      .primaryKey()
      .references(() => rooms.id, { onDelete: "cascade" }),
    sipId: text("sip_id").notNull(),
    password: text("password").notNull(),
    lobby: integer("lobby", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [uniqueIndex("ot_sip_configs_sip_id").on(t.sipId)],
);

/**
 * Single-use signaling tickets (POST /v1/rooms/{id}/start and friends → GET /signaling). Only a
 * SHA-256 of the ticket is stored; `entrant` is the JSON the room DO needs to admit the socket.
 */
export const signalingTickets = sqliteTable(
  "signaling_tickets",
  {
    ticketHash: text("ticket_hash").primaryKey(),
    roomId: text("room_id")
      .notNull()
      .references(() => rooms.id, { onDelete: "cascade" }),
    entrant: text("entrant").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("signaling_tickets_expiry").on(t.expiresAt)],
);

export type OtInviteRow = typeof otInvites.$inferSelect;
export type OtSipConfigRow = typeof otSipConfigs.$inferSelect;
