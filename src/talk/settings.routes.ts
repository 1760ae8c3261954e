/**
 * Talk conversation settings (seed 003 and reference §6.1): rename, delete, public/private,
 * read-only, password, favourites, notification level and the room's default permissions.
 * Each endpoint validates its input here and leaves access checks to the room Durable Object.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { currentUser, type AppContext, type AppEnv } from "../lib/context";
import { storedPassword } from "../room/password";
import { OcsError, ocsFail } from "../lib/errors";
import { ocsInt, ocsRoute } from "../lib/route";
import { forgetToken, roomStub } from "../room/directory";
import { MAX_CUSTOM } from "../room/permissions";
import type { Outcome } from "../room/contract";
import type { CallerView } from "../room/contract";
import { talkRoom, TALK_V1, TALK_V4, unwrap } from "./context";
import { eq } from "drizzle-orm";
import { forgetVerifiedUser } from "../auth/verified";
import { database } from "../db/client";
import { roomsOfUser } from "../db/rooms";
import { users } from "../db/schema";

import { presentView } from "./present";

const TAGS = ["Talk conversations"];
/** Seed 003: a new name has 1–200 characters (after trimming; multibyte aware). */
export const RENAME_MAX_LENGTH = 200;
/** Talk 21's DESCRIPTION_MAXIMUM_LENGTH (500 before). */
export const DESCRIPTION_MAX_LENGTH = 2000;

type RoomRef = Awaited<ReturnType<typeof talkRoom>>;

/** Runs one room operation and answers with the caller's fresh conversation object. */
async function conversationAfter(c: AppContext, token: string | undefined, op: (room: RoomRef) => Promise<unknown>) {
  const room = await talkRoom(c, token);
  const view = unwrap((await op(room)) as Outcome<CallerView>);
  return { data: await presentView(c.env, view, room.serial, currentUser(c)?.userid) };
}

/** Talk's user settings EdgeTalk keeps (SettingsController::setUserSetting): the read privacy. */
const USER_SETTINGS = z.object({ key: z.string().max(64), value: z.union([z.string().max(255), z.number()]).optional() });

