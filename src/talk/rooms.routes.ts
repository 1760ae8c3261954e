/** Talk conversations: list, create, get (seed 003). */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { OFFLINE, type StatusFields, statusesByLogin } from "./status";
import { database } from "../db/client";
import { findOneToOne, roomsOfUser } from "../db/rooms";
import { findGroup, findUserByLogin, findUsersByIds, groupMemberIds } from "../db/users";
import { config } from "../lib/config";
import { currentUser, type AppEnv } from "../lib/context";
import { sha1Hex } from "../lib/crypto";
import { storedPassword } from "../room/password";
import { OcsError, ocsFail } from "../lib/errors";
import { ocsBool, ocsInt, ocsRoute } from "../lib/route";
import { newRoomToken, roomStub } from "../room/directory";
import { ParticipantType, RoomType, type NewMember, type RoomInit } from "../room/types";
import { EDGETALK_VERSION } from "../version";
import { roomByToken, talkCaller, TALK_V4 } from "./context";
import { presentIndex, presentView } from "./present";
import { sipConfigured } from "./webinar.routes";

const TAGS = ["Talk conversations"];

const CreateParams = z.object({
  roomType: ocsInt().optional(),
  invite: z.string().max(255).optional(),
  roomName: z.string().max(1000).optional(),
  source: z.string().max(32).optional(),
  password: z.string().max(1024).optional(),
});

/**
 * The `error` of a bad creation parameter, from the values the reference's document lists for this
 * operation (`invite`, `mode`, `object`, `password`, `permissions`, `room`, `type`): it has no
 * `name`, so a bad name is a bad `room`.
 */
const CREATE_INVALID = { roomType: "type", invite: "invite", roomName: "room", source: "invite", password: "password", "*": "room" } as const;

/**
 * List parameters. `modifiedSince` is accepted but every room is returned: a full list is always
 * correct, while filtering by last activity would hide settings changes from incremental clients.
 */
const ListParams = z.object({
  noStatusUpdate: ocsInt().optional(),
  includeStatus: ocsBool().optional(),
  modifiedSince: ocsInt().optional(),
  includeLastMessage: ocsBool().optional(),
});
const GetParams = z.object({ includeLastMessage: ocsBool().optional() });

/** The status of a one-to-one conversation's partner (its `name` is the partner's login). */
async function partnerStatus(env: Env, partner: string): Promise<StatusFields> {
  return (await statusesByLogin(env, [partner])).get(partner) ?? OFFLINE;
}

/** The hash clients compare to notice a server update: fixed for a deployment, so worked out once. */
let talkHashValue: string | undefined;
async function talkHash(): Promise<string> {
  talkHashValue ??= await sha1Hex(`edgetalk:${EDGETALK_VERSION.talk}`);
  return talkHashValue;
}

