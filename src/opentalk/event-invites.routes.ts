/**
 * OpenTalk event invites (reference §3.6): invite a user (role user/moderator) or an e-mail
 * address, list invitees, change a role, withdraw, accept/decline. Registered invitees become
 * members of the event's room (moderators by invite as room moderators) through the room DO.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { and, asc, eq, sql } from "drizzle-orm";
import { database, type Db } from "../db/client";
import { eventEmailInvites, eventFavorites, eventInvites, users, type EventRow, type UserRow } from "../db/schema";
import { findUserById } from "../db/users";
import type { AppEnv } from "../lib/context";
import { OpenTalkError } from "../lib/errors";
import { otRoute } from "../lib/route";
import { roomStub } from "../room/directory";
import { ParticipantType } from "../room/types";
import { eventAccess, me, notify, ownedEvent } from "./events.access";
import { openTalkCaller, unwrapOutcome } from "./room-access";
import { emailInvitee, registeredInvitee, type EventView } from "./events.present";
import { EventIdParams, SuppressQuery } from "./events.schemas";
import { PageQuery, pageLinkHeader, pageOffset } from "./pagination";
import { publicUserProfile } from "./profiles";

const TAGS = ["event_invites"];

const PostInviteBody = z.union([
  z.object({ invitee: z.uuid(), role: z.enum(["user", "moderator"]).optional() }).strict(),
  z.object({ email: z.email().max(255) }).strict(),
]);

const InviteStatus = z.enum(["pending", "accepted", "tentative", "declined"]);

const UserParams = z.object({ event_id: z.uuid(), user_id: z.uuid() });

const roomType = (role: "user" | "moderator") => (role === "moderator" ? ParticipantType.Moderator : ParticipantType.User);

/** Adds, updates (role) or removes (null) the invitee's membership of the event's room; the event's creator acts. */
async function syncMember(env: Env, ev: EventRow, owner: UserRow, user: UserRow, role: "user" | "moderator" | null): Promise<void> {
  const member = { actorType: "users" as const, actorId: user.userid, displayName: user.displayName, participantType: ParticipantType.User, userUuid: user.id };
  unwrapOutcome(await roomStub(env, ev.roomId).setInvitedUser(openTalkCaller(owner), member, role === null ? null : roomType(role)));
}

/** Withdraws a registered user's invite: the row, their favorite, their room membership. */
async function withdraw(env: Env, db: Db, ev: EventRow, owner: UserRow, invitee: UserRow): Promise<boolean> {
  const [removed] = await db.batch([
    db.delete(eventInvites).where(and(eq(eventInvites.eventId, ev.id), eq(eventInvites.invitee, invitee.id))).returning(),
    db.delete(eventFavorites).where(and(eq(eventFavorites.eventId, ev.id), eq(eventFavorites.userId, invitee.id))),
  ]);
  if (removed.length === 0) return false;
  await syncMember(env, ev, owner, invitee, null);
  return true;
}

