/**
 * Signaling tickets and the signaling WebSocket (reference §3.1, §3.3, §5.1):
 * POST /v1/rooms/{id}/start (users), /start_invited (guests with an invite code and the room
 * password), /v1/services/call_in/start (SIP gateways), and GET /signaling, where the Worker
 * redeems the ticket and hands the upgrade to the room's Durable Object.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import type { Db } from "../db/client";
import { database } from "../db/client";
import { eq } from "drizzle-orm";
import { events } from "../db/schema";
import { findUserById } from "../db/users";
import { findInvite, findRoomSummary, findSipConfigBySipId, inviteUsable, redeemTicket, storeTicket, TICKET_LENGTH } from "../db/opentalk-rooms";
import { type TariffResource, tariffAllows, tariffForUser } from "../db/tariffs";
import type { AppContext, AppEnv } from "../lib/context";
import { ALNUM, randomString, timingSafeEqual } from "../lib/crypto";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { roomStub } from "../room/directory";
import { SIGNALING_PROTOCOL } from "./signaling/frames";
import { ENTRANT_HEADER, type SignalingStart, type TicketEntrant } from "./signaling/protocol";
import { avatarUrl } from "./profiles";
import { readableRoom, RoomIdParams, unwrapOutcome } from "./room-access";
import { featureDisabled } from "./rooms.routes";

const TAGS = ["signaling"];
export const CALL_IN_ROLE = "opentalk-call-in";
/** Names shown for participants who do not name themselves before joining. */
const GUEST_NAME = "Guest";
const CALL_IN_NAME = "Call-in participant";

const TicketSchema = z.object({ ticket: z.string(), resumption: z.string() }).openapi("TicketResponse");
const StartBody = z
  .object({
    // The seed types breakout_room as integer; it is a UUID (decision D8).
    breakout_room: z.uuid().optional(),
    resumption: z.string().max(256).optional(),
  })
  .openapi("PostRoomsStartRequestBody");
const StartInvitedBody = z
  .object({
    password: z.string().max(128).optional(),
    breakout_room: z.uuid().optional(),
    invite_code: z.string().max(128),
    resumption: z.string().max(256).optional(),
  })
  .openapi("PostRoomsStartInvitedRequestBody");
const CallInBody = z.object({ id: z.string().max(10), pin: z.string().max(10) }).openapi("CallInStartRequestBody");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reserves the participant in the room object and stores a single-use ticket for it. */
/** What join_success shows about the room and its event, looked up when the ticket is issued. */
async function roomContext(db: Db, roomId: string, createdBy: string | null): Promise<Pick<SignalingStart, "creator" | "eventInfo">> {
  const [creator, ev] = await Promise.all([
    createdBy ? findUserById(db, createdBy) : Promise.resolve(undefined),
    db.select({ id: events.id, title: events.title, is_adhoc: events.isAdhoc }).from(events).where(eq(events.roomId, roomId)).get(),
  ]);
  return {
    creator: {
      title: creator?.title ?? "",
      firstname: creator?.firstname ?? "",
      lastname: creator?.lastname ?? "",
      display_name: creator?.displayName ?? "",
      avatar_url: creator ? await avatarUrl(creator.email) : "",
    },
    eventInfo: ev ? { id: ev.id, room_id: roomId, title: ev.title, is_adhoc: ev.is_adhoc } : null,
  };
}

async function issueTicket(c: AppContext, db: Db, room: { id: string; createdBy: string | null }, entrant: Omit<SignalingStart, "creator" | "eventInfo">) {
  const start: SignalingStart = { ...entrant, ...(await roomContext(db, room.id, room.createdBy)) };
  const roomId = room.id;
  const prepared = unwrapOutcome(await roomStub(c.env, roomId).prepareSignaling(start));
  const ticket = randomString(TICKET_LENGTH, ALNUM);
  await storeTicket(db, ticket, roomId, { participantId: prepared.participantId } satisfies TicketEntrant);
  return c.json({ ticket, resumption: prepared.resumption });
}

async function roomTariff(db: Db, createdBy: string | null): Promise<TariffResource> {
  if (!createdBy) throw OpenTalkError.notFound();
  return tariffForUser(db, createdBy);
}

function signalingError(status: number, code: string, message: string): OpenTalkError {
  return new OpenTalkError(status, code, message);
}

export function registerOpenTalkSignalingRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    {
      method: "post",
      path: "/v1/rooms/{room_id}/start",
      summary: "Start a signaling session as a registered user",
      tags: TAGS,
      auth: "bearer",
      params: RoomIdParams,
      body: StartBody,
      success: { status: 200, description: "A ticket for /signaling and a resumption token", schema: TicketSchema },
    },
    async (c, { params, body }) => {
      const { summary, user } = await readableRoom(c, params.room_id);
      const db = database(c.env);
      // Registered users need no room password: access is by membership (reference §3.1).
      return issueTicket(c, db, summary, {
        kind: "user",
        userUuid: user.id,
        userid: user.userid,
        admin: user.isAdmin,
        displayName: user.displayName,
        avatarUrl: await avatarUrl(user.email),
        tariff: await roomTariff(db, summary.createdBy),
        checkPassword: false,
        resumption: body.resumption,
        breakoutRoom: body.breakout_room,
      });
    },
  );

  otRoute(
    app,
    {
      method: "post",
      path: "/v1/rooms/{room_id}/start_invited",
      summary: "Start a signaling session for an invite code",
      tags: TAGS,
      auth: "none",
      params: RoomIdParams,
      body: StartInvitedBody,
      success: { status: 200, description: "A ticket for /signaling and a resumption token", schema: TicketSchema },
    },
    async (c, { params, body }) => {
      if (!UUID.test(body.invite_code)) {
        throw OpenTalkError.validation([{ field: "invite_code", code: "invalid_value", message: "Bad invite code format" }]);
      }
      const db = database(c.env);
      const invite = await findInvite(db, body.invite_code);
      // Expired invites are refused too (decision D16), like deleted ones.
      if (!inviteUsable(invite)) throw OpenTalkError.notFound();
      if (invite.roomId !== params.room_id.toLowerCase()) throw OpenTalkError.badRequest("Room id mismatch");
      const summary = await findRoomSummary(db, invite.roomId);
      if (!summary) throw OpenTalkError.notFound();
      const tariff = await roomTariff(db, summary.createdBy);
      if (!tariffAllows(tariff, "core", "guests_allowed")) throw featureDisabled("guests_allowed");
      return issueTicket(c, db, summary, {
        kind: "guest",
        userUuid: null,
        displayName: GUEST_NAME,
        avatarUrl: null,
        tariff,
        checkPassword: true,
        password: body.password,
        resumption: body.resumption,
        breakoutRoom: body.breakout_room,
      });
    },
  );

  otRoute(
    app,
    {
      method: "post",
      path: "/v1/services/call_in/start",
      summary: "Start a signaling session given a call-in id and pin",
      tags: ["services", "call_in"],
      auth: "service",
      body: CallInBody,
      success: { status: 200, description: "A ticket for a call-in (SIP) participant", schema: TicketSchema },
    },
    async (c, { body }) => {
      const identity = c.get("identity");
      if (identity.kind !== "service" || !identity.roles.includes(CALL_IN_ROLE)) throw OpenTalkError.unauthorized();
      const db = database(c.env);
      const invalid = () => OpenTalkError.badRequest("given call-in id & pin combination is not valid", "invalid_credentials");
      const config = /^\d{10}$/.test(body.id) ? await findSipConfigBySipId(db, body.id) : undefined;
      if (!config) throw invalid();
      if (!/^\d{10}$/.test(body.pin)) throw OpenTalkError.validation([{ field: "pin", code: "invalid_value", message: "pin must be 10 digits" }]);
      if (!timingSafeEqual(config.password, body.pin)) throw invalid();
      const summary = await findRoomSummary(db, config.roomId);
      if (!summary) throw invalid();
      const tariff = await roomTariff(db, summary.createdBy);
      if (!tariffAllows(tariff, "core", "call_in")) throw featureDisabled("call_in");
      return issueTicket(c, db, summary, {
        kind: "sip",
        userUuid: null,
        displayName: CALL_IN_NAME,
        avatarUrl: null,
        tariff,
        checkPassword: false,
      });
    },
  );

  otRoute(
    app,
    { method: "get", path: "/signaling", summary: "Room signaling WebSocket", tags: TAGS, auth: "none", success: { status: 101, description: "Switching protocols" } },
    async (c) => {
      const header = c.req.header("sec-websocket-protocol");
      if (!header) throw signalingError(400, "missing_protocol", "Missing sec-websocket-protocol header");
      const entries = header.split(",").map((p) => p.trim());
      if (!entries.includes(SIGNALING_PROTOCOL)) throw signalingError(400, "invalid_protocol", "Missing valid protocol");
      const ticket = entries.find((p) => p.startsWith("ticket#"))?.slice("ticket#".length);
      if (ticket === undefined) throw signalingError(401, "missing_ticket", "Missing ticket");
      const invalid = () => signalingError(401, "invalid_ticket", "Invalid or expired ticket. Please request a new ticket from /v1/rooms/<room_id>/start");
      if (ticket.length !== TICKET_LENGTH) throw invalid();
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw signalingError(400, "bad_request", "Expected a WebSocket upgrade");
      const redeemed = await redeemTicket(database(c.env), ticket);
      if (!redeemed) throw invalid();
      // A fresh request: only the upgrade and the redeemed entrant reach the room object.
      const upgrade = new Request("https://room.internal/signaling", {
        headers: { Upgrade: "websocket", [ENTRANT_HEADER]: JSON.stringify(redeemed.entrant) },
      });
      return roomStub(c.env, redeemed.roomId).fetch(upgrade);
    },
  );
}
