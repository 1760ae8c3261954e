/**
 * Who may do what with an OpenTalk room, and the Room resource. The reference decides by a path
 * ACL (§1.4); EdgeTalk derives the same grants from the one room model:
 * - read (GET room, tariff, start): the creator, the room's members (Talk attendees, the
 *   counterpart of the reference's invited users) and administrators;
 * - write (PATCH/DELETE, invites, SIP): the creator and administrators.
 * A room the caller may not read answers 404, one they may read but not change 403 (decision D18).
 */
import { z } from "@hono/zod-openapi";
import { database } from "../db/client";
import { findRoomSummary } from "../db/opentalk-rooms";
import type { RoomRow, UserRow } from "../db/schema";
import { config } from "../lib/config";
import { type AppContext, currentUser } from "../lib/context";
import { unseal } from "../lib/crypto";
import { OpenTalkError } from "../lib/errors";
import { roomStub } from "../room/directory";
import type { Caller, Outcome, RoomGrant } from "../room/contract";
import type { RoomMeta } from "../room/types";

export const RoomIdParams = z.object({ room_id: z.uuid() });

export const RoomSchema = z
  .object({
    id: z.uuid(),
    created_by: z.uuid(),
    created_at: z.string().openapi({ description: "RFC 3339" }),
    password: z.string().nullable().openapi({ description: "Shown to the room's creator and administrators; null for others" }),
    waiting_room: z.boolean(),
  })
  .openapi("Room");

export interface RoomAccess {
  summary: RoomRow;
  user: UserRow;
  /** The signed-in user as the room's rulebook sees them. */
  caller: Caller;
  /** The room's live state and what the rulebook grants the caller. */
  grant: RoomGrant;
  /** May configure the room (PATCH, DELETE, invites, SIP, streaming targets, assets). */
  write: boolean;
  stub: ReturnType<typeof roomStub>;
}

export function signedInUser(c: AppContext): UserRow {
  const user = currentUser(c);
  if (!user) throw OpenTalkError.unauthorized();
  return user;
}

/** A signed-in user acting on a room (OpenTalk has no Talk session cookie). */
export function openTalkCaller(user: UserRow): Caller {
  return { kind: "user", userUuid: user.id, userid: user.userid, displayName: user.displayName, admin: user.isAdmin, cookie: "" };
}

/**
 * The room if the signed-in caller may read it (a member, or an administrator of an OpenTalk
 * room); 404 otherwise. The room object decides, from its own membership (D1 only finds the id).
 */
export async function readableRoom(c: AppContext, roomId: string): Promise<RoomAccess> {
  const user = signedInUser(c);
  const summary = await findRoomSummary(database(c.env), roomId.toLowerCase());
  if (!summary) throw OpenTalkError.notFound();
  const stub = roomStub(c.env, summary.id);
  const caller = openTalkCaller(user);
  const grant = await stub.grant(caller);
  if (!grant) throw OpenTalkError.notFound();
  return { summary, user, caller, grant, write: grant.configure, stub };
}

/** The room if the caller may change it: 404 when they cannot see it, 403 when they only read it. */
export async function writableRoom(c: AppContext, roomId: string): Promise<RoomAccess> {
  const access = await readableRoom(c, roomId);
  if (!access.write) throw OpenTalkError.forbidden();
  return access;
}

export async function roomResource(c: AppContext, meta: Pick<RoomMeta, "id" | "createdBy" | "createdAt" | "passwordSealed" | "lobbyState">, showPassword: boolean) {
  const password = showPassword && meta.passwordSealed ? await unseal(config(c.env).secret, meta.passwordSealed) : null;
  return {
    id: meta.id,
    created_by: meta.createdBy ?? "",
    created_at: new Date(meta.createdAt * 1000).toISOString(),
    password,
    waiting_room: meta.lobbyState === 1,
  };
}

/** Maps a room outcome's failure to the reference's error for it. */
export function unwrapOutcome<T>(result: Outcome<T>): T {
  const outcome = result as Outcome<T>;
  if (outcome.ok) return outcome.value;
  switch (outcome.reason) {
    case "wrong_room_password":
      return throwError(new OpenTalkError(401, "wrong_room_password", "The provided password does not match the rooms password"));
    case "banned_from_room":
      return throwError(OpenTalkError.forbidden("This user has been banned from entering this room", "banned_from_room"));
    case "no_breakout_rooms":
      return throwError(OpenTalkError.badRequest("The requested room has no breakout rooms", "no_breakout_rooms"));
    case "session_running":
      return throwError(OpenTalkError.badRequest("the session of the given resumption token is still running", "session_running"));
    case "guests-not-allowed":
      return throwError(OpenTalkError.forbidden("Guests cannot join this room", "forbidden"));
    case "read-only":
      return throwError(OpenTalkError.forbidden("The room is read-only", "forbidden"));
    case "banned":
      return throwError(OpenTalkError.forbidden("This user has been banned from entering this room", "banned_from_room"));
    case "permission":
      return throwError(OpenTalkError.forbidden("Missing the permission to start the meeting", "forbidden"));
    default:
      if (outcome.status === 404) return throwError(OpenTalkError.notFound());
      if (outcome.status === 403) return throwError(OpenTalkError.forbidden());
      return throwError(new OpenTalkError(outcome.status, "bad_request", outcome.reason));
  }
}

function throwError(err: OpenTalkError): never {
  throw err;
}
