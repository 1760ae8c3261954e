/**
 * Creating an OpenTalk room: the one path for `POST /v1/rooms` and for the room each event owns,
 * so both are the same kind of room (reference §3.1, §3.4). The room Durable Object creates it (a
 * public Talk conversation owned by the creator, with its password and lobby) and indexes it in
 * D1; then the SIP dial-in config is added when asked for (`enable_sip` on POST /v1/rooms; event
 * rooms always get one, as in the reference). If that fails, the room goes again.
 */
import type { Db } from "../db/client";
import { createSipConfig } from "../db/opentalk-rooms";
import type { UserRow } from "../db/schema";
import { config } from "../lib/config";
import { hashPassword, seal } from "../lib/crypto";
import type { Caller } from "../room/outcome";
import { newRoomToken, roomStub } from "../room/directory";
import { RoomType, type RoomMeta } from "../room/types";

/** The Talk dialect needs a name; plain OpenTalk rooms have none. */
export const OPENTALK_ROOM_NAME = "OpenTalk meeting";

export interface NewOpenTalkRoom {
  /** The Talk conversation name: the event title, or OPENTALK_ROOM_NAME. */
  name: string;
  password: string | null;
  waitingRoom: boolean;
  enableSip: boolean;
}

export async function createOpenTalkRoom(env: Env, db: Db, owner: UserRow, room: NewOpenTalkRoom): Promise<RoomMeta> {
  const id = crypto.randomUUID();
  const stub = roomStub(env, id);
  const password = room.password ? await roomPassword(env, room.password) : null;
  const snapshot = await stub.create({
    id,
    token: newRoomToken(),
    // Public: guests join by invite code. The creator owns it (participant type 1).
    type: RoomType.Public,
    name: room.name,
    createdBy: owner.id,
    owner: { actorType: "users", actorId: owner.userid, displayName: owner.displayName, userUuid: owner.id },
    passwordHash: password?.hash ?? null,
    passwordSealed: password?.sealed ?? null,
    lobbyState: room.waitingRoom ? 1 : 0,
  });
  if (room.enableSip) {
    try {
      await createSipConfig(db, id, {});
    } catch (err) {
      await stub.destroy(ownerCaller(owner));
      throw err;
    }
  }
  return snapshot.meta;
}

/** The room's creator acting on it (they are its owner, a moderator). */
export function ownerCaller(owner: UserRow): Caller {
  return { kind: "user", userUuid: owner.id, userid: owner.userid, displayName: owner.displayName, cookie: "" };
}

/** A room password as the DO stores it. */
export async function roomPassword(env: Env, password: string): Promise<{ hash: string; sealed: string }> {
  return { hash: await hashPassword(password), sealed: await seal(config(env).secret, password) };
}
