/** OpenTalk `/v1/events`: create, list (cursor pages), get, patch, delete; favorites; pending invites. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { and, asc, eq, exists, gte, inArray, isNull, lte, or, sql } from "drizzle-orm";
import { database, type Db } from "../db/client";
import { eventExceptions, eventFavorites, eventInvites, events, roomStreamingTargets, type EventRow, type UserRow } from "../db/schema";
import type { AppContext, AppEnv } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { roomStub } from "../room/directory";
import { createOpenTalkRoom } from "./room-create";
import { openTalkCaller, unwrapOutcome } from "./room-access";
import { storedPassword } from "../room/password";
import { TIME_INDEPENDENT, timeDependent, type EventTimes } from "./event-times";
import { eventAccess, inviteeAddresses, me, notify, ownedEvent } from "./events.access";
import { inChunks } from "../db/chunks";
import { eventResource, exceptionResource, loadEventView } from "./events.present";
import { EventIdParams, EventListQuery, EventQuery, PatchEventBody, PostEventBody, SuppressQuery, type PatchEvent } from "./events.schemas";
import { deleteAssetBytes, roomAssetKeys } from "./asset-store";
import { createSharedFolder, deleteSharedFolder, sharedFolderConfigured } from "./shared-folder";

const TAGS = ["events"];

const TIME_INDEPENDENT_MESSAGE = "time independent events must not have is_all_day, starts_at, ends_at or recurrence_pattern set";
const TIME_DEPENDENT_MESSAGE = "time dependent events must have title, description, is_all_day, starts_at and ends_at set";

/** Cursor of GET /events: the last event's sort key (starts_at, created_at, id), opaque to clients. */
function encodeCursor(ev: EventRow): string {
  return btoa(JSON.stringify([ev.startsAt, ev.createdAt, ev.id])).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(value: string): [number | null, number, string] {
  try {
    const parsed: unknown = JSON.parse(atob(value.replace(/-/g, "+").replace(/_/g, "/")));
    if (
      Array.isArray(parsed) &&
      parsed.length === 3 &&
      (parsed[0] === null || Number.isSafeInteger(parsed[0])) &&
      Number.isSafeInteger(parsed[1]) &&
      typeof parsed[2] === "string"
    ) {
      return parsed as [number | null, number, string];
    }
  } catch {
    // falls through
  }
  throw OpenTalkError.badRequest("Invalid page cursor");
}

/** Keyset condition "after the cursor" for ORDER BY starts_at (nulls first), created_at, id. */
function afterCursor([s, c, i]: [number | null, number, string]) {
  const rest = sql`(${events.createdAt}, ${events.id}) > (${c}, ${i})`;
  if (s === null) return or(and(isNull(events.startsAt), rest), sql`${events.startsAt} IS NOT NULL`);
  return or(sql`${events.startsAt} > ${s}`, and(eq(events.startsAt, s), rest));
}

/** A Link header with `rel="after"` (reference §1.5): emitted whenever the page is non-empty. */
export function afterLink(requestUrl: string, cursor: string): string {
  const url = new URL(requestUrl);
  url.searchParams.set("after", cursor);
  return `<${url}>; rel="after"`;
}

async function streamingTargetsOf(db: Db, roomId: string) {
  return db.select().from(roomStreamingTargets).where(eq(roomStreamingTargets.roomId, roomId)).orderBy(asc(roomStreamingTargets.createdAt), asc(roomStreamingTargets.id));
}

/** The stored times after a PATCH, or null when the patch leaves them alone. */
function patchedTimes(ev: EventRow, body: PatchEvent): EventTimes | null {
  const timeFields = body.is_all_day !== undefined || body.starts_at !== undefined || body.ends_at !== undefined || body.recurrence_pattern !== undefined;
  const independent = body.is_time_independent ?? ev.isTimeIndependent;
  if (independent) {
    if (body.is_time_independent === true) {
      const ignored = (["is_all_day", "starts_at", "ends_at", "recurrence_pattern"] as const).filter((k) => body[k] !== undefined);
      if (ignored.length > 0) {
        throw OpenTalkError.validation(ignored.map((field) => ({ field, code: "ignored_value", message: "time independent events have no times" })));
      }
      return ev.isTimeIndependent ? null : TIME_INDEPENDENT;
    }
    if (timeFields) throw OpenTalkError.badRequest(TIME_INDEPENDENT_MESSAGE);
    return null;
  }
  if (ev.isTimeIndependent || ev.startsAt === null) {
    // Becoming time-dependent: every time field is needed.
    const missing = (["is_all_day", "starts_at", "ends_at"] as const).filter((k) => body[k] === undefined);
    if (missing.length > 0) throw OpenTalkError.validation(missing.map((field) => ({ field, code: "value_required", message: "required for time dependent events" })));
  }
  if (!timeFields && body.is_time_independent === undefined) return null;
  const tz = (at: number | null, zone: string | null) => ({ datetime: at as number, timezone: zone as string });
  return timeDependent(
    body.is_all_day ?? ev.isAllDay === true,
    body.starts_at ?? tz(ev.startsAt, ev.startsAtTz),
    body.ends_at ?? tz(ev.endsAt, ev.endsAtTz),
    body.recurrence_pattern ?? ev.recurrencePattern, // D14: absent = unchanged
  );
}

/** Whether the occurrences' identities change (exceptions are keyed by original start): they are dropped then. */
function occurrencesChange(ev: EventRow, t: EventTimes): boolean {
  return (
    t.isTimeIndependent !== ev.isTimeIndependent ||
    t.startsAt !== ev.startsAt ||
    t.startsAtTz !== ev.startsAtTz ||
    t.isAllDay !== ev.isAllDay ||
    JSON.stringify(t.recurrencePattern) !== JSON.stringify(ev.recurrencePattern)
  );
}

async function respondWithEvent(c: AppContext, user: UserRow, ev: EventRow, inviteesMax: number, status: 200 | 201, withTargets: boolean) {
  const db = database(c.env);
  const view = await loadEventView(db, c.env, user, [ev], inviteesMax);
  const targets = withTargets ? await streamingTargetsOf(db, ev.roomId) : undefined;
  return c.json(eventResource(ev, view, targets), status);
}

export function registerEventRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    { method: "post", path: "/v1/events", summary: "Create a new event (with its own room)", tags: TAGS, auth: "bearer", body: PostEventBody, query: SuppressQuery, success: { status: 201, description: "The Event" } },
    async (c, { body }) => {
      const user = me(c);
      const db = database(c.env);
      let times: EventTimes;
      if (body.is_time_independent) {
        if (body.is_all_day != null || body.starts_at != null || body.ends_at != null || (body.recurrence_pattern?.length ?? 0) > 0) {
          throw OpenTalkError.badRequest(TIME_INDEPENDENT_MESSAGE);
        }
        times = TIME_INDEPENDENT;
      } else {
        if (body.is_all_day == null || !body.starts_at || !body.ends_at) throw OpenTalkError.badRequest(TIME_DEPENDENT_MESSAGE);
        times = timeDependent(body.is_all_day, body.starts_at, body.ends_at, body.recurrence_pattern ?? []);
      }
      if (body.has_shared_folder && !sharedFolderConfigured(c.env)) throw OpenTalkError.badRequest("No shared folder configured for this server");

      // Everything is validated: now the room (DO), then the event rows in one D1 batch.
      // The same room as POST /v1/rooms creates; event rooms always get a SIP config (reference §3.4).
      const { id: roomId } = await createOpenTalkRoom(c.env, db, user, { name: body.title, password: body.password ?? null, waitingRoom: body.waiting_room ?? false, enableSip: true, eventRoom: true });
      const now = Date.now();
      const ev: EventRow = {
        id: crypto.randomUUID(),
        roomId,
        createdBy: user.id,
        createdAt: now,
        updatedBy: user.id,
        updatedAt: now,
        title: body.title,
        description: body.description,
        ...times,
        isAdhoc: body.is_adhoc ?? false,
        revision: 0,
      };
      const targets = (body.streaming_targets ?? []).map((t, i) => ({
        id: crypto.randomUUID(),
        roomId,
        name: t.name,
        kind: t.kind,
        streamingEndpoint: t.streaming_endpoint,
        streamingKey: t.streaming_key,
        publicUrl: t.public_url,
        createdAt: now + i,
      }));
      try {
        await db.batch([db.insert(events).values(ev), ...targets.map((t) => db.insert(roomStreamingTargets).values(t))]);
        if (body.has_shared_folder) await createSharedFolder(c.env, db, ev);
      } catch (err) {
        // No half-written event: the room goes again (its deletion cascades to the rows).
        await roomStub(c.env, roomId).destroy(openTalkCaller(user));
        throw err;
      }
      return respondWithEvent(c, user, ev, 0, 201, true);
    },
  );

  otRoute(
    app,
    { method: "get", path: "/v1/events", summary: "Events the caller created or is invited to, by time range (cursor pages)", tags: TAGS, auth: "bearer", query: EventListQuery },
    async (c, { query }) => {
      const user = me(c);
      const db = database(c.env);
      const visible = or(
        eq(events.createdBy, user.id),
        exists(db.select({ one: sql`1` }).from(eventInvites).where(and(eq(eventInvites.eventId, events.id), eq(eventInvites.invitee, user.id)))),
      );
      const conditions = [
        visible,
        query.time_min !== undefined ? gte(events.lastEndsAt, query.time_min) : undefined,
        query.time_max !== undefined ? lte(events.startsAt, query.time_max) : undefined,
        query.adhoc !== undefined ? eq(events.isAdhoc, query.adhoc) : undefined,
        query.time_independent !== undefined ? eq(events.isTimeIndependent, query.time_independent) : undefined,
        query.favorites
          ? exists(db.select({ one: sql`1` }).from(eventFavorites).where(and(eq(eventFavorites.eventId, events.id), eq(eventFavorites.userId, user.id))))
          : undefined,
        query.after !== undefined ? afterCursor(decodeCursor(query.after)) : undefined,
      ];
      const rows = await db
        .select()
        .from(events)
        .where(and(...conditions))
        .orderBy(asc(events.startsAt), asc(events.createdAt), asc(events.id))
        .limit(query.per_page);
      const view = await loadEventView(db, c.env, user, rows, query.invitees_max);
      const recurring = rows.filter((r) => r.recurrencePattern.length > 0).map((r) => r.id);
      const exceptions = recurring.length
        ? await inChunks(recurring, (chunk) => db.select().from(eventExceptions).where(inArray(eventExceptions.eventId, chunk)).orderBy(asc(eventExceptions.exceptionDate)))
        : [];
      // Each recurring event is followed by all of its exceptions (reference §3.4).
      const out = rows.flatMap((ev) => [eventResource(ev, view), ...exceptions.filter((x) => x.eventId === ev.id).map((x) => exceptionResource(ev, view, x))]);
      const last = rows[rows.length - 1];
      if (last) c.header("Link", afterLink(c.req.url, encodeCursor(last)));
      return c.json(out);
    },
  );

  otRoute(
    app,
    { method: "get", path: "/v1/events/{event_id}", summary: "Get an event", tags: TAGS, auth: "bearer", params: EventIdParams, query: EventQuery },
    async (c, { params, query }) => {
      const user = me(c);
      const { event } = await eventAccess(database(c.env), params.event_id, user);
      return respondWithEvent(c, user, event, query.invitees_max, 200, true);
    },
  );

  otRoute(
    app,
    {
      method: "patch",
      path: "/v1/events/{event_id}",
      summary: "Update an event (creator); changing the occurrences drops the exceptions",
      tags: TAGS,
      auth: "bearer",
      params: EventIdParams,
      query: EventQuery.merge(SuppressQuery),
      body: PatchEventBody,
    },
    async (c, { params, query, body }) => {
      const user = me(c);
      const db = database(c.env);
      const ev = await ownedEvent(db, params.event_id, user);
      const times = patchedTimes(ev, body);
      const roomChanges = {
        ...(body.title !== undefined && body.title !== ev.title ? { name: body.title } : {}),
        ...(body.password !== undefined ? { password: body.password === null ? null : await storedPassword(c.env, body.password) } : {}),
        ...(body.waiting_room !== undefined ? { lobby: { state: body.waiting_room ? 1 : 0 } } : {}),
      };
      // The room first: it decides (the event's creator must still own it) and every live
      // participant hears the change; then the event rows.
      if (Object.keys(roomChanges).length > 0) unwrapOutcome(await roomStub(c.env, ev.roomId).updateSettings(openTalkCaller(user), roomChanges));
      const eventChanged = body.title !== undefined || body.description !== undefined || body.is_adhoc !== undefined || times !== null;
      let updated = ev;
      if (eventChanged) {
        updated = {
          ...ev,
          ...(body.title !== undefined ? { title: body.title } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.is_adhoc !== undefined ? { isAdhoc: body.is_adhoc } : {}),
          ...(times ?? {}),
          updatedBy: user.id,
          updatedAt: Math.max(Date.now(), ev.updatedAt),
          revision: ev.revision + 1,
        };
        const { id: _id, roomId: _room, createdBy: _by, createdAt: _at, ...fields } = updated;
        const write = db.update(events).set(fields).where(eq(events.id, ev.id));
        if (times && occurrencesChange(ev, times)) await db.batch([write, db.delete(eventExceptions).where(eq(eventExceptions.eventId, ev.id))]);
        else await write;
      }
      await notify(db, updated, user, "event_update", await inviteeAddresses(db, ev.id), query.suppress_email_notification);
      return respondWithEvent(c, user, updated, query.invitees_max, 200, false);
    },
  );

  otRoute(
    app,
    { method: "delete", path: "/v1/events/{event_id}", summary: "Delete an event (creator) and its room", tags: TAGS, auth: "bearer", params: EventIdParams, query: SuppressQuery },
    async (c, { params, query }) => {
      const user = me(c);
      const db = database(c.env);
      const ev = await ownedEvent(db, params.event_id, user);
      const recipients = await inviteeAddresses(db, ev.id);
      const assets = await roomAssetKeys(db, ev.roomId);
      // The room decides and goes first: its sockets hear room_deleted; the event rows go with
      // its D1 row (foreign keys, on delete cascade) and once more here, should D1 lag behind.
      unwrapOutcome(await roomStub(c.env, ev.roomId).destroy(openTalkCaller(user)));
      await deleteSharedFolder(c.env, db, ev, true);
      await db.delete(events).where(eq(events.id, ev.id));
      await notify(db, ev, user, "event_cancellation", recipients, query.suppress_email_notification);
      await deleteAssetBytes(c.env, assets);
      return c.body(null, 204);
    },
  );

  otRoute(
    app,
    { method: "put", path: "/v1/users/me/event_favorites/{event_id}", summary: "Favorite an event", tags: [...TAGS, "users"], auth: "bearer", params: EventIdParams },
    async (c, { params }) => {
      const user = me(c);
      const db = database(c.env);
      const { event } = await eventAccess(db, params.event_id, user);
      const added = await db.insert(eventFavorites).values({ userId: user.id, eventId: event.id }).onConflictDoNothing().returning();
      return c.body(null, added.length > 0 ? 201 : 204);
    },
  );

  otRoute(
    app,
    { method: "delete", path: "/v1/users/me/event_favorites/{event_id}", summary: "Unfavorite an event", tags: [...TAGS, "users"], auth: "bearer", params: EventIdParams },
    async (c, { params }) => {
      const user = me(c);
      const db = database(c.env);
      const { event } = await eventAccess(db, params.event_id, user);
      const removed = await db.delete(eventFavorites).where(and(eq(eventFavorites.userId, user.id), eq(eventFavorites.eventId, event.id))).returning();
      if (removed.length === 0) throw OpenTalkError.notFound();
      return c.body(null, 204);
    },
  );

  otRoute(
    app,
    {
      method: "get",
      path: "/v1/users/me/pending_invites",
      summary: "Number of the caller's pending event invites",
      tags: [...TAGS, "users"],
      auth: "bearer",
      success: { status: 200, description: "Count", schema: z.object({ total_pending_invites: z.number().int() }) },
    },
    async (c) => {
      const user = me(c);
      const row = await database(c.env)
        .select({ n: sql<number>`count(*)` })
        .from(eventInvites)
        .where(and(eq(eventInvites.invitee, user.id), eq(eventInvites.status, "pending")))
        .get();
      return c.json({ total_pending_invites: row?.n ?? 0 });
    },
  );
}