export function registerTalkRoomRoutes(app: OpenAPIHono<AppEnv>) {
  ocsRoute(
    app,
    { method: "get", path: `${TALK_V4}/room`, summary: "Get the user's conversations", tags: TAGS, auth: "user", params: ListParams },
    async (c, p) => {
      const user = currentUser(c);
      if (!user) throw new OcsError(401, [], "", 997);
      const modifiedBefore = String(Math.floor(Date.now() / 1000));
      const rows = await roomsOfUser(database(c.env), user.id);
      let data = await presentIndex(c.env, user, rows, { includeLastMessage: p.includeLastMessage });
      if (p.includeStatus) {
        // One-to-one conversations show the partner's status (their `name` is the partner's login).
        const partners = data.filter((r) => r.type === RoomType.OneToOne).map((r) => r.name);
        const statuses = await statusesByLogin(c.env, partners);
        data = data.map((r) => (r.type === RoomType.OneToOne ? { ...r, ...(statuses.get(r.name) ?? OFFLINE) } : r));
      }
      return {
        data,
        headers: { "X-Nextcloud-Talk-Hash": await talkHash(), "X-Nextcloud-Talk-Modified-Before": modifiedBefore },
      };
    },
  );

  ocsRoute(app, { method: "post", path: `${TALK_V4}/room`, summary: "Create a conversation", tags: TAGS, auth: "user", params: CreateParams, invalid: CREATE_INVALID }, async (c, p) => {
    const user = currentUser(c);
    if (!user) throw new OcsError(401, [], "", 997);
    const db = database(c.env);
    const type = p.roomType ?? RoomType.Group;
    if (type !== RoomType.OneToOne && type !== RoomType.Group && type !== RoomType.Public) throw ocsFail(400, "type");
    const id = crypto.randomUUID();
    const owner = { actorType: "users" as const, actorId: user.userid, displayName: user.displayName, userUuid: user.id };
    const base = { id, token: newRoomToken(sipConfigured(config(c.env))), type, createdBy: user.id, owner };
    let init: RoomInit;

    if (type === RoomType.OneToOne) {
      const target = p.invite ? await findUserByLogin(db, p.invite) : undefined;
      if (!target) throw ocsFail(404, "invite");
      if (target.id === user.id) throw ocsFail(403, "invite");
      const name = JSON.stringify([user.userid, target.userid].sort());
      const existing = await findOneToOne(db, name);
      if (existing) {
        const stub = roomStub(c.env, existing.id);
        await stub.addMembers([{ ...owner, participantType: ParticipantType.Owner }]);
        const view = await stub.view(await talkCaller(c));
        if (!view) throw new OcsError(404, []);
        return { status: 200, data: await presentView(c.env, view, existing.serial, user.userid) };
      }
      init = {
        ...base,
        name,
        members: [{ actorType: "users", actorId: target.userid, displayName: target.displayName, participantType: ParticipantType.Owner, userUuid: target.id }],
      };
    } else {
      let name = (p.roomName ?? "").trim();
      const members: NewMember[] = [];
      if (p.invite) {
        const group = await findGroup(db, p.invite);
        if (!group) throw ocsFail(404, "invite");
        members.push({ actorType: "groups", actorId: group.id, displayName: group.displayName, participantType: ParticipantType.User });
        for (const u of await findUsersByIds(db, await groupMemberIds(db, group.id))) {
          if (u.id !== user.id) members.push({ actorType: "users", actorId: u.userid, displayName: u.displayName, participantType: ParticipantType.User, userUuid: u.id });
        }
        if (!name) name = group.displayName;
      }
      if (!name || [...name].length > 255) throw ocsFail(400, CREATE_INVALID.roomName);
      const password = type === RoomType.Public && p.password ? p.password : null;
      init = {
        ...base,
        name,
        members,
        ...(password ? await storedPassword(c.env, password).then((p) => ({ passwordHash: p.hash, passwordSealed: p.sealed })) : {}),
      };
    }
    const stub = roomStub(c.env, id);
    await stub.create(init);
    const view = await stub.view(await talkCaller(c));
    const found = await roomByToken(c, init.token);
    if (!view) throw new OcsError(404, []);
    return { status: 201, data: await presentView(c.env, view, found.serial, user.userid) };
  });

  ocsRoute(app, { method: "get", path: `${TALK_V4}/room/{token}`, summary: "Get a conversation", tags: TAGS, auth: "public", params: GetParams }, async (c, p, path) => {
    const room = await roomByToken(c, path.token ?? "");
    const view = await room.stub.view(await talkCaller(c));
    // Non-members only see public rooms (as a skeleton).
    if (!view || (!view.attendee && view.meta.type !== RoomType.Public)) throw new OcsError(404, []);
    const user = currentUser(c);
    const data = await presentView(c.env, view, room.serial, user?.userid, { includeLastMessage: p.includeLastMessage });
    return {
      // A one-to-one conversation shows the partner's status to a signed-in member (spreed's
      // getSingleRoom asks for it always; the list only with includeStatus).
      data: user && view.meta.type === RoomType.OneToOne ? { ...data, ...(await partnerStatus(c.env, data.name)) } : data,
      headers: { "X-Nextcloud-Talk-Hash": await talkHash() },
    };
  });
}
