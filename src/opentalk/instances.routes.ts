/**
 * OpenTalk `/v1/events/{id}/instances` (reference §3.5): the occurrences of an event's rule set,
 * with its exceptions applied, paged by an opaque cursor; one instance; changing or cancelling one.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { and, eq, gte, lte } from "drizzle-orm";
import { database, type Db } from "../db/client";
import { eventExceptions, type EventExceptionRow, type EventRow } from "../db/schema";
import type { AppEnv } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { checkTimes, eventDuration, eventRecurrence, expansionZone } from "./event-times";
import { eventAccess, inviteeAddresses, me, notify, ownedEvent } from "./events.access";
import { instanceResource, loadEventView } from "./events.present";
import { afterLink } from "./events.routes";
import { clampedPerPage, EventQuery, Instant, PatchInstanceBody, SuppressQuery } from "./events.schemas";
import { fromFloating, isOccurrence, occurrences, toFloating } from "./recurrence";
import { basicUtc, parseInstanceId } from "./timezone";

const TAGS = ["events"];

const InstanceParams = z.object({ event_id: z.uuid(), instance_id: z.string().max(64) });

const InstancesQuery = z.object({
  time_min: Instant.optional(),
  time_max: Instant.optional(),
  per_page: clampedPerPage(),
  /** The reference reads `after`; [spec-24] documents `cursor`: both are accepted. */
  after: z.string().max(64).optional(),
  cursor: z.string().max(64).optional(),
  invitees_max: z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number)
    .optional()
    .default(0),
});

/** The cursor: the last listed occurrence's local start (floating ms), base64url. Opaque to clients. */
const encodeCursor = (floating: number) => btoa(String(floating)).replace(/=+$/, "");

function decodeCursor(value: string): number {
  try {
    const text = atob(value);
    if (/^-?\d{1,16}$/.test(text)) return Number(text);
  } catch {
    // falls through
  }
  throw OpenTalkError.badRequest("Invalid page cursor");
}

/** The event's zone for expansion, or 404 for time-independent events (they have no instances). */
function zoneOf(ev: EventRow): string {
  if (ev.isTimeIndependent || ev.startsAt === null || !ev.startsAtTz) throw OpenTalkError.notFound();
  return expansionZone(ev.isAllDay === true, ev.startsAtTz);
}

/** Resolves an instance id to the occurrence's original start (instant), or 404. */
function occurrenceOf(ev: EventRow, instanceId: string): number {
  const zone = zoneOf(ev);
  const at = parseInstanceId(instanceId);
  if (at === null) throw OpenTalkError.notFound();
  const rec = eventRecurrence(ev);
  if (!rec) {
    // D13: a single event has exactly one instance, its start.
    if (at !== ev.startsAt) throw OpenTalkError.notFound();
    return at;
  }
  const floating = toFloating(at, zone);
  if (!isOccurrence(rec, floating) || fromFloating(floating, zone) !== at) throw OpenTalkError.notFound();
  return at;
}

async function exceptionsAt(db: Db, eventId: string, starts: number[]): Promise<Map<number, EventExceptionRow>> {
  if (starts.length === 0) return new Map();
  // A range rather than IN (…): D1 binds at most 100 parameters per statement.
  const rows = await db
    .select()
    .from(eventExceptions)
    .where(and(eq(eventExceptions.eventId, eventId), gte(eventExceptions.exceptionDate, Math.min(...starts)), lte(eventExceptions.exceptionDate, Math.max(...starts))));
  return new Map(rows.map((r) => [r.exceptionDate, r]));
}

