/**
 * OpenTalk `/v1/rooms/{room_id}/streaming_targets` (seed 004, reference §3.8, §1.4): the room's
 * live-stream destinations. Room readers list them; getting, changing or deleting one needs the
 * write grant (the reference grants `/streaming_targets/*` to the creator only). The stream key
 * is shown to the room's creator only. Changes mail the event's invitees unless suppressed.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { and, asc, count, eq } from "drizzle-orm";
import { database, type Db } from "../db/client";
import { events, roomStreamingTargets, type StreamingTargetRow, type UserRow } from "../db/schema";
import type { AppEnv } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { inviteeAddresses, notify } from "./events.access";
import { streamingTargetResource } from "./events.present";
import { StreamingTargetBody, SuppressQuery } from "./events.schemas";
import { PageQuery, pageLinkHeader, pageOffset } from "./pagination";
import { readableRoom, type RoomAccess, writableRoom } from "./room-access";
import { ParticipantType } from "../room/types";

const TAGS = ["streaming_targets"];

export const StreamingTargetSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.literal("custom"),
    streaming_endpoint: z.string(),
    streaming_key: z.string().openapi({ description: "Empty for everyone but the room's creator" }),
    public_url: z.string(),
  })
  .openapi("StreamingTarget");

const fields = StreamingTargetBody.shape;
/** Any subset; `null` leaves a field unchanged (the later spec marks them nullable). */
const PatchStreamingTargetBody = z
  .object({
    name: fields.name.nullish(),
    kind: fields.kind.nullish(),
    streaming_endpoint: fields.streaming_endpoint.nullish(),
    streaming_key: fields.streaming_key.nullish(),
    public_url: fields.public_url.nullish(),
  })
  .openapi("PatchStreamingTargetBody");

const RoomParams = z.object({ room_id: z.uuid() });
const TargetParams = z.object({ room_id: z.uuid(), streaming_target_id: z.uuid() });

async function findTarget(db: Db, roomId: string, targetId: string): Promise<StreamingTargetRow> {
  const row = await db
    .select()
    .from(roomStreamingTargets)
    .where(and(eq(roomStreamingTargets.roomId, roomId), eq(roomStreamingTargets.id, targetId.toLowerCase())))
    .get();
  if (!row) throw OpenTalkError.notFound();
  return row;
}

/** Mails the invitees of the room's event (if the room belongs to one) about the change. */
async function notifyEvent(db: Db, roomId: string, sender: UserRow, suppress: boolean | undefined): Promise<void> {
  if (suppress) return;
  const ev = await db.select().from(events).where(eq(events.roomId, roomId)).get();
  if (ev) await notify(db, ev, sender, "event_update", await inviteeAddresses(db, ev.id), suppress);
}

const present = (access: RoomAccess, row: StreamingTargetRow) => streamingTargetResource(row, access.grant.attendee?.participantType === ParticipantType.Owner);

