/**
 * OpenTalk event objects (reference §4.4–4.7): Event, EventInstance, EventException, EventInvitee
 * and EventRoomInfo. What a caller sees of several events is loaded in a few queries (EventView).
 */
import { and, asc, eq, inArray } from "drizzle-orm";
import { inChunks } from "../db/chunks";
import type { Db } from "../db/client";
import {
  eventEmailInvites,
  eventFavorites,
  eventInvites,
  eventSharedFolders,
  rooms,
  type EventExceptionRow,
  type EventRow,
  type SharedFolderRow,
  type StreamingTargetRow,
  type UserRow,
} from "../db/schema";
import { findUsersByIds } from "../db/users";
import { config } from "../lib/config";
import { unseal } from "../lib/crypto";
import { roomStub } from "../room/directory";
import { avatarUrl, publicUserProfile, type PublicUserProfile } from "./profiles";
import { basicUtc, rfc3339 } from "./timezone";

export type InviteStatus = "pending" | "accepted" | "tentative" | "declined";

export interface EventView {
  user: UserRow;
  profiles: Map<string, PublicUserProfile>;
  favorites: Set<string>;
  /** The caller's own invite status per event (creators: accepted). */
  inviteStatus: Map<string, InviteStatus>;
  rooms: Map<string, { id: string; password?: string; waiting_room: boolean }>;
  invitees: Map<string, { list: unknown[]; total: number }>;
  sharedFolders: Map<string, SharedFolderRow>;
  inviteesMax: number;
}

const dt = (at: number, tz: string) => ({ datetime: rfc3339(at), timezone: tz });


/** Loads what the caller sees of these events: profiles, favorites, invites, rooms, invitees. */
export async function loadEventView(db: Db, env: Env, user: UserRow, rows: EventRow[], inviteesMax: number): Promise<EventView> {
  const ids = rows.map((r) => r.id);
  const view: EventView = {
    user,
    profiles: new Map(),
    favorites: new Set(),
    inviteStatus: new Map(),
    rooms: new Map(),
    invitees: new Map(),
    sharedFolders: new Map(),
    inviteesMax,
  };
  if (ids.length === 0) return view;
  const [favs, mine, roomRows, folders] = await Promise.all([
    inChunks(ids, (chunk) => db.select({ id: eventFavorites.eventId }).from(eventFavorites).where(and(eq(eventFavorites.userId, user.id), inArray(eventFavorites.eventId, chunk)))),
    inChunks(ids, (chunk) => db.select().from(eventInvites).where(and(eq(eventInvites.invitee, user.id), inArray(eventInvites.eventId, chunk)))),
    inChunks(
      rows.map((r) => r.roomId),
      (chunk) => db.select({ id: rooms.id, lobbyState: rooms.lobbyState, hasPassword: rooms.hasPassword }).from(rooms).where(inArray(rooms.id, chunk)),
    ),
    inChunks(ids, (chunk) => db.select().from(eventSharedFolders).where(inArray(eventSharedFolders.eventId, chunk))),
  ]);
  for (const f of favs) view.favorites.add(f.id);
  for (const i of mine) view.inviteStatus.set(i.eventId, i.status);
  for (const r of rows) if (r.createdBy === user.id) view.inviteStatus.set(r.id, "accepted");
  for (const f of folders) view.sharedFolders.set(f.eventId, f);
  const secret = config(env).secret;
  await Promise.all(
    roomRows.map(async (r) => {
      let password: string | undefined;
      if (r.hasPassword) {
        const sealed = (await roomStub(env, r.id).snapshot())?.meta.passwordSealed;
        password = sealed ? ((await unseal(secret, sealed)) ?? undefined) : undefined;
      }
      view.rooms.set(r.id, { id: r.id, ...(password ? { password } : {}), waiting_room: r.lobbyState !== 0 });
    }),
  );
  const profileIds = new Set(rows.flatMap((r) => [r.createdBy, r.updatedBy]));
  if (inviteesMax > 0) {
    const [userInvites, emailInvites] = await Promise.all([
      inChunks(ids, (chunk) => db.select().from(eventInvites).where(inArray(eventInvites.eventId, chunk)).orderBy(asc(eventInvites.createdAt), asc(eventInvites.id))),
      inChunks(ids, (chunk) =>
        db.select().from(eventEmailInvites).where(inArray(eventEmailInvites.eventId, chunk)).orderBy(asc(eventEmailInvites.createdAt), asc(eventEmailInvites.email)),
      ),
    ]);
    for (const i of userInvites) profileIds.add(i.invitee);
    await loadProfiles(db, view, [...profileIds]);
    for (const id of ids) {
      const list = [
        ...userInvites.filter((i) => i.eventId === id).map((i) => registeredInvitee(view, i.invitee, i.role, i.status)),
        ...(await Promise.all(emailInvites.filter((i) => i.eventId === id).map((i) => emailInvitee(i.email)))),
      ];
      view.invitees.set(id, { list: list.slice(0, inviteesMax), total: list.length });
    }
  } else {
    await loadProfiles(db, view, [...profileIds]);
  }
  return view;
}