export function registerEventInviteRoutes(app: OpenAPIHono<AppEnv>) {
  otRoute(
    app,
    {
      method: "post",
      path: "/v1/events/{event_id}/invites",
      summary: "Invite a user (by id) or an e-mail address (creator): 201 new, 204 already invited",
      tags: TAGS,
      auth: "bearer",
      params: EventIdParams,
      query: SuppressQuery,
      body: PostInviteBody,
    },
    async (c, { params, query, body }) => {
      const user = me(c);
      const db = database(c.env);
      const ev = await ownedEvent(db, params.event_id, user);
      let invitee: UserRow | undefined;
      let role: "user" | "moderator" = "user";
      if ("invitee" in body) {
        invitee = await findUserById(db, body.invitee.toLowerCase());
        if (!invitee) throw OpenTalkError.notFound();
        role = body.role ?? "user";
      } else {
        const email = body.email.trim().toLowerCase();
        invitee = await db.select().from(users).where(sql`lower(${users.email}) = ${email}`).get();
        if (!invitee) {
          // An address without an account: stored as an e-mail invite (external addresses allowed).
          const added = await db.insert(eventEmailInvites).values({ eventId: ev.id, email, createdBy: user.id, createdAt: Date.now() }).onConflictDoNothing().returning();
          if (added.length === 0) return c.body(null, 204);
          await notify(db, ev, user, "event_invite", [email], query.suppress_email_notification, { invitee_kind: "email" });
          return c.body(null, 201);
        }
      }
      if (invitee.id === ev.createdBy) return c.body(null, 204);
      const added = await db
        .insert(eventInvites)
        .values({ id: crypto.randomUUID(), eventId: ev.id, invitee: invitee.id, createdBy: user.id, createdAt: Date.now(), role })
        .onConflictDoNothing()
        .returning();
      if (added.length === 0) return c.body(null, 204);
      await syncMember(c.env, ev, user, invitee, role);
      await notify(db, ev, user, "event_invite", [invitee.email], query.suppress_email_notification, { invitee_kind: "registered", role });
      return c.body(null, 201);
    },
  );

  otRoute(
    app,
    {
      method: "get",
      path: "/v1/events/{event_id}/invites",
      summary: "Invitees with their status (registered, then e-mail), page Link header",
      tags: TAGS,
      auth: "bearer",
      params: EventIdParams,
      query: PageQuery.extend({ status: InviteStatus.optional() }),
    },
    async (c, { params, query }) => {
      const user = me(c);
      const db = database(c.env);
      const { event } = await eventAccess(db, params.event_id, user);
      const registered = await db
        .select({ invite: eventInvites, user: users })
        .from(eventInvites)
        .innerJoin(users, eq(users.id, eventInvites.invitee))
        .where(and(eq(eventInvites.eventId, event.id), query.status ? eq(eventInvites.status, query.status) : undefined))
        .orderBy(asc(eventInvites.createdAt), asc(eventInvites.id));
      // E-mail invitees are always pending.
      const emails =
        query.status === undefined || query.status === "pending"
          ? await db.select().from(eventEmailInvites).where(eq(eventEmailInvites.eventId, event.id)).orderBy(asc(eventEmailInvites.createdAt), asc(eventEmailInvites.email))
          : [];
      const total = registered.length + emails.length;
      const offset = pageOffset(query.page, query.per_page);
      const profiles = new Map(await Promise.all(registered.map(async (r) => [r.user.id, await publicUserProfile(r.user)] as const)));
      const view = { profiles } as unknown as EventView;
      const all = [
        ...registered.map((r) => () => Promise.resolve(registeredInvitee(view, r.user.id, r.invite.role, r.invite.status))),
        ...emails.map((e) => () => emailInvitee(e.email)),
      ];
      const page = await Promise.all(all.slice(offset, offset + query.per_page).map((f) => f()));
      const link = pageLinkHeader(c.req.url, query.page, query.per_page, total);
      if (link) c.header("Link", link);
      return c.json(page);
    },
  );

  // Before /invites/{user_id}, which would take "email" for an id.
  otRoute(
    app,
    {
      method: "delete",
      path: "/v1/events/{event_id}/invites/email",
      summary: "Withdraw an invite by e-mail address, also a registered user's with that address (creator)",
      tags: TAGS,
      auth: "bearer",
      params: EventIdParams,
      query: SuppressQuery,
      body: z.object({ email: z.email().max(255) }),
    },
    async (c, { params, query, body }) => {
      const user = me(c);
      const db = database(c.env);
      const ev = await ownedEvent(db, params.event_id, user);
      const email = body.email.trim().toLowerCase();
      const removedEmail = await db.delete(eventEmailInvites).where(and(eq(eventEmailInvites.eventId, ev.id), eq(eventEmailInvites.email, email))).returning();
      const registered = await db.select().from(users).where(sql`lower(${users.email}) = ${email}`);
      let removedUser = false;
      for (const u of registered) removedUser = (await withdraw(c.env, db, ev, user, u)) || removedUser;
      if (removedEmail.length === 0 && !removedUser) throw OpenTalkError.notFound();
      await notify(db, ev, user, "event_uninvite", [email], query.suppress_email_notification);
      return c.body(null, 204);
    },
  );

  otRoute(
    app,
    {
      method: "patch",
      path: "/v1/events/{event_id}/invites/{user_id}",
      summary: "Change an invitee's role (creator)",
      tags: TAGS,
      auth: "bearer",
      params: UserParams,
      body: z.object({ role: z.enum(["user", "moderator"]) }),
    },
    async (c, { params, body }) => {
      const user = me(c);
      const db = database(c.env);
      const ev = await ownedEvent(db, params.event_id, user);
      const updated = await db
        .update(eventInvites)
        .set({ role: body.role })
        .where(and(eq(eventInvites.eventId, ev.id), eq(eventInvites.invitee, params.user_id.toLowerCase())))
        .returning();
      if (updated.length === 0) throw OpenTalkError.notFound();
      const invitee = await findUserById(db, params.user_id.toLowerCase());
      if (invitee) await syncMember(c.env, ev, user, invitee, body.role);
      return c.body(null, 204);
    },
  );

  otRoute(
    app,
    { method: "delete", path: "/v1/events/{event_id}/invites/{user_id}", summary: "Withdraw a user's invite (creator)", tags: TAGS, auth: "bearer", params: UserParams, query: SuppressQuery },
    async (c, { params, query }) => {
      const user = me(c);
      const db = database(c.env);
      const ev = await ownedEvent(db, params.event_id, user);
      const invitee = await findUserById(db, params.user_id.toLowerCase());
      if (!invitee || !(await withdraw(c.env, db, ev, user, invitee))) throw OpenTalkError.notFound();
      await notify(db, ev, user, "event_uninvite", [invitee.email], query.suppress_email_notification);
      return c.body(null, 204);
    },
  );

  for (const [method, status, summary] of [
    ["patch", "accepted", "Accept the caller's invite"],
    ["delete", "declined", "Decline the caller's invite"],
  ] as const) {
    otRoute(app, { method, path: "/v1/events/{event_id}/invite", summary, tags: TAGS, auth: "bearer", params: EventIdParams }, async (c, { params }) => {
      const user = me(c);
      const access = await eventAccess(database(c.env), params.event_id, user);
      // The creator has no invite to answer (the reference's ACL refuses them).
      if (!access.invite) throw OpenTalkError.forbidden();
      await database(c.env).update(eventInvites).set({ status }).where(eq(eventInvites.id, access.invite.id));
      return c.body(null, 204);
    });
  }
}
