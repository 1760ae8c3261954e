/** OpenTalk invite codes (guest links): per-room CRUD and POST /v1/invite/verify (reference §3.2). */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import type { Db } from "../db/client";
import { database } from "../db/client";
import { createInvite, findInvite, findRoomSummary, inviteUsable, listInvitesPage, updateInvite } from "../db/opentalk-rooms";
import type { OtInviteRow } from "../db/schema";
import { findUsersByIds } from "../db/users";
import type { AppEnv } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { PageQuery, pageLinkHeader, pageOffset } from "./pagination";
import { PublicUserProfileSchema, publicUserProfile, type PublicUserProfile } from "./profiles";
import { guestsByInviteCode } from "../room/rules";
import { nonEmpty } from "./non-empty";
import { writableRoom } from "./room-access";

const TAGS = ["rooms"];

const InviteParams = z.object({ room_id: z.uuid(), invite_code: z.uuid() });

const InviteCodeSchema = z
  .object({
    invite_code: z.uuid(),
    created: z.string(),
    created_by: PublicUserProfileSchema,
    updated: z.string(),
    updated_by: PublicUserProfileSchema,
    room: z.uuid().openapi({ description: "The room id (the seed's name; decision D5)" }),
    active: z.boolean(),
    expiration: z.string().nullable(),
  })
  .openapi("InviteCode");

const Expiration = z.iso.datetime({ offset: true }).nullish().openapi({ description: "RFC 3339; null or absent: no expiration" });
const InviteBody = z.object({ expiration: Expiration }).openapi("PostInviteBody");
/** PUT replaces the expiration: `null` clears it; the seed's body is "non-empty", so `{}` is 422. */
const PutInviteBody = nonEmpty(z.object({ expiration: Expiration })).openapi("PutInviteBody");
const VerifyBody = z.object({ invite_code: z.uuid() }).openapi("VerifyBody");

const toMillis = (value: string | null | undefined) => (value ? Date.parse(value) : null);

async function presentInvites(db: Db, rows: OtInviteRow[]) {
  const ids = [...new Set(rows.flatMap((r) => [r.createdBy, r.updatedBy]))];
  const profiles = new Map<string, PublicUserProfile>();
  for (const u of await findUsersByIds(db, ids)) profiles.set(u.id, await publicUserProfile(u));
  const profile = (id: string): PublicUserProfile =>
    profiles.get(id) ?? { id, email: "", title: "", firstname: "", lastname: "", display_name: "", avatar_url: "" };
  return rows.map((r) => ({
    invite_code: r.code,
    created: new Date(r.createdAt).toISOString(),
    created_by: profile(r.createdBy),
    updated: new Date(r.updatedAt).toISOString(),
    updated_by: profile(r.updatedBy),
    room: r.roomId,
    active: r.active,
    expiration: r.expiration === null ? null : new Date(r.expiration).toISOString(),
  }));
}

/** The invite if it belongs to this room (404 otherwise: codes of other rooms stay invisible). */
async function roomInvite(db: Db, roomId: string, code: string): Promise<OtInviteRow> {
  const invite = await findInvite(db, code);
  if (!invite || invite.roomId !== roomId) throw OpenTalkError.notFound();
  return invite;
}

export function registerOpenTalkInviteRoutes(app: OpenAPIHono<AppEnv>) {
  const base = "/v1/rooms/{room_id}/invites";

  otRoute(
    app,
    {
      method: "get",
      path: base,
      summary: "Get all invites of a room",
      tags: TAGS,
      auth: "bearer",
      params: z.object({ room_id: z.uuid() }),
      query: PageQuery,
      success: { status: 200, description: "Invite codes, with a page Link header", schema: z.array(InviteCodeSchema) },
    },
    async (c, { params, query }) => {
      const { summary } = await writableRoom(c, params.room_id);
      const db = database(c.env);
      const { rows, total } = await listInvitesPage(db, summary.id, query.per_page, pageOffset(query.page, query.per_page));
      const link = pageLinkHeader(c.req.url, query.page, query.per_page, total);
      if (link) c.header("Link", link);
      return c.json(await presentInvites(db, rows));
    },
  );

  otRoute(
    app,
    {
      method: "post",
      path: base,
      summary: "Create a new invite",
      tags: TAGS,
      auth: "bearer",
      params: z.object({ room_id: z.uuid() }),
      body: InviteBody,
      bodyRequired: false,
      success: { status: 200, description: "The invite code (200, as both reference specs say; decision D2)", schema: InviteCodeSchema },
    },
    async (c, { params, body }) => {
      const { summary, user, grant } = await writableRoom(c, params.room_id);
      // Invite codes bring guests: only into rooms that take them (not one-to-one or private Talk rooms).
      if (!guestsByInviteCode(grant.meta)) throw OpenTalkError.forbidden("Guests cannot join this room");
      const db = database(c.env);
      const invite = await createInvite(db, summary.id, user.id, toMillis(body.expiration));
      return c.json((await presentInvites(db, [invite]))[0]);
    },
  );

  otRoute(
    app,
    { method: "get", path: `${base}/{invite_code}`, summary: "Get an invite", tags: TAGS, auth: "bearer", params: InviteParams, success: { status: 200, description: "The invite code", schema: InviteCodeSchema } },
    async (c, { params }) => {
      const { summary } = await writableRoom(c, params.room_id);
      const db = database(c.env);
      return c.json((await presentInvites(db, [await roomInvite(db, summary.id, params.invite_code)]))[0]);
    },
  );

  otRoute(
    app,
    {
      method: "put",
      path: `${base}/{invite_code}`,
      summary: "Update an invite code",
      tags: TAGS,
      auth: "bearer",
      params: InviteParams,
      body: PutInviteBody,
      success: { status: 200, description: "The updated invite code; `expiration: null` clears it", schema: InviteCodeSchema },
    },
    async (c, { params, body }) => {
      const { summary, user } = await writableRoom(c, params.room_id);
      const db = database(c.env);
      const invite = await roomInvite(db, summary.id, params.invite_code);
      const updated = await updateInvite(db, invite.code, { expiration: toMillis(body.expiration) }, user.id);
      if (!updated) throw OpenTalkError.notFound();
      return c.json((await presentInvites(db, [updated]))[0]);
    },
  );

  otRoute(
    app,
    { method: "delete", path: `${base}/{invite_code}`, summary: "Delete an invite code", tags: TAGS, auth: "bearer", params: InviteParams, success: { status: 204, description: "Deactivated" } },
    async (c, { params }) => {
      const { summary, user } = await writableRoom(c, params.room_id);
      const db = database(c.env);
      const invite = await roomInvite(db, summary.id, params.invite_code);
      // Soft delete, as the reference: the code stays listed with `active: false` and stops working.
      await updateInvite(db, invite.code, { active: false }, user.id);
      return c.body(null, 204);
    },
  );

  otRoute(
    app,
    {
      method: "post",
      path: "/v1/invite/verify",
      summary: "Verify an invite code",
      tags: ["invites"],
      auth: "none",
      body: VerifyBody,
      success: { status: 201, description: "`{room_id, password_required}`: 201 as the seed's document says (decision D3: the seed wins; the reference code answers 200)" },
    },
    async (c, { body }) => {
      const db = database(c.env);
      const invite = await findInvite(db, body.invite_code);
      if (!inviteUsable(invite)) throw OpenTalkError.notFound();
      const room = await findRoomSummary(db, invite.roomId);
      if (!room) throw OpenTalkError.notFound();
      return c.json({ room_id: room.id, password_required: room.hasPassword }, 201);
    },
  );
}