async function loadProfiles(db: Db, view: EventView, ids: string[]): Promise<void> {
  const users = await inChunks(ids, (chunk) => findUsersByIds(db, chunk));
  await Promise.all(users.map(async (u) => view.profiles.set(u.id, await publicUserProfile(u))));
}

/** A profile for a user id that no longer resolves (never expected; keeps the shape). */
function profile(view: EventView, id: string): PublicUserProfile {
  return view.profiles.get(id) ?? { id, email: "", title: "", firstname: "", lastname: "", display_name: "", avatar_url: "" };
}

export function registeredInvitee(view: EventView, userId: string, role: string, status: string) {
  return { profile: { kind: "registered", ...profile(view, userId), role }, status };
}


export async function emailInvitee(email: string) {
  return { profile: { kind: "email", email, avatar_url: await avatarUrl(email) }, status: "pending" };
}

function inviteesOf(view: EventView, id: string) {
  const inv = view.invitees.get(id) ?? { list: [], total: 0 };
  return { invitees_truncated: view.inviteesMax === 0 || inv.total > view.inviteesMax, invitees: inv.list };
}

function sharedFolderOf(view: EventView, ev: EventRow) {
  const f = view.sharedFolders.get(ev.id);
  return f ? { shared_folder: sharedFolderResource(f, ev.createdBy === view.user.id) } : {};
}

export function sharedFolderResource(f: SharedFolderRow, owner: boolean) {
  return {
    read: { url: f.readUrl, password: f.readPassword },
    ...(owner ? { read_write: { url: f.writeUrl, password: f.writePassword } } : {}),
  };
}

export function streamingTargetResource(t: StreamingTargetRow, showKey: boolean) {
  return {
    id: t.id,
    name: t.name,
    kind: t.kind,
    streaming_endpoint: t.streamingEndpoint,
    streaming_key: showKey ? t.streamingKey : "",
    public_url: t.publicUrl,
  };
}

