/**
 * The Nextcloud notifications API (v2), as far as Talk clients use it: call notifications
 * (a ring, a call that started) listed, dismissed one by one or all at once.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { database } from "../db/client";
import { dismissAllNotifications, dismissNotification, notificationsOf } from "../db/notifications";
import type { UserRow } from "../db/schema";
import { currentUser, type AppEnv } from "../lib/context";
import { OcsError, ocsNotLoggedIn } from "../lib/errors";
import { ocsRoute } from "../lib/route";
import { resolveToken, roomStub } from "../room/directory";

const BASE = "/ocs/v2.php/apps/notifications/api/v2/notifications";
const TAGS = ["Notifications"];

type Row = Awaited<ReturnType<typeof notificationsOf>>[number];

/** Readable text per subject; the rich variants carry the same with placeholders. */
export function texts(row: Pick<Row, "subject">, params: Record<string, string>) {
  const room = params.roomName ?? "";
  // Rings stored before they became call notifications anew (`call_started`).
  if (row.subject === "call_ring") return { subject: `${params.callerName ?? "Someone"} wants to talk with you in ${room}`, message: "" };
  // The reference's wording: a one-to-one call is a person wanting to talk, a group call has started.
  if (row.subject === "call_started") {
    // A call that is over (or a later one runs) was missed: the reference words it at read time.
    if (params.missed === "1") return { subject: params.oneToOne === "1" ? `You missed a call from ${params.callerName || "Someone"}` : `You missed a group call in ${room}`, message: "" };
    return { subject: params.oneToOne === "1" ? `${params.callerName || "Someone"} wants to talk with you` : `A group call has started in ${room}`, message: "" };
  }
  if (row.subject === "room_invitation") return { subject: `${params.actorName ?? "Someone"} invited you to a group conversation: ${room}`, message: "" };
  const chat = chatSubject(row.subject, params);
  if (chat !== null) return { subject: chat, message: params.message ?? "" };
  return { subject: row.subject, message: "" };
}

/** The reference's chat notification subjects (its chat Notifier), one-to-one rooms in their private wording. */
function chatSubject(subject: string, params: Record<string, string>): string | null {
  const actor = params.actorName || "A guest";
  const room = params.roomName ?? "";
  const private_ = params.oneToOne === "1";
  switch (subject) {
    case "chat_private":
      return `${actor} sent you a private message`;
    case "chat_message":
      return `${actor} sent a message in conversation ${room}`;
    case "chat_mention":
    case "chat_mention_all":
      if (private_) return `${actor} mentioned you in a private conversation`;
      return subject === "chat_mention" ? `${actor} mentioned you in conversation ${room}` : `${actor} mentioned everyone in conversation ${room}`;
    case "chat_mention_group":
      return `${actor} mentioned group ${params.group ?? ""} in conversation ${room}`;
    case "chat_reply":
      return private_ ? `${actor} replied to your private message` : `${actor} replied to your message in conversation ${room}`;
    default:
      return null;
  }
}

/**
 * `callStarts`: per conversation token, when its running call started (null: no call). A call
 * notification whose call is no longer running reads as a missed call.
 */
export function notificationObject(row: Row, user: UserRow, origin: string, callStarts: Map<string, number | null> = new Map()) {
  const params = JSON.parse(row.parameters) as Record<string, string>;
  if (row.subject === "call_started" && callStarts.has(row.objectId)) {
    const running = callStarts.get(row.objectId) ?? null;
    if (running === null || (params.callStartTime !== undefined && Number(params.callStartTime) !== running)) params.missed = "1";
  }
  const { subject, message } = texts(row, params);
  return {
    notification_id: row.id,
    app: row.app,
    user: user.userid,
    datetime: new Date(row.createdAt * 1000).toISOString().replace(/\.\d{3}Z$/, "+00:00"),
    object_type: row.objectType,
    object_id: row.objectId,
    subject,
    message,
    link: row.app === "spreed" ? `${origin}/index.php/call/${row.objectId}` : "",
    subjectRich: subject,
    subjectRichParameters: {},
    messageRich: message,
    messageRichParameters: {},
    icon: "",
    shouldNotify: true,
    actions: [],
  };
}

export function registerNotificationRoutes(app: OpenAPIHono<AppEnv>) {
  ocsRoute(app, { method: "get", path: BASE, summary: "List notifications", tags: TAGS, auth: "user" }, async (c) => {
    const user = currentUser(c);
    if (!user) throw ocsNotLoggedIn();
    const rows = await notificationsOf(database(c.env), user.id);
    const origin = new URL(c.req.url).origin;
    const callStarts = new Map<string, number | null>();
    const tokens = [...new Set(rows.filter((r) => r.subject === "call_started").map((r) => r.objectId))];
    await Promise.all(
      tokens.map(async (token) => {
        const found = await resolveToken(c.env, token);
        callStarts.set(token, found ? await roomStub(c.env, found.id).callStartTime() : null);
      }),
    );
    return { data: rows.map((r) => notificationObject(r, user, origin, callStarts)) };
  });

  ocsRoute(app, { method: "delete", path: `${BASE}/{id}`, summary: "Dismiss a notification", tags: TAGS, auth: "user" }, async (c, _p, path) => {
    const user = currentUser(c);
    if (!user) throw ocsNotLoggedIn();
    const id = Number(path.id);
    if (!Number.isSafeInteger(id) || id <= 0 || !(await dismissNotification(database(c.env), user.id, id))) throw new OcsError(404, []);
    return { data: [] };
  });

  ocsRoute(app, { method: "delete", path: BASE, summary: "Dismiss all notifications", tags: TAGS, auth: "user" }, async (c) => {
    const user = currentUser(c);
    if (!user) throw ocsNotLoggedIn();
    await dismissAllNotifications(database(c.env), user.id);
    return { data: [] };
  });
}