export function registerTalkSettingsRoutes(app: OpenAPIHono<AppEnv>) {
  ocsRoute(
    app,
    { method: "post", path: `${TALK_V1}/settings/user`, summary: "Set a Talk user setting (read_status_privacy)", tags: TAGS, auth: "user", params: USER_SETTINGS },
    async (c, p) => {
      const user = currentUser(c) as NonNullable<ReturnType<typeof currentUser>>;
      // 0 public, 1 private; anything else ("0abcdef" too) is refused, as the reference's type check does.
      const value = String(p.value ?? "");
      if (p.key !== "read_status_privacy" || (value !== "0" && value !== "1")) throw new OcsError(400, []);
      const privacy = Number(value);
      const db = database(c.env);
      await db.update(users).set({ readPrivacy: privacy }).where(eq(users.id, user.id));
      forgetVerifiedUser(user.id);
      // Every room the user is in follows (the common read marker counts public readers only).
      for (const { room } of await roomsOfUser(db, user.id)) await roomStub(c.env, room.id).setReadPrivacy(user.userid, privacy);
      return { data: [] };
    },
  );


  const room = `${TALK_V4}/room/{token}`;

  ocsRoute(
    app,
    { method: "put", path: room, summary: "Rename a conversation", tags: TAGS, auth: "public", params: z.object({ roomName: z.string().max(4000) }), invalid: "value" },
    async (c, p, path) => {
      const name = p.roomName.trim();
      const length = [...name].length;
      if (length === 0 || length > RENAME_MAX_LENGTH) throw ocsFail(400, "value");
      return conversationAfter(c, path.token, (r) => r.stub.updateSettings(r.caller, { name }));
    },
  );

  ocsRoute(
    app,
    { method: "put", path: `${room}/description`, summary: "Set the conversation's description", tags: TAGS, auth: "public", params: z.object({ description: z.string().max(100_000) }), invalid: "value" },
    async (c, p, path) => {
      // Up to 2000 characters, counted as characters (multibyte aware), not bytes.
      if ([...p.description].length > DESCRIPTION_MAX_LENGTH) throw ocsFail(400, "value");
      return conversationAfter(c, path.token, (r) => r.stub.updateSettings(r.caller, { description: p.description }));
    },
  );

  ocsRoute(app, { method: "delete", path: room, summary: "Delete a conversation", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const r = await talkRoom(c, path.token);
    unwrap(await r.stub.destroy(r.caller));
    forgetToken(r.token);
    return { data: null };
  });

  ocsRoute(app, { method: "post", path: `${room}/public`, summary: "Allow guests (make public)", tags: TAGS, auth: "user", invalid: "value" }, async (c, _p, path) =>
    conversationAfter(c, path.token, (r) => r.stub.updateSettings(r.caller, { public: true })),
  );

  ocsRoute(app, { method: "delete", path: `${room}/public`, summary: "Disallow guests (make private)", tags: TAGS, auth: "user", invalid: "value" }, async (c, _p, path) =>
    conversationAfter(c, path.token, (r) => r.stub.updateSettings(r.caller, { public: false })),
  );

  ocsRoute(
    app,
    { method: "put", path: `${room}/listable`, summary: "Set who may find and join the conversation", tags: TAGS, auth: "user", params: z.object({ scope: ocsInt() }), invalid: "value" },
    async (c, p, path) => {
      // 0 participants only, 1 registered users, 2 also users of the Guests app.
      if (p.scope < 0 || p.scope > 2) throw ocsFail(400, "value");
      return conversationAfter(c, path.token, (r) => r.stub.updateSettings(r.caller, { listable: p.scope }));
    },
  );

  ocsRoute(
    app,
    { method: "put", path: `${room}/read-only`, summary: "Set read-only", tags: TAGS, auth: "user", params: z.object({ state: ocsInt() }), invalid: "value" },
    async (c, p, path) => {
      if (p.state !== 0 && p.state !== 1) throw ocsFail(400, "value");
      return conversationAfter(c, path.token, (r) => r.stub.updateSettings(r.caller, { readOnly: p.state }));
    },
  );

  ocsRoute(
    app,
    { method: "put", path: `${room}/password`, summary: "Set or remove the password", tags: TAGS, auth: "public", params: z.object({ password: z.string().max(1024) }), invalid: "value" },
    async (c, p, path) => {
      const password = p.password === "" ? null : await storedPassword(c.env, p.password);
      return conversationAfter(c, path.token, (r) => r.stub.updateSettings(r.caller, { password }));
    },
  );

  ocsRoute(app, { method: "post", path: `${room}/favorite`, summary: "Add to favorites", tags: TAGS, auth: "user" }, async (c, _p, path) =>
    conversationAfter(c, path.token, (r) => r.stub.setPreference(r.caller, "favorite", 1)),
  );

  ocsRoute(app, { method: "delete", path: `${room}/favorite`, summary: "Remove from favorites", tags: TAGS, auth: "user" }, async (c, _p, path) =>
    conversationAfter(c, path.token, (r) => r.stub.setPreference(r.caller, "favorite", 0)),
  );

  ocsRoute(
    app,
    { method: "post", path: `${room}/notify`, summary: "Set the notification level", tags: TAGS, auth: "user", params: z.object({ level: ocsInt() }), invalid: "level" },
    async (c, p, path) => {
      if (p.level < 1 || p.level > 3) throw ocsFail(400, "level");
      return conversationAfter(c, path.token, (r) => r.stub.setPreference(r.caller, "notification_level", p.level));
    },
  );

  ocsRoute(
    app,
    { method: "post", path: `${room}/notify-calls`, summary: "Turn call notifications on or off", tags: TAGS, auth: "user", params: z.object({ level: ocsInt() }), invalid: "level" },
    async (c, p, path) => {
      if (p.level !== 0 && p.level !== 1) throw ocsFail(400, "level");
      return conversationAfter(c, path.token, (r) => r.stub.setPreference(r.caller, "notification_calls", p.level));
    },
  );

  ocsRoute(
    app,
    {
      method: "put",
      path: `${room}/permissions/{mode}`,
      summary: "Set the conversation's default permissions",
      tags: TAGS,
      auth: "public",
      params: z.object({ permissions: ocsInt() }),
      invalid: "value",
    },
    async (c, p, path) => {
      // `call` permissions were removed in Talk 20; only the room default remains.
      if (path.mode !== "default") throw ocsFail(400, "mode");
      if (p.permissions < 0 || p.permissions > MAX_CUSTOM) throw ocsFail(400, "value");
      return conversationAfter(c, path.token, (r) => r.stub.updateSettings(r.caller, { defaultPermissions: p.permissions }));
    },
  );
}