/** The Event resource. `streamingTargets` only on GET of one event (as [code-24]). */
export function eventResource(ev: EventRow, view: EventView, streamingTargets?: StreamingTargetRow[]) {
  const timed = !ev.isTimeIndependent && ev.startsAt !== null && ev.endsAt !== null;
  return {
    id: ev.id,
    created_by: profile(view, ev.createdBy),
    created_at: rfc3339(ev.createdAt),
    updated_by: profile(view, ev.updatedBy),
    updated_at: rfc3339(ev.updatedAt),
    title: ev.title,
    description: ev.description,
    room: view.rooms.get(ev.roomId) ?? { id: ev.roomId, waiting_room: false },
    ...inviteesOf(view, ev.id),
    is_time_independent: ev.isTimeIndependent,
    ...(timed
      ? {
          is_all_day: ev.isAllDay === true,
          starts_at: dt(ev.startsAt as number, ev.startsAtTz as string),
          ends_at: dt(ev.endsAt as number, ev.endsAtTz as string),
        }
      : {}),
    ...(ev.recurrencePattern.length > 0 ? { recurrence_pattern: ev.recurrencePattern } : {}),
    ...(streamingTargets ? { streaming_targets: streamingTargets.map((t) => streamingTargetResource(t, ev.createdBy === view.user.id)) } : {}),
    is_adhoc: ev.isAdhoc,
    type: ev.recurrencePattern.length > 0 ? "recurring" : "single",
    status: "ok",
    invite_status: view.inviteStatus.get(ev.id) ?? "pending",
    is_favorite: view.favorites.has(ev.id),
    can_edit: ev.createdBy === view.user.id,
    ...sharedFolderOf(view, ev),
  };
}

/** One occurrence with its exception applied (EventInstance). */
export function instanceResource(ev: EventRow, view: EventView, originalStart: number, exc: EventExceptionRow | null) {
  const instanceId = basicUtc(originalStart);
  const duration = (ev.endsAt ?? 0) - (ev.startsAt ?? 0);
  const startsAt = exc?.startsAt ?? originalStart;
  const endsAt = exc?.endsAt ?? originalStart + duration;
  return {
    id: `${ev.id}_${instanceId}`,
    recurring_event_id: ev.id,
    instance_id: instanceId,
    created_by: profile(view, ev.createdBy),
    created_at: rfc3339(ev.createdAt),
    updated_by: profile(view, exc ? exc.createdBy : ev.updatedBy),
    updated_at: rfc3339(exc ? exc.createdAt : ev.updatedAt),
    title: exc?.title ?? ev.title,
    description: exc?.description ?? ev.description,
    room: view.rooms.get(ev.roomId) ?? { id: ev.roomId, waiting_room: false },
    ...inviteesOf(view, ev.id),
    is_all_day: exc?.isAllDay ?? ev.isAllDay === true,
    starts_at: dt(startsAt, exc?.startsAtTz ?? (ev.startsAtTz as string)),
    ends_at: dt(endsAt, exc?.endsAtTz ?? (ev.endsAtTz as string)),
    type: "instance",
    status: exc?.kind === "cancelled" ? "cancelled" : "ok",
    invite_status: view.inviteStatus.get(ev.id) ?? "pending",
    is_favorite: view.favorites.has(ev.id),
    can_edit: ev.createdBy === view.user.id,
    ...sharedFolderOf(view, ev),
  };
}

/** An exception as GET /events lists it right after its recurring event (EventException). */
export function exceptionResource(ev: EventRow, view: EventView, exc: EventExceptionRow) {
  const instanceId = basicUtc(exc.exceptionDate);
  return {
    id: `${ev.id}_${instanceId}`,
    recurring_event_id: ev.id,
    instance_id: instanceId,
    created_by: profile(view, exc.createdBy),
    created_at: rfc3339(exc.createdAt),
    updated_by: profile(view, exc.createdBy),
    updated_at: rfc3339(exc.createdAt),
    ...(exc.title !== null ? { title: exc.title } : {}),
    ...(exc.description !== null ? { description: exc.description } : {}),
    ...(exc.isAllDay !== null ? { is_all_day: exc.isAllDay } : {}),
    ...(exc.startsAt !== null && exc.startsAtTz ? { starts_at: dt(exc.startsAt, exc.startsAtTz) } : {}),
    ...(exc.endsAt !== null && exc.endsAtTz ? { ends_at: dt(exc.endsAt, exc.endsAtTz) } : {}),
    original_starts_at: dt(exc.exceptionDate, exc.exceptionDateTz),
    type: "exception",
    status: exc.kind === "cancelled" ? "cancelled" : "ok",
    can_edit: ev.createdBy === view.user.id,
  };
}
