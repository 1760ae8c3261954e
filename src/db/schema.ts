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
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [
    uniqueIndex("users_userid").on(t.userid),
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
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [uniqueIndex("refresh_tokens_hash").on(t.tokenHash), index("refresh_tokens_user").on(t.userId)],
);

/** Failed login counters, one row per account and per client address. */
export const loginFailures = sqliteTable("login_failures", {
  key: text("key").primaryKey(),
  count: integer("count").notNull(),
  windowStart: integer("window_start").notNull(),
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
