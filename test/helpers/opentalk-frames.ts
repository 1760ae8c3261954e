/**
 * zod schemas of the upstream OpenTalk signaling shapes the web app reads (serde types of
 * `opentalk-types-signaling-control`, `-chat`, `-livekit`, `-moderation` at the last release on the
 * `/signaling` protocol), to validate what EdgeTalk sends field by field. Strict objects: a field
 * the upstream type does not have is an error too.
 */
import { z } from "zod";

const Timestamp = z.iso.datetime({ offset: true });
const Id = z.uuid();
const Role = z.enum(["guest", "user", "moderator"]);

export const ControlState = z.strictObject({
  display_name: z.string().min(1),
  role: Role,
  avatar_url: z.string().optional(),
  participation_kind: z.enum(["user", "guest", "sip", "recorder"]),
  hand_is_up: z.boolean(),
  joined_at: Timestamp,
  left_at: Timestamp.nullable(),
  hand_updated_at: Timestamp,
  is_room_owner: z.boolean(),
});

const Tariff = z.strictObject({
  id: Id,
  name: z.string(),
  quotas: z.record(z.string(), z.number()),
  enabled_modules: z.array(z.string()),
  disabled_features: z.array(z.string()),
  modules: z.record(z.string(), z.strictObject({ features: z.array(z.string()) })),
});

const UserInfo = z.strictObject({ title: z.string(), firstname: z.string(), lastname: z.string(), display_name: z.string(), avatar_url: z.string() });

const MicrophoneRestrictionState = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("disabled") }),
  z.strictObject({ type: z.literal("enabled"), unrestricted_participants: z.array(Id) }),
]);

export const LiveKitCredentials = z.strictObject({ room: z.string().min(1), token: z.string().min(1), public_url: z.string().min(1), service_url: z.string().optional() });

const LiveKitState = LiveKitCredentials.extend({ microphone_restriction_state: MicrophoneRestrictionState });

const StoredMessage = z.union([
  z.strictObject({ id: Id, source: Id, timestamp: Timestamp, content: z.string(), scope: z.literal("global") }),
  z.strictObject({ id: Id, source: Id, timestamp: Timestamp, content: z.string(), scope: z.literal("private"), target: Id }),
  z.strictObject({ id: Id, source: Id, timestamp: Timestamp, content: z.string(), scope: z.literal("group"), target: z.string() }),
]);

const ChatChunk = z.strictObject({ messages: z.array(StoredMessage), next_index: z.number().int().nonnegative().nullable() });

const ChatState = z.strictObject({
  enabled: z.boolean(),
  room_history: ChatChunk,
  groups_history: z.array(z.strictObject({ id: z.string(), name: z.string(), history: ChatChunk })),
  private_history: z.array(z.strictObject({ correspondent: Id, history: ChatChunk })),
  last_seen_timestamp_global: Timestamp.nullable(),
  last_seen_timestamps_private: z.record(Id, Timestamp),
  last_seen_timestamps_group: z.record(z.string(), Timestamp),
});

const WaitingParticipant = z.strictObject({ id: Id, control: ControlState, waiting_room_state: z.enum(["waiting", "accepted"]) });

const Moderation = z.strictObject({
  raise_hands_enabled: z.boolean(),
  waiting_room_enabled: z.boolean().optional(),
  waiting_room_participants: z.array(WaitingParticipant).optional(),
});

/** `control/join_success` with the module data of the modules EdgeTalk serves. */
export const JoinSuccess = z.strictObject({
  message: z.literal("join_success"),
  id: Id,
  display_name: z.string().min(1),
  avatar_url: z.string().optional(),
  role: Role,
  closes_at: Timestamp.optional(),
  tariff: Tariff,
  participants: z.array(z.strictObject({ id: Id, control: ControlState })),
  event_info: z.strictObject({ id: Id, room_id: Id, title: z.string(), is_adhoc: z.boolean() }).nullable(),
  room_info: z.strictObject({ id: Id, password: z.string().optional(), created_by: UserInfo }),
  is_room_owner: z.boolean(),
  chat: ChatState,
  livekit: LiveKitState.optional(),
  moderation: Moderation,
});
