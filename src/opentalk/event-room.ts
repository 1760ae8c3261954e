/**
 * The room an OpenTalk event owns, created through the room Durable Object only. Kept in one small
 * function so it can be unified with the /v1/rooms work (which creates plain rooms the same way).
 */
import type { UserRow } from "../db/schema";
import { config } from "../lib/config";
import { hashPassword, seal } from "../lib/crypto";
import type { Caller } from "../room/outcome";
import { newRoomToken, roomStub } from "../room/directory";
import { RoomType } from "../room/types";

export async function createEventRoom(env: Env, owner: UserRow, title: string, password: string | null, waitingRoom: boolean): Promise<string> {
  const id = crypto.randomUUID();
  await roomStub(env, id).create({
    id,
    token: newRoomToken(),
    type: RoomType.Public,
    name: title,
    createdBy: owner.id,
    owner: { actorType: "users", actorId: owner.userid, displayName: owner.displayName, userUuid: owner.id },
    ...(password ? { passwordHash: await hashPassword(password), passwordSealed: await seal(config(env).secret, password) } : {}),
    lobbyState: waitingRoom ? 1 : 0,
  });
  return id;
}

/** The event creator acting on their room (they are its owner, a moderator). */
export function ownerCaller(owner: UserRow): Caller {
  return { kind: "user", userUuid: owner.id, userid: owner.userid, displayName: owner.displayName, cookie: "" };
}

/** A room password as the DO stores it. */
export async function roomPassword(env: Env, password: string): Promise<{ hash: string; sealed: string }> {
  return { hash: await hashPassword(password), sealed: await seal(config(env).secret, password) };
}
