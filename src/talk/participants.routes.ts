/**
 * Talk participants (seed 002 and reference §6.2): list, add, remove, leave for good, promote and
 * demote, attendee permissions, resending email invitations and guest display names.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { OFFLINE, statusesByLogin } from "./status";
import { database } from "../db/client";
import { queueEmails } from "../db/outbox";
import { findGroup, findUserByLogin, findUsersByIds, groupMemberIds, usersWithGroups } from "../db/users";
import { config } from "../lib/config";
import { currentUser, type AppContext, type AppEnv } from "../lib/context";
import { notifyUsers } from "../cloud/notify";
import { withdrawNotifications } from "../db/notifications";
import { sha256Hex } from "../lib/crypto";
import { ocsFail } from "../lib/errors";
import { ocsBool, ocsInt, ocsRoute } from "../lib/route";
import { forgetToken } from "../room/directory";
import type { Outcome } from "../room/contract";
import { effectivePermissions, isLoggedInModeratorType, MAX_CUSTOM, type PermissionMethod } from "../room/permissions";
import type { CallerView, ListedAttendee, ParticipantList } from "../room/contract";
import { ParticipantType, RoomType, type Attendee, type NewMember, type RoomMeta, type Session } from "../room/types";
import { talkRoom, TALK_V1, TALK_V4, unwrap } from "./context";
import { presentView } from "./present";

const TAGS = ["Talk participants"];
const SOURCES = ["users", "groups", "emails", "circles", "teams"] as const;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** One entry of `GET …/participants` (reference §4.1). */
export function participantObject(list: ParticipantList, attendee: ListedAttendee, token: string, sessions = list.sessions.filter((s) => s.attendeeId === attendee.id)) {
  const seesPrivate = isLoggedInModeratorType(list.self.participantType) || list.self.id === attendee.id;
  // A literal of fixed shape and one optional field added (see conversation()).
  const fields = {
    roomToken: token,
    attendeeId: attendee.id,
    actorType: attendee.actorType,
    actorId: attendee.actorId,
    displayName: attendee.displayName,
    participantType: attendee.participantType,
    inCall: sessions.reduce((flags, s) => flags | s.inCall, 0),
    lastPing: sessions.reduce((last, s) => Math.max(last, s.lastPing), 0),
    sessionIds: sessions.map((s) => s.id),
    permissions: effectivePermissions(attendee.participantType, attendee.permissions, list.meta.defaultPermissions),
    attendeePermissions: attendee.permissions,
    attendeePin: seesPrivate && list.meta.sipEnabled !== 0 ? attendee.pin : "",
  };
  const participant: typeof fields & { invitedActorId?: ListedAttendee["invitedEmail"] } = fields;
  if (attendee.actorType === "emails" && seesPrivate) participant.invitedActorId = attendee.invitedEmail;
  return participant;
}

/** The permission change method: `method` as clients send it, `mode` as the seed names it. */
function permissionMethod(p: { method?: string; mode?: string }): PermissionMethod {
  const method = p.method ?? p.mode;
  if (method !== "set" && method !== "add" && method !== "remove") throw ocsFail(400, "method");
  return method;
}

function permissionValue(value: number): number {
  if (value < 0 || value > MAX_CUSTOM) throw ocsFail(400, "value");
  return value;
}

const PermissionParams = z.object({ method: z.string().max(16).optional(), mode: z.string().max(16).optional(), permissions: ocsInt() });
const AttendeeParams = z.object({ attendeeId: ocsInt() });

/** Resolves `newParticipant` of the given source into the attendees to add. */
async function newMembers(c: AppContext, source: string, target: string): Promise<NewMember[]> {
  const db = database(c.env);
  if (source === "users") {
    const user = await findUserByLogin(db, target);
    if (!user) throw ocsFail(404, "new-participant");
    return [{ actorType: "users", actorId: user.userid, displayName: user.displayName, participantType: ParticipantType.User, userUuid: user.id }];
  }
  if (source === "groups") {
    const group = await findGroup(db, target);
    if (!group) throw ocsFail(404, "new-participant");
    const members = await findUsersByIds(db, await groupMemberIds(db, group.id));
    return [
      { actorType: "groups", actorId: group.id, displayName: group.displayName, participantType: ParticipantType.User },
      ...members.map((u) => ({ actorType: "users" as const, actorId: u.userid, displayName: u.displayName, participantType: ParticipantType.User, userUuid: u.id })),
    ];
  }
  if (source === "emails") {
    const email = target.trim().toLowerCase();
    if (!EMAIL.test(email)) throw ocsFail(400, "new-participant");
    // The address is not the actor id: other participants see its SHA-256 (of the lowercased
    // address, as spreed computes it), moderators the address.
    const actorId = await sha256Hex(email);
    return [{ actorType: "emails", actorId, displayName: "", participantType: ParticipantType.Guest, invitedEmail: email }];
  }
  // Teams (circles) are not available in EdgeTalk; the capability is not advertised.
  throw ocsFail(400, "source");
}