export function registerInstanceRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    {
      method: "get",
      path: "/v1/events/{event_id}/instances",
      summary: "The event's instances (recurrence expanded in its time zone), cursor pages",
      tags: TAGS,
      auth: "bearer",
      params: z.object({ event_id: z.uuid() }),
      query: InstancesQuery,
    },
    async (c, { params, query }) => {
      const user = me(c);
      const db = database(c.env);
      const { event: ev } = await eventAccess(db, params.event_id, user);
      const zone = zoneOf(ev);
      const rec = eventRecurrence(ev);
      const cursorValue = query.after ?? query.cursor;
      const cursor = cursorValue !== undefined ? decodeCursor(cursorValue) : null;
      let starts: number[];
      if (rec) {
        // Floating bounds: after the cursor and at/after time_min, at/before time_max.
        const fromMin = query.time_min !== undefined ? toFloating(query.time_min, zone) - 1 : null;
        const after = cursor !== null && fromMin !== null ? Math.max(cursor, fromMin) : (cursor ?? fromMin);
        const before = query.time_max !== undefined ? toFloating(query.time_max, zone) : null;
        starts = occurrences(rec, after, before, query.per_page).map((f) => fromFloating(f, zone));
      } else {
        const start = ev.startsAt as number;
        const inWindow = (query.time_min === undefined || start >= query.time_min) && (query.time_max === undefined || start <= query.time_max);
        starts = cursor === null && inWindow ? [start] : [];
      }
      const view = await loadEventView(db, c.env, user, [ev], query.invitees_max);
      const exceptions = await exceptionsAt(db, ev.id, starts);
      const last = starts[starts.length - 1];
      if (last !== undefined) c.header("Link", afterLink(c.req.url, encodeCursor(toFloating(last, zone))));
      return c.json(starts.map((s) => instanceResource(ev, view, s, exceptions.get(s) ?? null)));
    },
  );

  otRoute(
    app,
    { method: "get", path: "/v1/events/{event_id}/instances/{instance_id}", summary: "Get one event instance", tags: TAGS, auth: "bearer", params: InstanceParams, query: EventQuery },
    async (c, { params, query }) => {
      const user = me(c);
      const db = database(c.env);
      const { event: ev } = await eventAccess(db, params.event_id, user);
      const at = occurrenceOf(ev, params.instance_id);
      const view = await loadEventView(db, c.env, user, [ev], query.invitees_max);
      const exc = (await exceptionsAt(db, ev.id, [at])).get(at) ?? null;
      return c.json(instanceResource(ev, view, at, exc));
    },
  );

  otRoute(
    app,
    {
      method: "patch",
      path: "/v1/events/{event_id}/instances/{instance_id}",
      summary: "Change or cancel one instance of a recurring event (creator)",
      tags: TAGS,
      auth: "bearer",
      params: InstanceParams,
      query: EventQuery.merge(SuppressQuery),
      body: PatchInstanceBody,
    },
    async (c, { params, query, body }) => {
      const user = me(c);
      const db = database(c.env);
      const ev = await ownedEvent(db, params.event_id, user);
      if (ev.recurrencePattern.length === 0) throw OpenTalkError.notFound();
      const at = occurrenceOf(ev, params.instance_id);
      const existing = (await exceptionsAt(db, ev.id, [at])).get(at) ?? null;
      const isAllDay = body.is_all_day ?? existing?.isAllDay ?? ev.isAllDay === true;
      const startsAt = body.starts_at ?? { datetime: existing?.startsAt ?? at, timezone: existing?.startsAtTz ?? (ev.startsAtTz as string) };
      const endsAt = body.ends_at ?? { datetime: existing?.endsAt ?? at + eventDuration(ev), timezone: existing?.endsAtTz ?? (ev.endsAtTz as string) };
      checkTimes(isAllDay, startsAt.datetime, endsAt.datetime);
      const row: EventExceptionRow = {
        id: existing?.id ?? crypto.randomUUID(),
        eventId: ev.id,
        exceptionDate: at,
        exceptionDateTz: ev.startsAtTz as string,
        createdBy: user.id,
        createdAt: Date.now(),
        kind: body.status === undefined ? (existing?.kind ?? "modified") : body.status === "cancelled" ? "cancelled" : "modified",
        title: body.title ?? existing?.title ?? null,
        description: body.description ?? existing?.description ?? null,
        isAllDay: body.is_all_day ?? existing?.isAllDay ?? null,
        startsAt: body.starts_at?.datetime ?? existing?.startsAt ?? null,
        startsAtTz: body.starts_at?.timezone ?? existing?.startsAtTz ?? null,
        endsAt: body.ends_at?.datetime ?? existing?.endsAt ?? null,
        endsAtTz: body.ends_at?.timezone ?? existing?.endsAtTz ?? null,
      };
      const { id: _id, eventId: _e, exceptionDate: _d, ...fields } = row;
      await db
        .insert(eventExceptions)
        .values(row)
        .onConflictDoUpdate({ target: [eventExceptions.eventId, eventExceptions.exceptionDate], set: fields });
      await notify(db, ev, user, "event_update", await inviteeAddresses(db, ev.id), query.suppress_email_notification, {
        instance_id: basicUtc(at),
        instance_status: row.kind === "cancelled" ? "cancelled" : "ok",
      });
      const view = await loadEventView(db, c.env, user, [ev], query.invitees_max);
      return c.json(instanceResource(ev, view, at, row));
    },
  );
}
