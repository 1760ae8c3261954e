/**
 * User avatars (`/index.php/avatar/{user}/{size}[/dark]`, public as in Nextcloud), generated: the
 * first letter of the display name on a colour from the account id. Conversation avatars are in
 * src/talk/avatar.routes.ts.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { database } from "../db/client";
import { findUserByLogin } from "../db/users";
import { avatarColor, avatarLetter, avatarSize, renderAvatar } from "../lib/avatar";
import type { AppContext, AppEnv } from "../lib/context";

export function png(bytes: Uint8Array, extra: Record<string, string> = {}): Response {
  return new Response(bytes, {
    headers: { "Content-Type": "image/png", "Cache-Control": "public, max-age=86400", "X-NC-IsCustomAvatar": "0", ...extra },
  });
}

async function userAvatar(c: AppContext, dark: boolean): Promise<Response> {
  const size = Number(c.req.param("size"));
  if (!Number.isInteger(size) || size < 1 || size > 2048) return c.body(null, 400);
  const user = await findUserByLogin(database(c.env), c.req.param("user") ?? "");
  if (!user) return c.body(null, 404);
  return png(await renderAvatar(avatarLetter(user.displayName || user.userid), await avatarColor(user.userid), avatarSize(size), dark));
}

export function registerAvatarRoutes(app: OpenAPIHono<AppEnv>) {
  for (const prefix of ["/index.php/avatar", "/avatar"]) {
    app.get(`${prefix}/:user/:size`, (c) => userAvatar(c, false));
    app.get(`${prefix}/:user/:size/dark`, (c) => userAvatar(c, true));
  }
}