/** Queues one invitation email per email invitee. */
async function queueInvitations(c: AppContext, meta: RoomMeta, invitees: Attendee[]): Promise<void> {
  const base = config(c.env).publicUrl || new URL(c.req.url).origin;
  const inviter = currentUser(c);
  await queueEmails(
    database(c.env),
    invitees.map((a) => ({
      recipient: a.invitedEmail,
      template: "talk.invitation",
      payload: { roomToken: meta.token, roomName: meta.name, invitedBy: inviter?.displayName ?? "", link: `${base}/index.php/call/${meta.token}` },
    })),
  );
}


export function registerTalkParticipantRoutes(app: OpenAPIHono<AppEnv>) {
  const room = `${TALK_V4}/room/{token}`;

  ocsRoute(
    app,
    {
      method: "get",
      path: `${room}/participants`,
      summary: "List the participants",
      tags: TAGS,
      auth: "public",
      params: z.object({ includeStatus: ocsBool().optional() }),
    },
    async (c, p, path) => {
      const r = await talkRoom(c, path.token);
      const list = unwrap((await r.stub.participants(r.caller)) as Outcome<ParticipantList>);
      // Each attendee's sessions, grouped in one pass.
      const byAttendee = new Map<number, Session[]>();
      for (const s of list.sessions) {
        const own = byAttendee.get(s.attendeeId);
        if (own) own.push(s);
        else byAttendee.set(s.attendeeId, [s]);
      }
      const data = list.attendees.map((a) => participantObject(list, a, r.token, byAttendee.get(a.id) ?? []));
      if (!p.includeStatus) return { data };
      const users = list.attendees.filter((a) => a.actorType === "users").map((a) => a.actorId);
      const statuses = await statusesByLogin(c.env, users);
      return { data: data.map((o, i) => (list.attendees[i]?.actorType === "users" ? { ...o, ...(statuses.get(list.attendees[i]?.actorId ?? "") ?? OFFLINE) } : o)) };
    },
  );

  ocsRoute(
    app,
    {
      method: "post",
      path: `${room}/participants`,
      summary: "Add a user, group or email invitee",
      tags: TAGS,
      auth: "user",
      params: z.object({ newParticipant: z.string().min(1).max(255), source: z.string().max(32).optional() }),
      invalid: { newParticipant: "new-participant", source: "source", "*": "new-participant" },
    },
    async (c, p, path) => {
      const source = p.source === "teams" ? "circles" : (p.source ?? "users");
      if (!(SOURCES as readonly string[]).includes(source)) throw ocsFail(400, "source");
      const r = await talkRoom(c, path.token);
      // The room's rules first (404/403/400 before 404 new-participant): adding nobody checks them.
      unwrap(await r.stub.addParticipants(r.caller, []));
      const members = await newMembers(c, source, p.newParticipant);
      const added = unwrap(await r.stub.addParticipants(r.caller, members));
      await queueInvitations(c, added.meta, added.invited);
      // Users added to a group or public conversation hear about it ("… invited you to a group conversation").
      if (added.meta.type === RoomType.Group || added.meta.type === RoomType.Public) {
        const actorName = currentUser(c)?.displayName ?? "";
        await notifyUsers(
          c,
          added.addedUsers.map((u) => ({ userId: u.userUuid, app: "spreed", objectType: "room", objectId: r.token, subject: "room_invitation", parameters: { roomName: added.meta.name, actorName } })),
        );
      }
      return { data: added.typeChanged ? { type: added.type } : [] };
    },
  );

  ocsRoute(
    app,
    { method: "delete", path: `${room}/attendees`, summary: "Remove an attendee", tags: TAGS, auth: "public", params: AttendeeParams, invalid: "participant" },
    async (c, p, path) => {
      const r = await talkRoom(c, path.token);
      const removal = unwrap(await r.stub.removeAttendee(r.caller, p.attendeeId));
      if (removal.roomDeleted) forgetToken(r.token);
      // A removed user's invitation to the conversation is withdrawn.
      if (removal.removedUser) await withdrawNotifications(database(c.env), "room", r.token, [removal.removedUser]);
      // A removed group takes along its members who have no other way in (reference: group members follow).
      if (removal.removedGroup) {
        const db = database(c.env);
        unwrap(await r.stub.pruneGroupLeavers(await usersWithGroups(db, await groupMemberIds(db, removal.removedGroup))));
      }
      return { data: null };
    },
  );

  ocsRoute(app, { method: "delete", path: `${room}/participants/self`, summary: "Leave a conversation for good", tags: TAGS, auth: "user", invalid: "participant" }, async (c, _p, path) => {
    const r = await talkRoom(c, path.token);
    if (unwrap(await r.stub.removeSelf(r.caller)).roomDeleted) forgetToken(r.token);
    return { data: null };
  });

  ocsRoute(
    app,
    { method: "post", path: `${room}/moderators`, summary: "Promote to moderator", tags: TAGS, auth: "public", params: AttendeeParams },
    async (c, p, path) => {
      const r = await talkRoom(c, path.token);
      unwrap(await r.stub.changeRole(r.caller, p.attendeeId, "promote"));
      return { data: null };
    },
  );

  ocsRoute(
    app,
    { method: "delete", path: `${room}/moderators`, summary: "Demote a moderator", tags: TAGS, auth: "public", params: AttendeeParams },
    async (c, p, path) => {
      const r = await talkRoom(c, path.token);
      unwrap(await r.stub.changeRole(r.caller, p.attendeeId, "demote"));
      return { data: null };
    },
  );

  ocsRoute(
    app,
    {
      method: "put",
      path: `${room}/attendees/permissions`,
      summary: "Set, add or remove permissions of one attendee",
      tags: TAGS,
      auth: "public",
      params: PermissionParams.extend({ attendeeId: ocsInt() }),
      invalid: { attendeeId: "participant", method: "method", mode: "method", permissions: "value", "*": "value" },
    },
    async (c, p, path) => {
      const method = permissionMethod(p);
      const value = permissionValue(p.permissions);
      const r = await talkRoom(c, path.token);
      const list = unwrap((await r.stub.setAttendeePermissions(r.caller, p.attendeeId, method, value)) as Outcome<ParticipantList>);
      return { data: list.attendees.map((a) => participantObject(list, a, r.token)) };
    },
  );

  ocsRoute(
    app,
    {
      method: "put",
      path: `${room}/attendees/permissions/all`,
      summary: "Set, add or remove permissions of every attendee",
      tags: TAGS,
      auth: "public",
      params: PermissionParams,
    },
    async (c, p, path) => {
      const method = permissionMethod(p);
      const value = permissionValue(p.permissions);
      const r = await talkRoom(c, path.token);
      const view = unwrap((await r.stub.setAllPermissions(r.caller, method, value)) as Outcome<CallerView>);
      return { data: await presentView(c.env, view, r.serial, currentUser(c)?.userid) };
    },
  );

  ocsRoute(
    app,
    {
      method: "post",
      path: `${room}/participants/resend-invitations`,
      summary: "Resend invitation emails",
      tags: TAGS,
      auth: "user",
      params: z.object({ attendeeId: ocsInt().nullable().optional() }),
    },
    async (c, p, path) => {
      const r = await talkRoom(c, path.token);
      const targets = unwrap(await r.stub.invitationTargets(r.caller, p.attendeeId ?? null));
      await queueInvitations(c, targets.meta, targets.invitees);
      return { data: null };
    },
  );

  ocsRoute(
    app,
    {
      method: "post",
      path: `${TALK_V1}/guest/{token}/name`,
      summary: "Set the display name as a guest",
      tags: TAGS,
      auth: "public",
      params: z.object({ displayName: z.string().max(255) }),
    },
    async (c, p, path) => {
      const r = await talkRoom(c, path.token);
      unwrap(await r.stub.setGuestName(r.caller, p.displayName.trim()));
      return { data: null };
    },
  );
}
