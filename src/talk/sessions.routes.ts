/** Talk sessions: join and leave a conversation (seed 002). */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { currentUser, type AppEnv } from "../lib/context";
import { OcsError } from "../lib/errors";
import { ocsBool, ocsRoute } from "../lib/route";
import { resolveToken, roomStub } from "../room/directory";
import type { Outcome } from "../room/outcome";
import type { CallerView } from "../room/room";
import { roomByToken, talkCaller, TALK_V4 } from "./context";
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
      const room = await roomByToken(c, path.token ?? "");
      // RPC wraps the union in Disposable, which defeats narrowing; restore the declared type.
      const result = (await room.stub.join(await talkCaller(c), { password: p.password, force: p.force ?? true })) as Outcome<CallerView>;
      if (!result.ok) {
        if (result.status === 409) throw new OcsError(409, result.data);
        if (result.status === 403) throw new OcsError(403, { error: result.reason });
        throw new OcsError(404, []);
      }
      return { data: await presentView(c.env, result.value, room.serial, currentUser(c)?.userid) };
    },
  );

  ocsRoute(
    app,
    { method: "delete", path: `${TALK_V4}/room/{token}/participants/active`, summary: "Leave a conversation (end the session)", tags: TAGS, auth: "public" },
    async (c, _p, path) => {
      const found = await resolveToken(c.env, path.token ?? "");
      if (found) await roomStub(c.env, found.id).leave(await talkCaller(c));
      return { data: null };
    },
  );
}
