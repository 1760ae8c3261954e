/** Attendee permission bits and the effective-permission chain (Talk reference §3.3). */
import { ParticipantType } from "./types";

export const Permission = {
  Default: 0,
  Custom: 1,
  StartCall: 2,
  JoinCall: 4,
  IgnoreLobby: 8,
  PublishAudio: 16,
  PublishVideo: 32,
  PublishScreen: 64,
  Chat: 128,
} as const;

/** All rights (254) and all rights plus the custom marker (255). */
export const MAX_DEFAULT = 254;
export const MAX_CUSTOM = 255;
/** What ordinary participants get when nothing is configured: everything but "ignore lobby". */
export const NON_MODERATOR_FALLBACK = MAX_DEFAULT & ~Permission.IgnoreLobby;

export function isModeratorType(participantType: number): boolean {
  return (
    participantType === ParticipantType.Owner ||
    participantType === ParticipantType.Moderator ||
    participantType === ParticipantType.GuestModerator
  );
}

export function isLoggedInModeratorType(participantType: number): boolean {
  return participantType === ParticipantType.Owner || participantType === ParticipantType.Moderator;
}

/** Moderators always have everything; others take attendee → room default → fallback. */
export function effectivePermissions(participantType: number, attendeePermissions: number, defaultPermissions: number): number {
  if (isModeratorType(participantType)) return MAX_DEFAULT;
  if (attendeePermissions !== 0) return attendeePermissions;
  if (defaultPermissions !== 0) return defaultPermissions;
  return NON_MODERATOR_FALLBACK;
}

export type PermissionMethod = "set" | "add" | "remove";

/**
 * Where an add/remove starts when the attendee has no permissions of their own (seed 002): the
 * room default, else 126 for moderators and 118 for everyone else (the seed's figures; they
 * predate the chat bit, so an add/remove on a default attendee drops "post chat messages").
 */
export const SEED_MODERATOR_START = 126;
export const SEED_PARTICIPANT_START = 118;

export function initialPermissions(participantType: number, defaultPermissions: number): number {
  if (defaultPermissions !== 0) return defaultPermissions;
  return isModeratorType(participantType) ? SEED_MODERATOR_START : SEED_PARTICIPANT_START;
}

/** New stored value for a set/add/remove: any non-zero result carries the custom bit (seed 002). */
export function modifyPermissions(method: PermissionMethod, current: number, value: number): number {
  const next = method === "set" ? value : method === "add" ? current | value : current & ~value;
  return next === 0 ? 0 : next | Permission.Custom;
}

/** Whether the lobby holds this participant back (lobby on, not a moderator, no "ignore lobby"). */
export function heldInLobby(lobbyState: number, participantType: number, permissions: number): boolean {
  return lobbyState === 1 && !isModeratorType(participantType) && (permissions & Permission.IgnoreLobby) === 0;
}
