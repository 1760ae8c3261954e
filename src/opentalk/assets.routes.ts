/**
 * OpenTalk assets (seed 004, reference §3.9, §1.4): a room's readers list and download its
 * assets, its writers delete them; `GET /v1/users/me/assets` lists the assets of the rooms the
 * caller created (reference v0.30). Uploads come from services: see recording.routes.ts.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { asc, count, desc, eq } from "drizzle-orm";
import { database } from "../db/client";
import { assets, events, rooms } from "../db/schema";
import type { AppEnv } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { assetKey, assetResource, findRoomAsset, ownedAssetResource } from "./asset-store";
import { PageQuery, pageLinkHeader, pageOffset } from "./pagination";
import { readableRoom, signedInUser, writableRoom } from "./room-access";

const TAGS = ["assets"];

export const AssetSchema = z
  .object({
    id: z.uuid(),
    filename: z.string(),
    namespace: z.string().optional(),
    created_at: z.string().openapi({ description: "RFC 3339" }),
  })
  .openapi("Asset");

const UserAssetSchema = AssetSchema.extend({ kind: z.string(), size: z.number().int(), room_id: z.uuid(), event_id: z.uuid().optional() }).openapi("UserAsset");

const RoomParams = z.object({ room_id: z.uuid() });
const AssetParams = z.object({ room_id: z.uuid(), asset_id: z.uuid() });

const SORT_COLUMNS = { filename: assets.filename, size: assets.size, namespace: assets.namespace, kind: assets.kind, created_at: assets.createdAt } as const;
const UserAssetsQuery = PageQuery.extend({
  sort: z.enum(["filename", "size", "namespace", "kind", "created_at"]).optional().default("created_at"),
  order: z.enum(["ascending", "descending"]).optional().default("ascending"),
});

/** `attachment; filename="…"` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987). */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export function registerAssetRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    {
      method: "get",
      path: "/v1/rooms/{room_id}/assets",
      summary: "Get assets for a room",
      tags: TAGS,
      auth: "bearer",
      params: RoomParams,
      query: PageQuery,
      success: { status: 200, description: "Assets, with a page Link header", schema: z.array(AssetSchema) },
    },
    async (c, { params, query }) => {
      const access = await readableRoom(c, params.room_id);
      const db = database(c.env);
      const where = eq(assets.roomId, access.summary.id);
      const [rows, total] = await Promise.all([
        db
          .select()
          .from(assets)
          .where(where)
          .orderBy(asc(assets.createdAt), asc(assets.id))
          .limit(query.per_page)
          .offset(pageOffset(query.page, query.per_page)),
        db.select({ n: count() }).from(assets).where(where).get(),
      ]);
      const link = pageLinkHeader(c.req.url, query.page, query.per_page, total?.n ?? 0);
      if (link) c.header("Link", link);
      return c.json(rows.map(assetResource));
    },
  );

  otRoute(
    app,
    {
      method: "get",
      path: "/v1/rooms/{room_id}/assets/{asset_id}",
      summary: "Get an asset (its bytes)",
      tags: TAGS,
      auth: "bearer",
      params: AssetParams,
      success: { status: 200, description: "The asset's contents (application/octet-stream)" },
    },
    async (c, { params }) => {
      const access = await readableRoom(c, params.room_id);
      const asset = await findRoomAsset(database(c.env), access.summary.id, params.asset_id);
      const object = await c.env.ASSETS.get(assetKey(asset.roomId, asset.id));
      if (!object) throw OpenTalkError.notFound();
      return new Response(object.body, {
        status: 200,
        headers: {
          "Content-Type": asset.contentType,
          "Content-Length": String(object.size),
          "Content-Disposition": contentDisposition(asset.filename),
        },
      });
    },
  );

  otRoute(
    app,
    {
      method: "delete",
      path: "/v1/rooms/{room_id}/assets/{asset_id}",
      summary: "Delete an asset",
      tags: TAGS,
      auth: "bearer",
      params: AssetParams,
      success: { status: 204, description: "Deleted from the room and from storage" },
    },
    async (c, { params }) => {
      const access = await writableRoom(c, params.room_id);
      const db = database(c.env);
      const asset = await findRoomAsset(db, access.summary.id, params.asset_id);
      await db.delete(assets).where(eq(assets.id, asset.id));
      await c.env.ASSETS.delete(assetKey(asset.roomId, asset.id));
      return c.body(null, 204);
    },
  );

  otRoute(
    app,
    {
      method: "get",
      path: "/v1/users/me/assets",
      summary: "Assets of the rooms the caller created",
      tags: [...TAGS, "users"],
      auth: "bearer",
      query: UserAssetsQuery,
      success: { status: 200, description: "`{owned_assets}`, with a page Link header", schema: z.object({ owned_assets: z.array(UserAssetSchema) }) },
    },
    async (c, { query }) => {
      const user = signedInUser(c);
      const db = database(c.env);
      const owned = eq(rooms.createdBy, user.id);
      const direction = query.order === "descending" ? desc : asc;
      const [rows, total] = await Promise.all([
        db
          .select({ asset: assets, eventId: events.id })
          .from(assets)
          .innerJoin(rooms, eq(rooms.id, assets.roomId))
          .leftJoin(events, eq(events.roomId, assets.roomId))
          .where(owned)
          .orderBy(direction(SORT_COLUMNS[query.sort]), direction(assets.id))
          .limit(query.per_page)
          .offset(pageOffset(query.page, query.per_page)),
        db.select({ n: count() }).from(assets).innerJoin(rooms, eq(rooms.id, assets.roomId)).where(owned).get(),
      ]);
      const link = pageLinkHeader(c.req.url, query.page, query.per_page, total?.n ?? 0);
      if (link) c.header("Link", link);
      return c.json({
        owned_assets: rows.map(({ asset, eventId }) => ownedAssetResource(asset, eventId)),
      });
    },
  );
}
