/** Talk webinar settings (seed 000): the lobby and SIP dial-in; plus the SIP bridge's PIN lookup. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import { database } from "../db/client";
import { withdrawNotifications } from "../db/notifications";
import { userGroups } from "../db/users";
import { config, type Config } from "../lib/config";
import { currentUser, type AppContext, type AppEnv } from "../lib/context";
import { hmacHex, timingSafeEqual } from "../lib/crypto";
import { OcsError, ocsFail } from "../lib/errors";
import { ocsRoute } from "../lib/route";
import type { CallerView, Outcome } from "../room/contract";
import { LOBBY_TIMER_MAX } from "../room/ops/settings";
import { roomByToken, talkRoom, TALK_V4, unwrap } from "./context";
import { presentView } from "./present";

const TAGS = ["Talk webinar"];

/** An integer parameter whose unparsable values become -1, so the handler answers them as a bad `value`. */
const lenientInt = () =>
  z.preprocess((v) => {
    if (v === null || v === undefined) return v;
    const n = typeof v === "string" && /^-?\d{1,15}$/.test(v.trim()) ? Number(v.trim()) : v;
    return typeof n === "number" && Number.isInteger(n) ? n : -1;
  }, z.number().int());

export function sipConfigured(cfg: Config): boolean {
  return Boolean(cfg.sipBridgeSecret && cfg.sipDialinInfo);
}

/**
 * Whether a request comes from the SIP bridge: `Talk-SIPBridge-Checksum` must be the hex
 * HMAC-SHA256 of `Talk-SIPBridge-Random` (at least 32 characters) + the room token.
 */
export async function isSipBridge(c: AppContext, token: string): Promise<boolean> {
  const secret = config(c.env).sipBridgeSecret;
  const random = c.req.header("talk-sipbridge-random") ?? "";
  const checksum = c.req.header("talk-sipbridge-checksum") ?? "";
  if (!secret || random.length < 32 || !checksum) return false;
  return timingSafeEqual(await hmacHex(secret, random + token), checksum.toLowerCase());
}

export function registerTalkWebinarRoutes(app: OpenAPIHono<AppEnv>) {
  const room = `${TALK_V4}/room/{token}`;

  ocsRoute(
    app,
    {
      method: "put",
      path: `${room}/webinar/lobby`,
      summary: "Set the lobby state (and timer)",
      tags: TAGS,
      auth: "user",
      // Anything that is not a valid state or timer is a bad value (`{error: "value"}`), as the reference names it.
      params: z.object({ state: lenientInt(), timer: lenientInt().nullable().optional() }),
      invalid: "value",
    },
    async (c, p, path) => {
      if (p.state !== 0 && p.state !== 1) throw ocsFail(400, "value");
      // A time the room's alarm cannot hold (past 2262, e.g. milliseconds sent as seconds) is a bad value too.
      if (p.timer !== undefined && p.timer !== null && (p.timer < 0 || p.timer > LOBBY_TIMER_MAX)) throw ocsFail(400, "value");
      const r = await talkRoom(c, path.token);
      const view = unwrap((await r.stub.updateSettings(r.caller, { lobby: { state: p.state, timer: p.timer || null } })) as Outcome<CallerView>);
      // Members the lobby now holds back are not to be called into the room.
      if (p.state === 1) await withdrawNotifications(database(c.env), "call", r.token, await r.stub.usersHeldInLobby());
      return { data: await presentView(c.env, view, r.serial, currentUser(c)?.userid) };
    },
  );

  ocsRoute(
    app,
    { method: "put", path: `${room}/webinar/sip`, summary: "Set the SIP dial-in state", tags: TAGS, auth: "user", params: z.object({ state: lenientInt() }), invalid: "value" },
    async (c, p, path) => {
      // Any state that is not 0, 1 or 2 (missing and unparsable ones fail validation) is a bad `value`.
      if (p.state < 0 || p.state > 2) throw ocsFail(400, "value");
      const cfg = config(c.env);
      const user = currentUser(c);
      let mayEnable = true;
      if (cfg.sipGroups.length > 0 && user) {
        const groups = await userGroups(database(c.env), user.id);
        mayEnable = groups.some((g) => cfg.sipGroups.includes(g));
      }
      const r = await talkRoom(c, path.token);
      const view = unwrap((await r.stub.updateSettings(r.caller, { sip: { state: p.state, mayEnable, configured: sipConfigured(cfg) } })) as Outcome<CallerView>);
      return { data: await presentView(c.env, view, r.serial, user?.userid) };
    },
  );

  ocsRoute(app, { method: "get", path: `${room}/pin/{pin}`, summary: "Find a participant by dial-in PIN (SIP bridge)", tags: TAGS, auth: "public" }, async (c, _p, path) => {
    const token = path.token ?? "";
    if (!(await isSipBridge(c, token))) throw new OcsError(401, [], "", 997);
    if (!/^\d{1,32}$/.test(path.pin ?? "")) throw new OcsError(404, []);
    const r = await roomByToken(c, token);
    const view = unwrap((await r.stub.attendeeByPin(path.pin ?? "")) as Outcome<CallerView>);
    return { data: await presentView(c.env, view, r.serial, view.attendee?.actorType === "users" ? view.attendee.actorId : undefined) };
  });
}
