/** Conversation avatars (`api/v1/room/{token}/avatar[/dark]`) for those who may see the conversation. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { png } from "../cloud/avatar.routes";
import { avatarColor, avatarLetter, renderAvatar } from "../lib/avatar";
import { currentUser, type AppEnv } from "../lib/context";
import { OcsError } from "../lib/errors";
import { RoomType } from "../room/types";
import { roomByToken, talkCaller, TALK_V1 } from "./context";
import { presentView } from "./present";

export function registerTalkAvatarRoutes(app: OpenAPIHono<AppEnv>) {
  for (const dark of [false, true]) {
    app.get(`${TALK_V1}/room/:token/avatar${dark ? "/dark" : ""}`, async (c) => {
      const room = await roomByToken(c, c.req.param("token") ?? "");
      const view = await room.stub.view(await talkCaller(c));
      if (!view || (!view.attendee && view.meta.type !== RoomType.Public)) throw new OcsError(404, []);
      const conversation = (await presentView(c.env, view, room.serial, currentUser(c)?.userid)) as { name: string; displayName: string };
      // One-to-one: the other person's avatar; otherwise the conversation's own.
      const seed = view.meta.type === RoomType.OneToOne ? conversation.name : room.token;
      return png(await renderAvatar(avatarLetter(conversation.displayName), await avatarColor(seed), 512, dark));
    });
  }
}