export function registerStreamingTargetRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    {
      method: "get",
      path: "/v1/rooms/{room_id}/streaming_targets",
      summary: "List the streaming targets for a room",
      tags: TAGS,
      auth: "bearer",
      params: RoomParams,
      query: PageQuery,
      success: { status: 200, description: "Streaming targets, with a page Link header", schema: z.array(StreamingTargetSchema) },
    },
    async (c, { params, query }) => {
      const access = await readableRoom(c, params.room_id);
      const db = database(c.env);
      const where = eq(roomStreamingTargets.roomId, access.summary.id);
      const [rows, total] = await Promise.all([
        db
          .select()
          .from(roomStreamingTargets)
          .where(where)
          .orderBy(asc(roomStreamingTargets.createdAt), asc(roomStreamingTargets.id))
          .limit(query.per_page)
          .offset(pageOffset(query.page, query.per_page)),
        db.select({ n: count() }).from(roomStreamingTargets).where(where).get(),
      ]);
      const link = pageLinkHeader(c.req.url, query.page, query.per_page, total?.n ?? 0);
      if (link) c.header("Link", link);
      return c.json(rows.map((row) => present(access, row)));
    },
  );

  otRoute(
    app,
    {
      method: "post",
      path: "/v1/rooms/{room_id}/streaming_targets",
      summary: "Create a streaming target for a room",
      tags: TAGS,
      auth: "bearer",
      params: RoomParams,
      query: SuppressQuery,
      body: StreamingTargetBody,
      success: { status: 201, description: "The streaming target (decision D1: 201)", schema: StreamingTargetSchema },
    },
    async (c, { params, query, body }) => {
      const access = await writableRoom(c, params.room_id);
      const db = database(c.env);
      const row: StreamingTargetRow = {
        id: crypto.randomUUID(),
        roomId: access.summary.id,
        name: body.name,
        kind: body.kind,
        streamingEndpoint: body.streaming_endpoint,
        streamingKey: body.streaming_key,
        publicUrl: body.public_url,
        createdAt: Date.now(),
      };
      await db.insert(roomStreamingTargets).values(row);
      await notifyEvent(db, row.roomId, access.user, query.suppress_email_notification);
      return c.json(present(access, row), 201);
    },
  );

  otRoute(
    app,
    {
      method: "get",
      path: "/v1/rooms/{room_id}/streaming_targets/{streaming_target_id}",
      summary: "Get the streaming target for a room",
      tags: TAGS,
      auth: "bearer",
      params: TargetParams,
      success: { status: 200, description: "The streaming target", schema: StreamingTargetSchema },
    },
    async (c, { params }) => {
      const access = await writableRoom(c, params.room_id);
      return c.json(present(access, await findTarget(database(c.env), access.summary.id, params.streaming_target_id)));
    },
  );

  otRoute(
    app,
    {
      method: "patch",
      path: "/v1/rooms/{room_id}/streaming_targets/{streaming_target_id}",
      summary: "Update a streaming target for a room",
      tags: TAGS,
      auth: "bearer",
      params: TargetParams,
      query: SuppressQuery,
      body: PatchStreamingTargetBody,
      success: { status: 200, description: "The updated streaming target; an empty patch is a 400", schema: StreamingTargetSchema },
    },
    async (c, { params, query, body }) => {
      const access = await writableRoom(c, params.room_id);
      const db = database(c.env);
      const target = await findTarget(db, access.summary.id, params.streaming_target_id);
      const changes = {
        ...(body.name != null ? { name: body.name } : {}),
        ...(body.kind != null ? { kind: body.kind } : {}),
        ...(body.streaming_endpoint != null ? { streamingEndpoint: body.streaming_endpoint } : {}),
        ...(body.streaming_key != null ? { streamingKey: body.streaming_key } : {}),
        ...(body.public_url != null ? { publicUrl: body.public_url } : {}),
      };
      if (Object.keys(changes).length === 0) throw OpenTalkError.badRequest("Nothing to update");
      await db.update(roomStreamingTargets).set(changes).where(eq(roomStreamingTargets.id, target.id));
      await notifyEvent(db, target.roomId, access.user, query.suppress_email_notification);
      return c.json(present(access, { ...target, ...changes }));
    },
  );

  otRoute(
    app,
    {
      method: "delete",
      path: "/v1/rooms/{room_id}/streaming_targets/{streaming_target_id}",
      summary: "Delete the streaming target for a room",
      tags: TAGS,
      auth: "bearer",
      params: TargetParams,
      query: SuppressQuery,
      success: { status: 204, description: "Deleted" },
    },
    async (c, { params, query }) => {
      const access = await writableRoom(c, params.room_id);
      const db = database(c.env);
      const target = await findTarget(db, access.summary.id, params.streaming_target_id);
      await db.delete(roomStreamingTargets).where(eq(roomStreamingTargets.id, target.id));
      await notifyEvent(db, target.roomId, access.user, query.suppress_email_notification);
      return c.body(null, 204);
    },
  );
}
