/**
 * Nextcloud's user status API (`/ocs/v2.php/apps/user_status/api/v1`), as Talk Desktop calls it on
 * every start (own status, heartbeat every 5 minutes) and as participant lists show it.
 *
 * Statuses: online, away, dnd, busy, invisible, offline. A status set by the heartbeat (not by the
 * user) falls back to offline when no heartbeat came for 5 minutes; a user-chosen one stays. Others
 * see `invisible` as `offline`. A custom message may carry an icon and a time at which it clears.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { database, type Db } from "../db/client";
import type { UserRow } from "../db/schema";
import { findUserStatus, findUserStatuses, saveUserStatus, type UserStatusRow } from "../db/user-status";
import { findUserByLogin } from "../db/users";
import { currentUser, type AppEnv } from "../lib/context";
import { OcsError } from "../lib/errors";
import { ocsInt, ocsRoute } from "../lib/route";

const BASE = "/ocs/v2.php/apps/user_status/api/v1";
const TAGS = ["Nextcloud user status"];
export const STATUS_TYPES = ["online", "away", "dnd", "busy", "invisible", "offline"] as const;
/** A heartbeat status older than this is offline (Nextcloud's user_status background job). */
const HEARTBEAT_TIMEOUT = 5 * 60;

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The status as it holds now: an expired message is gone, a stale heartbeat status is offline. */
export function effective(row: UserStatusRow, now = nowSeconds()): UserStatusRow {
  const out = { ...row };
  if (out.clearAt !== null && out.clearAt <= now) Object.assign(out, { message: null, messageId: null, icon: null, clearAt: null });
  if (!out.isUserDefined && out.status !== "offline" && out.statusTimestamp < now - HEARTBEAT_TIMEOUT) out.status = "offline";
  return out;
}

function present(row: UserStatusRow, userid: string) {
  return {
    userId: userid,
    message: row.message,
    messageId: row.messageId,
    messageIsPredefined: row.messageId !== null,
    icon: row.icon,
    clearAt: row.clearAt,
    status: row.status,
    statusIsUserDefined: row.isUserDefined,
  };
}

/** Public view for others (participant lists, `statuses/{userId}`): invisible looks offline. */
export function publicStatus(row: UserStatusRow | undefined) {
  if (!row) return { status: "offline", icon: null, message: null, clearAt: null };
  const e = effective(row);
  return { status: e.status === "invisible" ? "offline" : e.status, icon: e.icon, message: e.message, clearAt: e.clearAt };
}

export async function publicStatuses(db: Db, userIds: string[]) {
  const rows = await findUserStatuses(db, userIds);
  return new Map(userIds.map((id) => [id, publicStatus(rows.find((r) => r.userId === id))]));
}

function blank(userId: string): UserStatusRow {
  return { userId, status: "offline", statusTimestamp: nowSeconds(), isUserDefined: false, message: null, messageId: null, icon: null, clearAt: null };
}

const StatusParams = z.object({ statusType: z.enum(STATUS_TYPES) });
const CustomParams = z.object({
  statusIcon: z.string().max(30).nullable().optional(),
  message: z.string().max(80).nullable().optional(),
  clearAt: ocsInt().pipe(z.number().min(0).max(4_102_444_800)).nullable().optional(),
});
const HeartbeatParams = z.object({ status: z.enum(["online", "away"]) });

export function registerUserStatusRoutes(app: OpenAPIHono<AppEnv>) {
  const me = (c: Parameters<typeof currentUser>[0]) => currentUser(c) as UserRow;

  ocsRoute(app, { method: "get", path: `${BASE}/user_status`, summary: "Own status", tags: TAGS, auth: "user" }, async (c) => {
    const row = await findUserStatus(database(c.env), me(c).id);
    if (!row) throw new OcsError(404, [], "No status for the current user", 404);
    return { data: present(effective(row), me(c).userid) };
  });

  ocsRoute(app, { method: "put", path: `${BASE}/user_status/status`, summary: "Set own status", tags: TAGS, auth: "user", params: StatusParams }, async (c, p) => {
    const db = database(c.env);
    const row = (await findUserStatus(db, me(c).id)) ?? blank(me(c).id);
    // Choosing "online" hands the status back to the heartbeat; anything else the user holds.
    const saved = await saveUserStatus(db, { ...effective(row), status: p.statusType, statusTimestamp: nowSeconds(), isUserDefined: p.statusType !== "online" });
    return { data: present(saved, me(c).userid) };
  });

  ocsRoute(app, { method: "put", path: `${BASE}/user_status/message/custom`, summary: "Set own status message", tags: TAGS, auth: "user", params: CustomParams }, async (c, p) => {
    const db = database(c.env);
    if (p.clearAt != null && p.clearAt <= nowSeconds()) throw new OcsError(400, { error: "clearAt" }, "Invalid clearAt value", 400);
    const row = (await findUserStatus(db, me(c).id)) ?? blank(me(c).id);
    const saved = await saveUserStatus(db, {
      ...effective(row),
      message: p.message?.trim() || null,
      icon: p.statusIcon || null,
      messageId: null,
      clearAt: p.clearAt ?? null,
    });
    return { data: present(saved, me(c).userid) };
  });

  ocsRoute(app, { method: "delete", path: `${BASE}/user_status/message`, summary: "Clear own status message", tags: TAGS, auth: "user" }, async (c) => {
    const db = database(c.env);
    const row = await findUserStatus(db, me(c).id);
    if (row) await saveUserStatus(db, { ...row, message: null, messageId: null, icon: null, clearAt: null });
    return { data: [] };
  });

  ocsRoute(app, { method: "put", path: `${BASE}/heartbeat`, summary: "Heartbeat: online or away while a client is open", tags: TAGS, auth: "user", params: HeartbeatParams }, async (c, p) => {
    const db = database(c.env);
    const row = effective((await findUserStatus(db, me(c).id)) ?? blank(me(c).id));
    // A status the user chose (away, dnd, busy, invisible) is not overridden by the heartbeat.
    const next = row.isUserDefined && row.status !== "online" ? { ...row } : { ...row, status: p.status, isUserDefined: false };
    const saved = await saveUserStatus(db, { ...next, statusTimestamp: nowSeconds() });
    return { data: present(saved, me(c).userid) };
  });

  ocsRoute(app, { method: "get", path: `${BASE}/statuses/{userid}`, summary: "Another user's public status", tags: TAGS, auth: "user" }, async (c, _p, path) => {
    const db = database(c.env);
    const user = await findUserByLogin(db, path.userid ?? "");
    const row = user ? await findUserStatus(db, user.id) : undefined;
    if (!user || !row) throw new OcsError(404, [], "No status for the requested userId", 404);
    const pub = publicStatus(row);
    return { data: { userId: user.userid, message: pub.message, icon: pub.icon, clearAt: pub.clearAt, status: pub.status } };
  });
}
