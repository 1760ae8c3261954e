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

const BASE = "/ocs/v2.php/apps/notifications/api/v2/notifications";
const TAGS = ["Notifications"];

type Row = Awaited<ReturnType<typeof notificationsOf>>[number];

/** Readable text per subject; the rich variants carry the same with placeholders. */
export function texts(row: Pick<Row, "subject">, params: Record<string, string>) {
  const room = params.roomName ?? "";
  if (row.subject === "call_ring") return { subject: `${params.callerName ?? "Someone"} wants to talk with you in ${room}`, message: "" };
  if (row.subject === "call_started") return { subject: `A call started in ${room}`, message: "" };
  if (row.subject === "mention_direct" || row.subject === "mention_all") {
    const what = row.subject === "mention_all" ? "mentioned everyone" : "mentioned you";
    return { subject: `${params.actorName ?? "Someone"} ${what} in conversation ${room}`, message: params.message ?? "" };
  }
  return { subject: row.subject, message: "" };
}

export function notificationObject(row: Row, user: UserRow, origin: string) {
  const params = JSON.parse(row.parameters) as Record<string, string>;
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
    return { data: rows.map((r) => notificationObject(r, user, origin)) };
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
