/** Row mapping between the room DO's SQLite tables and the model types. */
import type { ActorType, Attendee, ListedAttendee, RoomMeta, Session } from "./types";

type Row = Record<string, SqlStorageValue>;

export function metaFromRow(r: Row): RoomMeta {
  return {
    id: r.id as string,
    token: r.token as string,
    type: r.type as number,
    name: r.name as string,
    description: r.description as string,
    createdBy: (r.created_by as string | null) ?? null,
    createdAt: r.created_at as number,
    passwordHash: (r.password_hash as string | null) ?? null,
    passwordSealed: (r.password_sealed as string | null) ?? null,
    readOnly: r.read_only as number,
    listable: r.listable as number,
    lobbyState: r.lobby_state as number,
    lobbyTimer: r.lobby_timer as number,
    sipEnabled: r.sip_enabled as number,
    defaultPermissions: r.default_permissions as number,
    callStartTime: r.call_start_time as number,
    callFlag: r.call_flag as number,
    lastActivity: r.last_activity as number,
    objectType: r.object_type as string,
    objectId: r.object_id as string,
    origin: r.origin === "opentalk" ? "opentalk" : "talk",
    version: r.version as number,
    activeUsers: r.active_users as number,
    activeGuests: r.active_guests as number,
  };
}

/** The attendee columns a participant list shows. */
export const LISTED_COLUMNS = "id, actor_type, actor_id, display_name, participant_type, permissions, pin, invited_email";

/** An attendee as a participant list shows it, from a row with at least `LISTED_COLUMNS`. */
export function listedAttendeeFromRow(r: Row): ListedAttendee {
  return {
    id: r.id as number,
    actorType: r.actor_type as ActorType,
    actorId: r.actor_id as string,
    displayName: r.display_name as string,
    participantType: r.participant_type as number,
    permissions: r.permissions as number,
    pin: r.pin as string,
    invitedEmail: r.invited_email as string,
  };
}

export function attendeeFromRow(r: Row): Attendee & { userUuid: string | null; invitationOpen: boolean } {
  return {
    ...listedAttendeeFromRow(r),
    favorite: r.favorite === 1,
    notificationLevel: r.notification_level as number,
    notificationCalls: r.notification_calls as number,
    createdAt: r.created_at as number,
    lastReadMessage: r.last_read_message as number,
    readCount: r.read_count as number,
    lastMentionMessage: r.last_mention_message as number,
    lastMentionDirect: r.last_mention_direct as number,
    readPrivacy: r.read_privacy as number,
    userUuid: (r.user_uuid as string | null) ?? null,
    invitationOpen: r.invitation_open === 1,
  };
}

export function sessionFromRow(r: Row): Session {
  return {
    id: r.id as string,
    attendeeId: r.attendee_id as number,
    cookie: r.cookie as string,
    inCall: r.in_call as number,
    lastPing: r.last_ping as number,
    state: r.state as number,
    createdAt: r.created_at as number,
  };
}

/** Column names of `meta` for each RoomMeta key, for partial updates. */
export const META_COLUMNS: Record<Exclude<keyof RoomMeta, "id">, string> = {
  token: "token",
  type: "type",
  name: "name",
  description: "description",
  createdBy: "created_by",
  createdAt: "created_at",
  passwordHash: "password_hash",
  passwordSealed: "password_sealed",
  readOnly: "read_only",
  listable: "listable",
  lobbyState: "lobby_state",
  lobbyTimer: "lobby_timer",
  sipEnabled: "sip_enabled",
  defaultPermissions: "default_permissions",
  callStartTime: "call_start_time",
  callFlag: "call_flag",
  lastActivity: "last_activity",
  objectType: "object_type",
  objectId: "object_id",
  origin: "origin",
  version: "version",
  activeUsers: "active_users",
  activeGuests: "active_guests",
};
