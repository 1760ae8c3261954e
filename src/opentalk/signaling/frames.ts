/**
 * OpenTalk signaling frames (reference §5.2–5.5): the zod schemas of what clients send, and the
 * shapes of what the server sends. Every incoming frame is validated here; nothing is cast.
 */
import { z } from "zod";

export const SIGNALING_PROTOCOL = "opentalk-signaling-json-v1.0";
/** The reference refuses display names longer than this (after trimming). */
export const MAX_DISPLAY_NAME = 100;

/** Outer envelope: `{namespace, payload}`; the payload is validated per namespace. */
export const Envelope = z.object({ namespace: z.string().min(1).max(64), payload: z.unknown() });

const Target = z.uuid();

export const ControlCommand = z.discriminatedUnion("action", [
  z.object({ action: z.literal("join"), display_name: z.string().max(1024).optional() }),
  z.object({ action: z.literal("enter_room") }),
  z.object({ action: z.literal("raise_hand") }),
  z.object({ action: z.literal("lower_hand") }),
  z.object({ action: z.literal("grant_moderator_role"), target: Target }),
  z.object({ action: z.literal("revoke_moderator_role"), target: Target }),
]);
export type ControlCommand = z.infer<typeof ControlCommand>;

export const ModerationCommand = z.discriminatedUnion("action", [
  z.object({ action: z.literal("kick"), target: Target }),
  z.object({ action: z.literal("ban"), target: Target }),
  z.object({ action: z.literal("accept"), target: Target }),
  z.object({ action: z.literal("enable_waiting_room") }),
  z.object({ action: z.literal("disable_waiting_room") }),
  z.object({ action: z.literal("enable_raise_hands") }),
  z.object({ action: z.literal("disable_raise_hands") }),
  // No target: every raised hand; one id or a list (empty: valid, resets nothing).
  z.object({ action: z.literal("reset_raised_hands"), target: z.union([Target, z.array(Target).max(1000)]).optional() }),
  z.object({ action: z.literal("change_display_name"), target: Target, new_name: z.string().max(1024) }),
  z.object({ action: z.literal("send_to_waiting_room"), target: Target }),
  z.object({ action: z.literal("debrief"), kick_scope: z.enum(["guests", "users_and_guests", "all"]) }),
]);
export type ModerationCommand = z.infer<typeof ModerationCommand>;

/** Control error codes (reference §5.2). */
export type ControlError =
  | "invalid_json"
  | "invalid_namespace"
  | "invalid_username"
  | "already_joined"
  | "not_yet_joined"
  | "not_accepted_or_not_in_waiting_room"
  | "raise_hands_disabled"
  | "insufficient_permissions"
  | "target_is_room_owner"
  | "nothing_to_do";

/** Moderation error codes (reference §5.5; non-moderators get silence, not the later `permission_denied`). */
export type ModerationError =
  | "cannot_ban_guest"
  | "cannot_change_name_of_registered_users"
  | "invalid_display_name"
  | "cannot_send_room_owner_to_waiting_room";

export type Role = "guest" | "user" | "moderator";
export type ParticipationKind = "user" | "guest" | "sip";

/** A participant's `control` state as other participants see it. */
export interface ControlState {
  display_name: string;
  role: Role;
  avatar_url?: string;
  participation_kind: ParticipationKind;
  hand_is_up: boolean;
  joined_at: string;
  left_at: string | null;
  hand_updated_at: string;
  is_room_owner: boolean;
}

/** Server → client frame. */
export function frame(namespace: string, payload: Record<string, unknown>): string {
  return JSON.stringify({ namespace, timestamp: new Date().toISOString(), payload });
}

/** Trims and collapses inner whitespace; null when empty or too long (→ `invalid_username`). */
export function normalizeDisplayName(name: string): string | null {
  const clean = name.trim().replace(/\s+/g, " ");
  if (clean === "" || [...clean].length > MAX_DISPLAY_NAME) return null;
  return clean;
}
