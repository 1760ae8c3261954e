/** OpenTalk `/v1/rooms/{room_id}/sip`: the room's SIP dial-in configuration (reference §3.3, decision D20). */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { database } from "../db/client";
import { createSipConfig, deleteSipConfig, findSipConfig, updateSipConfig } from "../db/opentalk-rooms";
import type { OtSipConfigRow } from "../db/schema";
import { tariffAllows, tariffForUser } from "../db/tariffs";
import type { AppContext, AppEnv } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { nonEmpty } from "./non-empty";
import { RoomIdParams, writableRoom } from "./room-access";
import { featureDisabled } from "./rooms.routes";

const TAGS = ["sip"];

const SipConfigSchema = z
  .object({ room: z.uuid(), sip_id: z.string(), password: z.string(), lobby: z.boolean() })
  .openapi("SipConfig");

const TenDigits = z.string().refine((v) => /^\d{10}$/.test(v), { message: "must be a numeric string of 10 digits", params: { code: "invalid_value" } });

const PutSipConfig = nonEmpty(z.object({ password: TenDigits.optional(), lobby: z.boolean().optional() })).openapi("PutSipConfig");

const present = (row: OtSipConfigRow) => ({ room: row.roomId, sip_id: row.sipId, password: row.password, lobby: row.lobby });

/** The room (creator or administrator) whose creator's tariff allows call-in. */
async function sipRoom(c: AppContext, roomId: string) {
  const access = await writableRoom(c, roomId);
  const creator = access.summary.createdBy;
  if (!creator || !tariffAllows(await tariffForUser(database(c.env), creator), "core", "call_in")) throw featureDisabled("call_in");
  return access;
}

export function registerOpenTalkSipRoutes(app: OpenAPIHono<AppEnv>) {
  const path = "/v1/rooms/{room_id}/sip";

  otRoute(
    app,
    { method: "get", path, summary: "Get the room's SIP config", tags: TAGS, auth: "bearer", params: RoomIdParams, success: { status: 200, description: "SIP config", schema: SipConfigSchema } },
    async (c, { params }) => {
      const { summary } = await sipRoom(c, params.room_id);
      const row = await findSipConfig(database(c.env), summary.id);
      if (!row) throw OpenTalkError.notFound();
      return c.json(present(row));
    },
  );

  otRoute(
    app,
    {
      method: "put",
      path,
      summary: "Create (201) or modify (200) the room's SIP config",
      tags: TAGS,
      auth: "bearer",
      params: RoomIdParams,
      body: PutSipConfig,
      success: { status: 201, description: "SIP config (201 created, 200 modified)", schema: SipConfigSchema },
    },
    async (c, { params, body }) => {
      const { summary } = await sipRoom(c, params.room_id);
      const db = database(c.env);
      const fields = { ...(body.password !== undefined ? { password: body.password } : {}), ...(body.lobby !== undefined ? { lobby: body.lobby } : {}) };
      const existing = await updateSipConfig(db, summary.id, fields);
      if (existing) return c.json(present(existing), 200);
      return c.json(present(await createSipConfig(db, summary.id, fields)), 201);
    },
  );

  otRoute(
    app,
    { method: "delete", path, summary: "Delete the room's SIP config", tags: TAGS, auth: "bearer", params: RoomIdParams, success: { status: 204, description: "Deleted (also when there was none)" } },
    async (c, { params }) => {
      const { summary } = await sipRoom(c, params.room_id);
      await deleteSipConfig(database(c.env), summary.id);
      return c.body(null, 204);
    },
  );
}
