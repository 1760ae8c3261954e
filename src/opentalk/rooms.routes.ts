/** OpenTalk `/v1/rooms`: list, create, get, patch, delete, and the room's tariff (seed 004, reference §3.1). */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { database } from "../db/client";
import { events, type RoomRow } from "../db/schema";
import { accessibleRoomsPage, findInvite, findRoomSummary, inviteUsable } from "../db/opentalk-rooms";
import { tariffAllows, tariffForUser } from "../db/tariffs";
import { type AppContext, type AppEnv, currentUser } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { roomStub } from "../room/directory";
import { storedPassword } from "../room/password";
import { deleteAssetBytes, roomAssetKeys } from "./asset-store";
import { createOpenTalkRoom, OPENTALK_ROOM_NAME } from "./room-create";
import { PageQuery, pageLinkHeader, pageOffset } from "./pagination";
import { readableRoom, RoomIdParams, roomResource, RoomSchema, signedInUser, unwrapOutcome, writableRoom } from "./room-access";
import { TariffSchema } from "./tariffs.routes";

const TAGS = ["rooms"];

const Password = z.string().min(1).max(255);

const PostRoomsBody = z
  .object({
    // The seed marks password and enable_sip required; the reference treats both as optional (D11).
    password: Password.nullish(),
    enable_sip: z.boolean().optional().default(false),
    waiting_room: z.boolean().optional().default(false),
  })
  .openapi("PostRoomsBody");

const PatchRoomsBody = z
  .object({
    password: Password.nullish().openapi({ description: "null removes the password; absent leaves it" }),
    waiting_room: z.boolean().optional(),
  })
  .openapi("PatchRoomsBody");

export const featureDisabled = (feature: string) => OpenTalkError.forbidden(`The feature "${feature}" is disabled`, "feature_disabled");

