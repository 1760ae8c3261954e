/** In-call flags, call timing and SIP-compatible numbers (Talk reference §3.2, §3.4, §8, §10). */
import { Permission } from "./permissions";

export const InCall = { Disconnected: 0, InCall: 1, WithAudio: 2, WithVideo: 4, WithPhone: 8 } as const;
/** Flags a call join uses when the client sends none. */
export const DEFAULT_CALL_FLAGS = InCall.InCall | InCall.WithAudio | InCall.WithVideo;
export const MAX_CALL_FLAGS = 15;

/** A session counts as in the call only while it pinged within this window (SESSION_TIMEOUT). */
export const CALL_PING_SECONDS = 30;
/** Signaling's `usersInRoom` covers sessions seen within this window (30 s + 10 s slack). */
export const USERS_IN_ROOM_SECONDS = 40;

/** 0 (disconnected), or 1–15 with the "in call" bit. */
export function validCallFlags(flags: number): boolean {
  return Number.isInteger(flags) && flags >= 0 && flags <= MAX_CALL_FLAGS && (flags === 0 || (flags & InCall.InCall) !== 0);
}

/** Audio and video bits need the matching publish permission; without it they are dropped. */
export function allowedCallFlags(flags: number, permissions: number): number {
  let allowed = flags;
  if ((permissions & Permission.PublishAudio) === 0) allowed &= ~InCall.WithAudio;
  if ((permissions & Permission.PublishVideo) === 0) allowed &= ~InCall.WithVideo;
  return allowed;
}

/**
 * Digits a phone keypad can send reliably: no leading 0 and no digit twice in a row. Used for
 * dial-in PINs (7 digits) and SIP-compatible room tokens.
 */
export function sipDigits(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 4))) {
      if (b >= 250) continue; // 250 = 25 × 10: keeps the digits uniform
      const digit = String(b % 10);
      if ((out.length === 0 && digit === "0") || out.endsWith(digit)) continue;
      out += digit;
      if (out.length === length) break;
    }
  }
  return out;
}

export function isSipCompatibleToken(token: string): boolean {
  return /^[1-9]\d+$/.test(token) && !/(\d)\1/.test(token);
}

export const PIN_LENGTH = 7;
