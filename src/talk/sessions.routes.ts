/** Talk sessions: join and leave a conversation (seed 002). */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { database } from "../db/client";
import { withdrawNotifications } from "../db/notifications";
import { currentUser, type AppEnv } from "../lib/context";
import { ocsBool, ocsInt, ocsRoute } from "../lib/route";
import { resolveToken, roomStub } from "../room/directory";
import { talkCaller, talkRoom, TALK_V4, unwrap } from "./context";
import { presentView } from "./present";

const TAGS = ["Talk participants"];

export function registerTalkSessionRoutes(app: OpenAPIHono<AppEnv>) {
  ocsRoute(
    app,
    {
      method: "post",
      path: `${TALK_V4}/room/{token}/participants/active`,
      summary: "Join a conversation (start a session)",
      tags: TAGS,
      auth: "public",
      params: z.object({ password: z.string().max(1024).optional(), force: ocsBool().optional() }),
    },
    async (c, p, path) => {
      const room = await talkRoom(c, path.token);
      const view = unwrap(await room.stub.join(room.caller, { password: p.password, force: p.force ?? true }));
      const user = currentUser(c);
      // Joining answers the invitation to the conversation (its notification goes, as in the reference).
      const [data] = await Promise.all([
        presentView(c.env, view, room.serial, user?.userid),
        user && view.invitationAnswered ? withdrawNotifications(database(c.env), "room", room.token, [user.id]) : Promise.resolve(),
      ]);
      return { data };
    },
  );

  ocsRoute(
    app,
    {
      method: "put",
      path: `${TALK_V4}/room/{token}/participants/state`,
      summary: "Mark the session active or inactive",
      tags: TAGS,
      auth: "public",
      // Any integer: a caller without a session is told so (404) before a bad state is (400 state).
      params: z.object({ state: ocsInt() }),
    },
    async (c, p, path) => {
      const room = await talkRoom(c, path.token);
      // The reference answers with the conversation, as the caller now sees it.
      const view = unwrap(await room.stub.setSessionState(room.caller, p.state));
      return { data: await presentView(c.env, view, room.serial, currentUser(c)?.userid) };
    },
  );

  ocsRoute(
    app,
    { method: "delete", path: `${TALK_V4}/room/{token}/participants/active`, summary: "Leave a conversation (end the session)", tags: TAGS, auth: "public" },
    async (c, _p, path) => {
      // Always 200, even for unknown rooms or callers without a session (reference §6.2).
      const found = await resolveToken(c.env, path.token ?? "");
      if (found) await roomStub(c.env, found.id).leave(await talkCaller(c));
      return { data: null };
    },
  );
}