export function registerOpenTalkRoomRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    {
      method: "get",
      path: "/v1/rooms",
      summary: "Get a list of accessible rooms",
      tags: TAGS,
      auth: "bearer",
      query: PageQuery,
      success: { status: 200, description: "Rooms, with a page Link header", schema: z.array(RoomSchema) },
    },
    async (c, { query }) => {
      const user = signedInUser(c);
      const { rows, total } = await accessibleRoomsPage(database(c.env), user.id, user.isAdmin, query.per_page, pageOffset(query.page, query.per_page));
      const link = pageLinkHeader(c.req.url, query.page, query.per_page, total);
      if (link) c.header("Link", link);
      const items = await Promise.all(
        rows.map(async (row) => {
          const mayShow = row.createdBy === user.id || user.isAdmin;
          // Only the room object holds the sealed password: ask it only when it will be shown.
          const meta = mayShow && row.hasPassword ? (await roomStub(c.env, row.id).snapshot())?.meta : undefined;
          return roomResource(c, meta ?? { ...row, passwordSealed: null }, mayShow);
        }),
      );
      return c.json(items);
    },
  );

  otRoute(
    app,
    { method: "post", path: "/v1/rooms", summary: "Create a new room", tags: TAGS, auth: "bearer", body: PostRoomsBody, success: { status: 201, description: "The room", schema: RoomSchema } },
    async (c, { body }) => {
      const user = signedInUser(c);
      const db = database(c.env);
      if (body.enable_sip && !tariffAllows(await tariffForUser(db, user.id), "core", "call_in")) throw featureDisabled("call_in");
      const meta = await createOpenTalkRoom(c.env, db, user, { name: OPENTALK_ROOM_NAME, password: body.password ?? null, waitingRoom: body.waiting_room, enableSip: body.enable_sip });
      return c.json(await roomResource(c, meta, true), 201);
    },
  );

  otRoute(
    app,
    { method: "get", path: "/v1/rooms/{room_id}", summary: "Get a room", tags: TAGS, auth: "bearer", params: RoomIdParams, success: { status: 200, description: "The room", schema: RoomSchema } },
    async (c, { params }) => {
      const access = await readableRoom(c, params.room_id);
      return c.json(await roomResource(c, access.grant.meta, access.write));
    },
  );

  otRoute(
    app,
    {
      method: "patch",
      path: "/v1/rooms/{room_id}",
      summary: "Patch a room",
      tags: TAGS,
      auth: "bearer",
      params: RoomIdParams,
      body: PatchRoomsBody,
      success: { status: 200, description: "The room; an empty patch changes nothing", schema: RoomSchema },
    },
    async (c, { params, body }) => {
      const access = await writableRoom(c, params.room_id);
      const password = body.password === undefined ? undefined : body.password === null ? null : await storedPassword(c.env, body.password);
      const patch = { password, lobby: body.waiting_room === undefined ? undefined : { state: body.waiting_room ? 1 : 0 } };
      const view = unwrapOutcome(await access.stub.updateSettings(access.caller, patch));
      return c.json(await roomResource(c, view.meta, true));
    },
  );

  otRoute(
    app,
    { method: "delete", path: "/v1/rooms/{room_id}", summary: "Delete a room", tags: TAGS, auth: "bearer", params: RoomIdParams, success: { status: 204, description: "Deleted" } },
    async (c, { params }) => {
      const access = await writableRoom(c, params.room_id);
      // Invites, SIP config, tickets, asset rows and streaming targets go with the D1 room row
      // (foreign keys, on delete cascade); the assets' bytes are in R2.
      const assets = await roomAssetKeys(database(c.env), access.summary.id);
      unwrapOutcome(await access.stub.destroy(access.caller));
      await deleteAssetBytes(c.env, assets);
      return c.body(null, 204);
    },
  );

  otRoute(
    app,
    {
      method: "get",
      path: "/v1/rooms/{room_id}/tariff",
      summary: "Get a room's tariff information",
      tags: [...TAGS, "tariff"],
      auth: "bearer-or-invite",
      params: RoomIdParams,
      success: { status: 200, description: "The tariff of the room's creator", schema: TariffSchema },
    },
    async (c, { params }) => {
      const summary = await roomForReaderOrGuest(c, params.room_id);
      if (!summary.createdBy) throw OpenTalkError.notFound();
      return c.json(await tariffForUser(database(c.env), summary.createdBy));
    },
  );

  otRoute(
    app,
    {
      method: "get",
      path: "/v1/rooms/{room_id}/event",
      summary: "Get a room's event information",
      tags: [...TAGS, "events"],
      auth: "bearer-or-invite",
      params: RoomIdParams,
      success: { status: 200, description: "The event the room belongs to; 404 when it has none", schema: EventInfoSchema },
    },
    async (c, { params }) => {
      const summary = await roomForReaderOrGuest(c, params.room_id);
      const ev = await database(c.env)
        .select({ id: events.id, title: events.title, is_adhoc: events.isAdhoc })
        .from(events)
        .where(eq(events.roomId, summary.id))
        .get();
      if (!ev) throw OpenTalkError.notFound();
      return c.json(ev);
    },
  );
}

const EventInfoSchema = z.object({ id: z.uuid(), title: z.string(), is_adhoc: z.boolean() }).openapi("EventInfo");

/**
 * The room for its readers (creator, members, administrators) or for a guest holding one of its
 * usable invite codes (`Authorization: InviteCode <code>`, reference §2.3); 404 for anyone else.
 */
async function roomForReaderOrGuest(c: AppContext, roomIdParam: string): Promise<RoomRow> {
  const db = database(c.env);
  const roomId = roomIdParam.toLowerCase();
  const summary = await findRoomSummary(db, roomId);
  const header = c.req.header("authorization") ?? "";
  const user = currentUser(c);
  let allowed = false;
  if (user) {
    return (await readableRoom(c, roomId)).summary;
  } else if (/^invitecode\s/i.test(header)) {
    const invite = await findInvite(db, header.slice(11).trim());
    allowed = !!summary && inviteUsable(invite) && invite.roomId === roomId;
  } else {
    throw OpenTalkError.unauthorized("Unable to parse access token or invite code");
  }
  if (!allowed || !summary) throw OpenTalkError.notFound();
  return summary;
}
