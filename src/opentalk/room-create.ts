/**
 * Creating an OpenTalk room: the one path for `POST /v1/rooms` and for the room each event owns,
 * so both are the same kind of room (reference §3.1, §3.4). The room Durable Object creates it (owned
 * by the creator, with its password and lobby) and indexes it in
 * D1; then the SIP dial-in config is added when asked for (`enable_sip` on POST /v1/rooms; event
 * rooms always get one, as in the reference). If that fails, the room goes again.
 *
 * The room is a Talk group room made by OpenTalk: its owner configures it, its members (event
 * invitees included) reach it through both dialects, guests only by invite code.
 */
import type { Db } from "../db/client";
import { createSipConfig } from "../db/opentalk-rooms";
import type { UserRow } from "../db/schema";
import { newRoomToken, roomStub } from "../room/directory";
import { storedPassword } from "../room/password";
import { openTalkCaller } from "./room-access";
import { RoomType, type RoomMeta } from "../room/types";

/** The Talk dialect needs a name; plain OpenTalk rooms have none. */
export const OPENTALK_ROOM_NAME = "OpenTalk meeting";

export interface NewOpenTalkRoom {
  /** The Talk conversation name: the event title, or OPENTALK_ROOM_NAME. */
  name: string;
  password: string | null;
  waitingRoom: boolean;
  enableSip: boolean;
  /** The room of an event: it removes itself if the event is never written (a crash between the two). */
  eventRoom?: boolean;
}

export async function createOpenTalkRoom(env: Env, db: Db, owner: UserRow, room: NewOpenTalkRoom): Promise<RoomMeta> {
  const id = crypto.randomUUID();
  const stub = roomStub(env, id);
  const password = room.password ? await storedPassword(env, room.password) : null;
  const snapshot = await stub.create({
    id,
    token: newRoomToken(),
    // A group room governed by its owner (origin "opentalk"): members and moderators come in through
    // Talk too, guests only by invite code (or a Talk public link once the owner makes it public).
    type: RoomType.Group,
    origin: "opentalk",
    eventRoom: room.eventRoom ?? false,
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
      await stub.destroy(openTalkCaller(owner));
      throw err;
    }
  }
  return snapshot.meta;
}
