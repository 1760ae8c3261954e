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
import { findRoomSummary, isRoomMember } from "../db/opentalk-rooms";
import type { RoomRow, UserRow } from "../db/schema";
import { config } from "../lib/config";
import { type AppContext, currentUser } from "../lib/context";
import { unseal } from "../lib/crypto";
import { OpenTalkError } from "../lib/errors";
import { roomStub } from "../room/directory";
import type { Outcome } from "../room/outcome";
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
  creator: boolean;
  write: boolean;
  stub: ReturnType<typeof roomStub>;
}

export function signedInUser(c: AppContext): UserRow {
  const user = currentUser(c);
  if (!user) throw OpenTalkError.unauthorized();
  return user;
}

/** The room if the signed-in caller may read it; 404 otherwise. */
export async function readableRoom(c: AppContext, roomId: string): Promise<RoomAccess> {
  const user = signedInUser(c);
  const db = database(c.env);
  const summary = await findRoomSummary(db, roomId.toLowerCase());
  if (!summary) throw OpenTalkError.notFound();
  const creator = summary.createdBy === user.id;
  if (!creator && !user.isAdmin && !(await isRoomMember(db, summary.id, user.id))) throw OpenTalkError.notFound();
  return { summary, user, creator, write: creator || user.isAdmin, stub: roomStub(c.env, summary.id) };
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

/** The room's live meta from its Durable Object (the sealed password is not in D1). */
export async function liveMeta(access: RoomAccess): Promise<RoomMeta> {
  const snapshot = await access.stub.snapshot();
  if (!snapshot) throw OpenTalkError.notFound();
  return snapshot.meta;
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
    default:
      return throwError(outcome.status === 404 ? OpenTalkError.notFound() : new OpenTalkError(outcome.status, "bad_request", outcome.reason));
  }
}

function throwError(err: OpenTalkError): never {
  throw err;
}
