/**
 * Who may do what with an event (reference §1.4, EdgeTalk decision D18): the creator reads and
 * writes; a registered invitee reads (and answers their invite); anyone else, administrators
 * included (the reference grants them nothing on events), gets 404, so ids leak nothing.
 */
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { queueEmails } from "../db/outbox";
import { eventEmailInvites, eventInvites, events, users, type EventInviteRow, type EventRow, type UserRow } from "../db/schema";
import type { AppContext } from "../lib/context";
import { currentUser } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { rfc3339 } from "./timezone";

export interface EventAccess {
  event: EventRow;
  owner: boolean;
  invite: EventInviteRow | null;
}

export function me(c: AppContext): UserRow {
  const user = currentUser(c);
  if (!user) throw OpenTalkError.unauthorized();
  return user;
}

export async function eventAccess(db: Db, eventId: string, user: UserRow): Promise<EventAccess> {
  const event = await db.select().from(events).where(eq(events.id, eventId.toLowerCase())).get();
  if (!event) throw OpenTalkError.notFound();
  if (event.createdBy === user.id) return { event, owner: true, invite: null };
  const invite = await db.select().from(eventInvites).where(and(eq(eventInvites.eventId, event.id), eq(eventInvites.invitee, user.id))).get();
  if (!invite) throw OpenTalkError.notFound();
  return { event, owner: false, invite };
}

/** Write access: the creator only; invitees see the event, so they get 403. */
export async function ownedEvent(db: Db, eventId: string, user: UserRow): Promise<EventRow> {
  const access = await eventAccess(db, eventId, user);
  if (!access.owner) throw OpenTalkError.forbidden();
  return access.event;
}

/** Everyone invited to an event: registered invitees' addresses and e-mail invitees. */
export async function inviteeAddresses(db: Db, eventId: string): Promise<string[]> {
  const [registered, emails] = await Promise.all([
    db.select({ email: users.email }).from(eventInvites).innerJoin(users, eq(users.id, eventInvites.invitee)).where(eq(eventInvites.eventId, eventId)),
    db.select({ email: eventEmailInvites.email }).from(eventEmailInvites).where(eq(eventEmailInvites.eventId, eventId)),
  ]);
  return [...new Set([...registered, ...emails].map((r) => r.email).filter(Boolean))];
}

/**
 * Queues a notification about an event (reference §1.6): never for ad-hoc events, never when the
 * caller passed `suppress_email_notification=true`.
 */
export async function notify(
  db: Db,
  event: EventRow,
  sender: UserRow,
  template: "event_invite" | "event_update" | "event_cancellation" | "event_uninvite",
  recipients: string[],
  suppress: boolean | undefined,
  extra: Record<string, unknown> = {},
): Promise<void> {
  if (suppress || event.isAdhoc || recipients.length === 0) return;
  const payload = {
    event_id: event.id,
    room_id: event.roomId,
    title: event.title,
    description: event.description,
    starts_at: event.startsAt === null ? null : { datetime: rfc3339(event.startsAt), timezone: event.startsAtTz },
    ends_at: event.endsAt === null ? null : { datetime: rfc3339(event.endsAt), timezone: event.endsAtTz },
    recurrence_pattern: event.recurrencePattern,
    sequence: event.revision,
    sender: { id: sender.id, display_name: sender.displayName, email: sender.email },
    ...extra,
  };
  await queueEmails(db, recipients.map((recipient) => ({ recipient, template, payload })));
}
